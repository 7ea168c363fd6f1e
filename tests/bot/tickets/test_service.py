"""Ticket service: references, creation with classification and SLA, look-up, changes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from bot.reports.rollups import time_tickets
from bot.textscan import TICKET_CODE_ALPHABET
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.schemas import MAX_DESCRIPTION, TicketCreate
from bot.tickets.service import (
    TicketError,
    add_comment,
    add_customer_info,
    assign_ticket,
    change_status,
    find_ticket_for_customer,
    get_ticket,
    latest_reply,
    new_reference,
    normalise_reference,
    search_tickets,
    set_priority,
)
from tests.factories import NOW, make_ticket, make_user, plain_settings

REFERENCE_SHAPE = re.compile(r"^TCK-[A-Z2-7]{6}$")


def events_of(session, ticket: Ticket) -> list[tuple[str, str | None, str | None]]:
    rows = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    )
    return [(event.kind, event.from_value, event.to_value) for event in rows]


def ticket_count(session) -> int:
    return session.scalar(select(func.count(Ticket.id)))


# --- references -------------------------------------------------------------------------


def test_new_reference_is_tck_and_six_base32_characters():
    for _ in range(50):
        reference = new_reference()
        assert REFERENCE_SHAPE.match(reference), reference
        assert set(reference[4:]) <= set(TICKET_CODE_ALPHABET)


def test_ticket_references_are_unique_and_not_sequential(session):
    references = [make_ticket(session, customer_email=None).reference for _ in range(200)]

    assert len(set(references)) == 200
    assert all(REFERENCE_SHAPE.match(reference) for reference in references)
    # Not a counter: creation order is not sorted order, and the codes share no prefix.
    assert references != sorted(references)
    assert len({reference[4:7] for reference in references}) > 100
    assert ticket_count(session) == 200


@pytest.mark.parametrize(
    "typed",
    ["TCK-7QK2MD", "tck-7qk2md", "tck 7qk2md", "tck_7qk2md", "TCK7QK2MD", "7qk2md", " 7QK2MD. ",
     "my ticket is TCK-7QK2MD, thanks"],
)
def test_reference_typed_in_any_form_is_understood(typed):
    assert normalise_reference(typed) == "TCK-7QK2MD"


@pytest.mark.parametrize("typed", ["hello", "thanks", "parcel", "ticket", "abcdef", "", "TCK-", "12345678"])
def test_ordinary_words_are_not_taken_for_a_reference(typed):
    assert normalise_reference(typed) is None


# --- creation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "category", "classification", "priority", "first_hours", "resolution_hours"),
    [
        ("Where is my parcel?", "orders_shipping", "routine", "normal", 24, 48),
        ("The parcel never arrived and I want a refund", "orders_shipping", "complex", "high", 4, 24),
        ("You charged twice for my order", "billing_payments", "urgent", "urgent", 1, 8),
    ],
)
def test_new_ticket_gets_priority_and_sla_from_its_classification(
    session, description, category, classification, priority, first_hours, resolution_hours
):
    ticket = make_ticket(session, description=description, category=category)

    assert ticket.classification == classification
    assert ticket.priority == priority
    assert ticket.first_response_due == NOW + timedelta(hours=first_hours)
    assert ticket.resolution_due == NOW + timedelta(hours=resolution_hours)
    assert ticket.status == "new"
    assert ticket.created_at == NOW


def test_explicit_low_priority_gets_the_low_sla(session):
    ticket = make_ticket(session, priority="low")

    assert ticket.priority == "low"
    assert ticket.first_response_due == NOW + timedelta(hours=48)
    assert ticket.resolution_due == NOW + timedelta(hours=120)


def test_sla_due_times_survive_a_round_trip_through_the_database(session):
    reference = make_ticket(session, description="I can't log in", category="account_login").reference
    session.expire_all()

    stored = get_ticket(session=session, reference=reference)

    assert stored.priority == "urgent"
    assert stored.first_response_due == NOW + timedelta(hours=1)
    assert stored.resolution_due == NOW + timedelta(hours=8)
    assert stored.first_response_due.utcoffset() == timedelta(0)


def test_sla_follows_a_configured_policy(session):
    settings = plain_settings(
        sla_policy={
            "low": {"first_response_hours": 72, "resolution_hours": 240},
            "normal": {"first_response_hours": 2, "resolution_hours": 6},
            "high": {"first_response_hours": 1, "resolution_hours": 4},
            "urgent": {"first_response_hours": 0.5, "resolution_hours": 2},
        }
    )

    ticket = make_ticket(session, settings=settings)

    assert ticket.first_response_due == NOW + timedelta(hours=2)
    assert ticket.resolution_due == NOW + timedelta(hours=6)


def test_new_ticket_writes_a_created_event(session):
    ticket = make_ticket(session, actor="agent:sam")

    events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()

    assert [(event.kind, event.to_value, event.actor, event.created_at) for event in events] == [
        ("created", "new", "agent:sam", NOW)
    ]


def test_new_ticket_stores_the_customer_and_a_subject_from_the_first_sentence(session):
    ticket = make_ticket(
        session,
        description="My kettle leaks. It started yesterday after I descaled it.",
        category="product_technical",
        customer_name="Grace Hopper",
        customer_email="  Grace@Example.COM ",
        conversation_id="conv-42",
    )

    assert ticket.subject == "My kettle leaks."
    assert ticket.customer_name == "Grace Hopper"
    assert ticket.customer_email == "grace@example.com"
    assert ticket.conversation_id == "conv-42"
    assert ticket.channel == "chat"


def test_ticket_in_an_unknown_category_is_refused(session):
    with pytest.raises(TicketError, match="unknown category 'teleportation'"):
        make_ticket(session, category="teleportation")

    assert ticket_count(session) == 0


def test_second_ticket_from_the_same_email_within_30_days_is_a_complex_repeat_contact(session):
    make_ticket(session, customer_email="ada@example.com", now=NOW - timedelta(days=29))

    second = make_ticket(session, customer_email="ADA@example.com", now=NOW)

    assert second.classification == "complex"
    assert second.priority == "high"
    assert second.classification_reason == "repeat contact (1 earlier ticket(s))"


def test_ticket_from_the_same_email_more_than_30_days_ago_does_not_count(session):
    make_ticket(session, customer_email="ada@example.com", now=NOW - timedelta(days=31))

    second = make_ticket(session, customer_email="ada@example.com", now=NOW)

    assert second.classification == "routine"
    assert second.priority == "normal"


def test_ticket_from_another_email_is_not_a_repeat_contact(session):
    make_ticket(session, customer_email="ada@example.com", now=NOW - timedelta(days=1))

    other = make_ticket(session, customer_email="grace@example.com", now=NOW)

    assert other.classification == "routine"


def test_rolled_back_ticket_creation_leaves_no_ticket_behind(session):
    """A failing unit of work must take its ticket with it (on SQLite too, where a
    savepoint used to commit the ticket on its own)."""
    make_ticket(session)

    session.rollback()

    assert ticket_count(session) == 0
    assert session.scalar(select(func.count(TicketEvent.id))) == 0


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE tickets;-- my parcel is late",
        "<script>alert('hi')</script> where is my parcel?",
        "' OR 1=1 -- \"quoted\" \\ backslash %_ wildcard",
    ],
)
def test_sql_or_html_in_a_description_is_stored_verbatim_as_text(session, text):
    reference = make_ticket(session, description=text).reference
    session.expire_all()

    stored = get_ticket(session=session, reference=reference)

    assert stored.description == text
    assert ticket_count(session) == 1


def test_long_description_is_stored_whole(session):
    description = ("My parcel went to the wrong address and nobody answers. " * 100)[:5000].strip()
    assert len(description) >= 4990

    reference = make_ticket(session, description=description).reference
    session.expire_all()

    assert get_ticket(session=session, reference=reference).description == description


def test_description_over_the_limit_is_refused():
    with pytest.raises(ValidationError, match="longer than"):
        TicketCreate(description="x" * (MAX_DESCRIPTION + 1), category="other")


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "ada @example.com", "ada@example"])
def test_ticket_with_an_invalid_email_is_refused(email):
    with pytest.raises(ValidationError, match="not a valid e-mail address"):
        TicketCreate(description="Where is my parcel?", category="orders_shipping", customer_email=email)


@pytest.mark.parametrize("description", ["", "   ", "\n\t"])
def test_ticket_with_an_empty_description_is_refused(description):
    with pytest.raises(ValidationError):
        TicketCreate(description=description, category="orders_shipping")


def test_ticket_email_is_stored_lower_case_and_trimmed():
    data = TicketCreate(description="hi there", category="other", customer_email="  Ada@Example.COM ")

    assert data.customer_email == "ada@example.com"


# --- customer look-up ---------------------------------------------------------------------


def test_status_lookup_with_reference_and_email_finds_the_ticket(session):
    ticket = make_ticket(session, customer_email="ada@example.com")

    found = find_ticket_for_customer(session=session, reference=ticket.reference, email="ada@example.com")

    assert found is not None
    assert found.id == ticket.id


def test_status_lookup_ignores_case_and_form_of_email_and_reference(session):
    ticket = make_ticket(session, customer_email="ada@example.com")
    typed_reference = "tck " + ticket.reference[4:].lower()

    found = find_ticket_for_customer(session=session, reference=typed_reference, email="  ADA@Example.com ")

    assert found is not None
    assert found.id == ticket.id


def test_status_lookup_with_wrong_email_reveals_nothing(session):
    ticket = make_ticket(session, customer_email="ada@example.com")

    assert find_ticket_for_customer(session=session, reference=ticket.reference, email="eve@example.com") is None
    assert find_ticket_for_customer(session=session, reference=ticket.reference, email="") is None


def test_status_lookup_with_unknown_reference_reveals_nothing(session):
    make_ticket(session, customer_email="ada@example.com")

    assert find_ticket_for_customer(session=session, reference="TCK-AAAAAA", email="ada@example.com") is None
    assert find_ticket_for_customer(session=session, reference="hello", email="ada@example.com") is None


def test_status_lookup_of_a_ticket_without_email_reveals_nothing(session):
    ticket = make_ticket(session, customer_email=None)

    assert find_ticket_for_customer(session=session, reference=ticket.reference, email="") is None
    assert find_ticket_for_customer(session=session, reference=ticket.reference, email="ada@example.com") is None


# --- status -----------------------------------------------------------------------------------


def test_ticket_moves_through_its_whole_life_and_records_each_step(session):
    ticket = make_ticket(session)
    steps = ["open", "pending", "resolved", "closed"]

    for hour, status in enumerate(steps, start=1):
        change_status(session=session, ticket=ticket, to_status=status, actor="agent:sam",
                      now=NOW + timedelta(hours=hour))

    assert ticket.status == "closed"
    assert events_of(session, ticket) == [
        ("created", None, "new"),
        ("status", "new", "open"),
        ("status", "open", "pending"),
        ("status", "pending", "resolved"),
        ("status", "resolved", "closed"),
    ]
    assert ticket.resolved_at == NOW + timedelta(hours=3)
    assert ticket.updated_at == NOW + timedelta(hours=4)


def test_resolving_sets_resolved_at_and_reopening_clears_it(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="resolved", actor="agent:sam",
                  now=NOW + timedelta(hours=5))
    assert ticket.resolved_at == NOW + timedelta(hours=5)

    change_status(session=session, ticket=ticket, to_status="open", actor="customer", now=NOW + timedelta(hours=6))

    assert ticket.status == "open"
    assert ticket.resolved_at is None
    assert events_of(session, ticket)[-1] == ("status", "resolved", "open")


def test_closed_ticket_can_be_reopened(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="closed", actor="agent:sam", now=NOW)

    change_status(session=session, ticket=ticket, to_status="open", actor="agent:sam", now=NOW)

    assert ticket.status == "open"


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        (["open"], "new"),
        (["pending"], "new"),
        (["resolved"], "pending"),
        (["closed"], "resolved"),
        (["closed"], "pending"),
        ([], "archived"),
    ],
)
def test_illegal_status_change_is_refused_and_leaves_no_event(session, path, illegal):
    ticket = make_ticket(session)
    for status in path:
        change_status(session=session, ticket=ticket, to_status=status, actor="agent:sam", now=NOW)
    before = events_of(session, ticket)

    with pytest.raises(TicketError, match=f"cannot become {illegal}"):
        change_status(session=session, ticket=ticket, to_status=illegal, actor="agent:sam", now=NOW)

    assert ticket.status == (path[-1] if path else "new")
    assert events_of(session, ticket) == before


def test_asking_for_the_current_status_records_nothing(session):
    ticket = make_ticket(session)

    change_status(session=session, ticket=ticket, to_status="new", actor="agent:sam", now=NOW)

    assert ticket.status == "new"
    assert events_of(session, ticket) == [("created", None, "new")]


# --- priority, assignment -----------------------------------------------------------------


def test_raising_priority_moves_the_sla_due_times_from_creation(session):
    ticket = make_ticket(session)  # routine → normal: 24h / 48h

    set_priority(session=session, ticket=ticket, priority="urgent", actor="agent:sam",
                 now=NOW + timedelta(hours=2), settings=plain_settings())

    assert ticket.priority == "urgent"
    assert ticket.first_response_due == NOW + timedelta(hours=1)
    assert ticket.resolution_due == NOW + timedelta(hours=8)
    assert events_of(session, ticket)[-1] == ("priority", "normal", "urgent")
    assert ticket.updated_at == NOW + timedelta(hours=2)


def test_lowering_priority_moves_the_sla_due_times_later(session):
    ticket = make_ticket(session)

    set_priority(session=session, ticket=ticket, priority="low", actor="agent:sam", now=NOW,
                 settings=plain_settings())

    assert ticket.first_response_due == NOW + timedelta(hours=48)
    assert ticket.resolution_due == NOW + timedelta(hours=120)


def test_setting_the_same_priority_records_nothing(session):
    ticket = make_ticket(session)

    set_priority(session=session, ticket=ticket, priority="normal", actor="agent:sam", now=NOW,
                 settings=plain_settings())

    assert events_of(session, ticket) == [("created", None, "new")]


def test_unknown_priority_is_refused(session):
    ticket = make_ticket(session)

    with pytest.raises(TicketError, match="unknown priority 'whenever'"):
        set_priority(session=session, ticket=ticket, priority="whenever", actor="agent:sam", now=NOW,
                     settings=plain_settings())

    assert ticket.priority == "normal"


def test_assigning_a_ticket_records_who_had_it_and_who_has_it(session):
    ticket = make_ticket(session)
    sam, alex = make_user(session, name="Sam"), make_user(session, name="Alex")

    assign_ticket(session=session, ticket=ticket, assignee_id=sam.id, actor="manager:kim", now=NOW)
    assign_ticket(session=session, ticket=ticket, assignee_id=alex.id, actor="manager:kim", now=NOW)
    assign_ticket(session=session, ticket=ticket, assignee_id=alex.id, actor="manager:kim", now=NOW)
    assign_ticket(session=session, ticket=ticket, assignee_id=None, actor="manager:kim", now=NOW)

    assert ticket.assignee_id is None
    assert events_of(session, ticket) == [
        ("created", None, "new"),
        ("assignee", None, str(sam.id)),
        ("assignee", str(sam.id), str(alex.id)),
        ("assignee", str(alex.id), None),
    ]


def test_deleting_a_user_leaves_their_tickets_unassigned(session):
    ticket = make_ticket(session)
    sam = make_user(session)
    assign_ticket(session=session, ticket=ticket, assignee_id=sam.id, actor="manager:kim", now=NOW)

    session.delete(sam)
    session.flush()
    session.expire_all()

    assert session.get(Ticket, ticket.id).assignee_id is None


# --- agent comments -------------------------------------------------------------------------


def test_first_public_reply_sets_first_response_and_opens_a_new_ticket(session):
    ticket = make_ticket(session)
    later = NOW + timedelta(minutes=30)

    add_comment(session=session, ticket=ticket, text="Checking with the courier.", public=False,
                actor="agent:1", now=NOW + timedelta(minutes=5))
    assert ticket.first_responded_at is None and ticket.status == "new"

    add_comment(session=session, ticket=ticket, text="  It left the depot today.  ", public=True,
                actor="agent:1", now=later)
    add_comment(session=session, ticket=ticket, text="It arrives tomorrow.", public=True,
                actor="agent:1", now=later + timedelta(hours=1))

    assert ticket.first_responded_at == later
    assert ticket.status == "open"
    assert latest_reply(session=session, ticket=ticket).body == "It arrives tomorrow."
    assert [(e.kind, e.body) for e in ticket.events if e.kind in ("reply", "internal")] == [
        ("internal", "Checking with the courier."),
        ("reply", "It left the depot today."),
        ("reply", "It arrives tomorrow."),
    ]


def test_a_reply_leaves_a_pending_ticket_pending(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="pending", actor="agent:1", now=NOW)

    add_comment(session=session, ticket=ticket, text="Could you send a photo?", public=True,
                actor="agent:1", now=NOW)

    assert ticket.status == "pending"
    assert ticket.first_responded_at == NOW


@pytest.mark.parametrize("text", ["", "   ", "x" * 10_001])
def test_empty_or_oversized_comments_are_refused_and_nothing_changes(session, text):
    ticket = make_ticket(session)

    with pytest.raises(TicketError):
        add_comment(session=session, ticket=ticket, text=text, public=True, actor="agent:1", now=NOW)

    assert ticket.first_responded_at is None
    assert [e.kind for e in ticket.events] == ["created"]
    assert latest_reply(session=session, ticket=ticket) is None


# --- search -------------------------------------------------------------------------------


def test_search_filters_combine_and_page_newest_first(session):
    sam = make_user(session)
    parcel = make_ticket(session, now=NOW, description="Where is my parcel 50_% off?")
    refund = make_ticket(session, now=NOW + timedelta(hours=1), description="Refund for order 4821 please",
                         customer_email="bo@example.org", customer_name="Bo Tran")
    login = make_ticket(session, now=NOW + timedelta(hours=2), description="I cannot log in",
                        category="account_login")
    assign_ticket(session=session, ticket=refund, assignee_id=sam.id, actor="agent:1", now=NOW)
    change_status(session=session, ticket=login, to_status="open", actor="agent:1", now=NOW)

    def refs(**filters):
        total, page = search_tickets(session=session, **filters)
        return total, [t.reference for t in page]

    assert refs() == (3, [login.reference, refund.reference, parcel.reference])
    assert refs(limit=1, offset=1) == (3, [refund.reference])
    assert refs(status="new") == (2, [refund.reference, parcel.reference])
    assert refs(assignee_id=sam.id) == (1, [refund.reference])
    assert refs(unassigned=True, status="new") == (1, [parcel.reference])
    assert refs(q="BO@EXAMPLE") == (1, [refund.reference])
    assert refs(q="tran") == (1, [refund.reference])
    assert refs(q="log in") == (1, [login.reference])
    assert refs(q=parcel.reference.lower().replace("-", " ")) == (1, [parcel.reference])
    # LIKE wildcards in the query are taken literally.
    assert refs(q="50_%") == (1, [parcel.reference])
    assert refs(q="_") == (1, [parcel.reference])
    assert refs(q="%") == (1, [parcel.reference])
    assert refs(q="nothing like this") == (0, [])


# --- customer adds information ------------------------------------------------------------


def test_customer_info_is_kept_as_a_note_and_an_open_ticket_stays_open(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="open", actor="agent:sam", now=NOW)

    note = add_customer_info(session=session, ticket=ticket, text="  The box was also wet.  ",
                             now=NOW + timedelta(hours=1))

    assert note.kind == "note"
    assert note.body == "The box was also wet."
    assert note.actor == "customer"
    assert ticket.status == "open"
    assert events_of(session, ticket)[-1] == ("note", None, None)


@pytest.mark.parametrize("waiting_status", ["pending", "resolved", "closed"])
def test_customer_info_reopens_a_waiting_or_finished_ticket(session, waiting_status):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status=waiting_status, actor="agent:sam", now=NOW)

    add_customer_info(session=session, ticket=ticket, text="It still doesn't work.", now=NOW + timedelta(hours=1))

    assert ticket.status == "open"
    assert ticket.resolved_at is None
    assert events_of(session, ticket)[-2:] == [("note", None, None), ("status", waiting_status, "open")]


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_customer_info_is_refused(session, text):
    ticket = make_ticket(session)

    with pytest.raises(TicketError, match="empty"):
        add_customer_info(session=session, ticket=ticket, text=text, now=NOW)

    assert events_of(session, ticket) == [("created", None, "new")]


def test_too_long_customer_info_is_refused(session):
    ticket = make_ticket(session)

    with pytest.raises(TicketError, match="longer than"):
        add_customer_info(session=session, ticket=ticket, text="x" * (MAX_DESCRIPTION + 1), now=NOW)

    assert events_of(session, ticket) == [("created", None, "new")]


def test_customer_info_with_markup_is_stored_verbatim(session):
    ticket = make_ticket(session)
    text = "<script>alert(1)</script>'; DELETE FROM ticket_events; --"

    add_customer_info(session=session, ticket=ticket, text=text, now=NOW)
    session.expire_all()

    bodies = session.scalars(select(TicketEvent.body).where(TicketEvent.kind == "note")).all()
    assert bodies == [text]


def test_response_and_resolution_seconds_follow_the_ticket(session):
    ticket = make_ticket(session)
    session.flush()
    assert (ticket.first_response_seconds, ticket.resolution_seconds) == (None, None)
    add_comment(session=session, ticket=ticket, text="On its way", public=True, actor="agent:sam",
                now=NOW + timedelta(minutes=30, microseconds=250))
    change_status(session=session, ticket=ticket, to_status="resolved", actor="agent:sam", now=NOW + timedelta(hours=2))
    session.flush()
    assert (ticket.first_response_seconds, ticket.resolution_seconds) == (1800.00025, 7200)
    change_status(session=session, ticket=ticket, to_status="open", actor="customer", now=NOW + timedelta(hours=3))
    session.flush()
    assert (ticket.first_response_seconds, ticket.resolution_seconds) == (1800.00025, None)
    # The migration's way of working them out agrees (to the millisecond on SQLite).
    time_tickets(session.connection())
    session.refresh(ticket)
    assert ticket.first_response_seconds == pytest.approx(1800.00025, abs=0.0005) and ticket.resolution_seconds is None


def test_a_line_sent_again_finds_its_ticket_instead_of_opening_a_second_one(session):
    first = make_ticket(session, source_line="line-7f3a")
    again = make_ticket(session, source_line="line-7f3a", description="Where is my parcel? (sent again)")
    other = make_ticket(session, source_line="line-91bc")
    assert again.id == first.id and again.description == "Where is my parcel?"
    assert other.id != first.id
    assert session.scalar(select(func.count()).select_from(Ticket)) == 2
    assert session.scalar(select(func.count()).select_from(TicketEvent)) == 2  # one "created" each


def test_tickets_without_a_source_line_are_each_their_own(session):
    make_ticket(session)
    make_ticket(session)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 2

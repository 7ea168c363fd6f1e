"""Ticket actions against a real (temporary SQLite) database."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.tickets import (
    ActionAddTicketInfo,
    ActionAskTicketCategory,
    ActionCheckTicketStatus,
    ActionSubmitTicket,
    ValidateTicketForm,
    ValidateTicketStatusForm,
    ValidateTicketUpdateForm,
)
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import add_comment, create_ticket, get_ticket
from tests.actions.conftest import SHIPPING_ANSWER, beside_a_question, make_tracker, slot_events, texts


def _ticket(engine, email="dana@example.com", description="My parcel never arrived") -> str:
    with Session(engine) as session, session.begin():
        return create_ticket(
            session=session,
            data=TicketCreate(description=description, category="orders_shipping",
                              customer_name="Dana", customer_email=email),
        ).reference


async def _validate(action, tracker, domain):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return dispatcher, events


async def test_first_message_prefills_email_category_and_description(app_db, domain):
    tracker = make_tracker(
        "Hi, I was charged twice for order 48213, my email is Dana.R@Example.com - please fix it",
        intent="open_ticket", active_loop="ticket_form",
    )
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    slots = slot_events(events)
    assert slots["customer_email"] == "dana.r@example.com"
    assert slots["ticket_category"] == "billing_payments"
    assert "charged twice" in slots["ticket_description"]
    assert "customer_name" not in slots


async def test_bare_request_prefills_nothing(app_db, domain):
    tracker = make_tracker("I want to open a ticket", intent="open_ticket", active_loop="ticket_form")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert not {k for k in slot_events(events) if k != "requested_slot"}


async def test_a_question_beside_the_ticket_request_is_answered_before_the_form_asks_anything(app_db, domain):
    tracker = beside_a_question(make_tracker("I need to open a ticket. Do you ship to Austria?", intent="open_ticket",
                                             confidence=1.0, active_loop="ticket_form"))
    dispatcher, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert texts(dispatcher) == [f"First, your question: {SHIPPING_ANSWER}"]
    # The line asked a question, not what the ticket is about: the form asks for the problem.
    assert not {"ticket_description", "ticket_category"} & set(slot_events(events))
    # Once the form is asking, the form's answers are not read for asides.
    tracker = beside_a_question(make_tracker("open a ticket. Do you ship to Austria?", active_loop="ticket_form",
                                             requested_slot="customer_name"))
    dispatcher, _ = await _validate(ValidateTicketForm(), tracker, domain)
    assert SHIPPING_ANSWER not in " ".join(texts(dispatcher))


async def test_the_first_of_two_requests_is_said_to_come_first_and_the_other_is_kept(app_db, domain):
    line = "where is TCK-3GF8YU, and also do you ship to Austria?"
    tracker = make_tracker(line, intent="check_ticket_status", active_loop="ticket_status_form")
    tracker.latest_message["second_request"] = {"text": "do you ship to Austria?"}
    dispatcher, _ = await _validate(ValidateTicketStatusForm(), tracker, domain)
    [note] = texts(dispatcher)
    assert "one at a time, starting with the first" in note and '"do you ship to Austria?"' in note
    # Said once, as the form starts: not again while it asks its questions.
    tracker = make_tracker(line, active_loop="ticket_status_form", requested_slot="lookup_email")
    tracker.latest_message["second_request"] = {"text": "do you ship to Austria?"}
    dispatcher, _ = await _validate(ValidateTicketStatusForm(), tracker, domain)
    assert not any("one at a time" in text for text in texts(dispatcher))


async def test_invalid_email_is_refused_with_a_clear_message(app_db, domain):
    tracker = make_tracker("dana at example", active_loop="ticket_form", requested_slot="customer_email")
    dispatcher, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["customer_email"] is None
    assert any("valid e-mail" in t for t in texts(dispatcher))


async def test_faq_question_while_asked_for_name_is_left_to_the_faq_rule(app_db, domain):
    tracker = make_tracker("how long does shipping take?", intent="faq", confidence=0.93,
                           active_loop="ticket_form", requested_slot="customer_name")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert "customer_name" not in slot_events(events)


@pytest.mark.parametrize("name", ["Chris Doe", "Mary-Jane O'Neil", "J. R. Smith", "Zo\u00eb"])
async def test_a_capitalised_name_taken_for_an_faq_is_still_the_name(app_db, domain, name):
    tracker = make_tracker(name, intent="faq", confidence=1.0, active_loop="ticket_form",
                           requested_slot="customer_name")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["customer_name"] == name


@pytest.mark.parametrize("text", ["delivery times", "Chris Doe?", "What Are Your Opening Hours", "Talk To A Person"])
async def test_a_topic_or_question_while_asked_for_a_name_is_not_taken_for_one(app_db, domain, text):
    intent = "request_human" if "Person" in text else "faq"
    tracker = make_tracker(text, intent=intent, confidence=0.99, active_loop="ticket_form",
                           requested_slot="customer_name")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert "customer_name" not in slot_events(events)


async def test_an_email_is_not_a_name(app_db, domain):
    tracker = make_tracker("chris@example.com", active_loop="ticket_form", requested_slot="customer_name")
    dispatcher, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["customer_name"] is None
    assert any("just your name" in t for t in texts(dispatcher))


async def test_name_answer_is_cleaned(app_db, domain):
    tracker = make_tracker("my name is Dana Reyes.", active_loop="ticket_form", requested_slot="customer_name")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["customer_name"] == "Dana Reyes"


async def test_five_thousand_character_description_is_kept_whole(app_db, domain):
    long_text = ("The blender makes a grinding noise and smells burnt. " * 100)[:5000]
    tracker = make_tracker(long_text, active_loop="ticket_form", requested_slot="ticket_description")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["ticket_description"] == long_text.strip()


async def test_empty_description_is_asked_again(app_db, domain):
    tracker = make_tracker("??", active_loop="ticket_form", requested_slot="ticket_description")
    dispatcher, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["ticket_description"] is None
    assert texts(dispatcher)


async def test_change_button_on_the_summary_clears_that_field(app_db, domain):
    tracker = make_tracker(
        '/inform{"field_to_change":"customer_email"}',
        entities=[{"entity": "field_to_change", "value": "customer_email"}],
        slots={"customer_email": "old@example.com"},
        active_loop="ticket_form", requested_slot="ticket_confirmed",
    )
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    slots = slot_events(events)
    assert slots["customer_email"] is None
    assert slots["ticket_confirmed"] is None


async def test_category_buttons_come_from_the_settings(app_db, domain, configure):
    configure(ticket_categories='[{"key": "repairs", "label": "Repairs"}, {"key": "other", "label": "Other"}]')
    dispatcher = CollectingDispatcher()
    await ActionAskTicketCategory().run(dispatcher, make_tracker(), domain)
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["Repairs", "Other"]


async def test_confirmed_ticket_is_stored_and_reference_and_sla_told(app_db, domain):
    tracker = make_tracker("yes", intent="affirm", slots={
        "customer_name": "Dana", "customer_email": "dana@example.com", "ticket_category": "returns_refunds",
        "ticket_description": "<script>alert(1)</script> Robert'); DROP TABLE tickets;-- wants a refund",
        "ticket_confirmed": True,
    })
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitTicket().run(dispatcher, tracker, domain)
    with Session(app_db) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.description.startswith("<script>alert(1)</script>")
        assert ticket.conversation_id == "conversation-1"
        assert ticket.priority == "normal"
        assert [e.kind for e in session.scalars(select(TicketEvent))] == ["created"]
    reply = texts(dispatcher)[0]
    assert ticket.reference in reply
    assert "within 24 hours" in reply and "within 2 days" in reply
    assert slot_events(events)["last_ticket_ref"] == ticket.reference


async def test_unconfirmed_ticket_is_not_stored(app_db, domain):
    tracker = make_tracker("", slots={"ticket_confirmed": None, "ticket_description": "x", "ticket_category": "other"})
    await ActionSubmitTicket().run(CollectingDispatcher(), tracker, domain)
    with Session(app_db) as session:
        assert session.scalars(select(Ticket)).first() is None


async def test_status_lookup_with_wrong_email_reveals_nothing(app_db, domain):
    reference = _ticket(app_db)
    answers = []
    for email in ("someone@else.com", "dana@example.com"):
        tracker = make_tracker(email, active_loop="ticket_status_form", requested_slot="lookup_email",
                               slots={"ticket_ref": reference if email != "x" else None})
        dispatcher, events = await _validate(ValidateTicketStatusForm(), tracker, domain)
        answers.append((texts(dispatcher), slot_events(events)))
    wrong_texts, wrong_slots = answers[0]
    assert wrong_slots["lookup_failures"] == 1.0 and wrong_slots["ticket_ref"] is None
    assert not any(reference in t or "Dana" in t or "parcel" in t for t in wrong_texts)
    _, right_slots = answers[1]
    assert right_slots["lookup_email"] == "dana@example.com"
    assert "lookup_failures" not in right_slots


async def test_unknown_reference_gets_the_same_answer_as_a_wrong_email(app_db, domain):
    reference = _ticket(app_db)
    replies = []
    for ref, email in ((reference, "wrong@example.com"), ("TCK-AAAA22", "dana@example.com")):
        tracker = make_tracker(f"{ref} {email}", intent="check_ticket_status", active_loop="ticket_status_form")
        dispatcher, _ = await _validate(ValidateTicketStatusForm(), tracker, domain)
        replies.append(texts(dispatcher))
    assert replies[0] == replies[1]


async def test_third_failed_lookup_refuses_further_lookups(app_db, domain):
    _ticket(app_db)
    tracker = make_tracker("TCK-BBBB22 x@example.com", intent="check_ticket_status",
                           active_loop="ticket_status_form", slots={"lookup_failures": 2.0})
    dispatcher, events = await _validate(ValidateTicketStatusForm(), tracker, domain)
    assert slot_events(events)["lookup_failures"] == 3.0
    assert any("can't look up" in t for t in texts(dispatcher))
    # Even the right pair is refused afterwards.
    locked = make_tracker("", slots={"lookup_failures": 3.0, "ticket_ref": "TCK-BBBB22",
                                     "lookup_email": "dana@example.com"})
    dispatcher = CollectingDispatcher()
    await ActionCheckTicketStatus().run(dispatcher, locked, domain)
    assert any("can't look up" in t for t in texts(dispatcher))


async def test_status_reply_shows_status_update_time_and_next_step(app_db, domain):
    reference = _ticket(app_db)
    tracker = make_tracker("", slots={"ticket_ref": reference, "lookup_email": "DANA@example.com"})
    dispatcher = CollectingDispatcher()
    events = await ActionCheckTicketStatus().run(dispatcher, tracker, domain)
    reply = texts(dispatcher)[0]
    assert reference in reply and " is new" in reply and "UTC" in reply and "will reply by" in reply
    assert slot_events(events)["bot_helped"] is True


async def test_status_reply_quotes_the_latest_public_reply_and_never_a_private_note(app_db, domain):
    reference = _ticket(app_db)
    with Session(app_db) as session, session.begin():
        stored = get_ticket(session=session, reference=reference)
        add_comment(session=session, ticket=stored, text="Courier says Tuesday.", public=True, actor="agent:1")
        add_comment(session=session, ticket=stored, text="It arrives Monday now.", public=True, actor="agent:1")
        add_comment(session=session, ticket=stored, text="Customer sounded upset", public=False, actor="agent:1")
    tracker = make_tracker("", slots={"ticket_ref": reference, "lookup_email": "dana@example.com"})
    dispatcher = CollectingDispatcher()
    await ActionCheckTicketStatus().run(dispatcher, tracker, domain)
    [reply] = texts(dispatcher)
    assert " is open" in reply and reply.endswith(": It arrives Monday now.")
    assert "Tuesday" not in reply and "upset" not in reply


async def test_reference_typed_in_lower_case_with_spaces_is_understood(app_db, domain):
    tracker = make_tracker("it's tck 7qk2md", active_loop="ticket_status_form", requested_slot="ticket_ref")
    _, events = await _validate(ValidateTicketStatusForm(), tracker, domain)
    assert slot_events(events)["ticket_ref"] == "TCK-7QK2MD"


async def test_added_information_is_recorded_as_a_ticket_event(app_db, domain):
    reference = _ticket(app_db)
    tracker = make_tracker("", slots={"ticket_ref": reference, "lookup_email": "dana@example.com",
                                      "ticket_note": "The tracking number is 00340434"})
    dispatcher = CollectingDispatcher()
    await ActionAddTicketInfo().run(dispatcher, tracker, domain)
    with Session(app_db) as session:
        note = session.scalars(select(TicketEvent).where(TicketEvent.kind == "note")).one()
        assert note.body == "The tracking number is 00340434"
        assert note.actor == "customer:dana@example.com"
    assert reference in texts(dispatcher)[0]


async def test_update_form_checks_the_pair_before_asking_for_the_note(app_db, domain):
    reference = _ticket(app_db)
    tracker = make_tracker("nobody@example.com", active_loop="ticket_update_form",
                           requested_slot="lookup_email", slots={"ticket_ref": reference})
    _, events = await _validate(ValidateTicketUpdateForm(), tracker, domain)
    slots = slot_events(events)
    assert slots["lookup_email"] is None and slots["lookup_failures"] == 1.0


async def test_locked_database_keeps_the_ticket_details_and_apologises(app_db, domain, monkeypatch, configure):
    from sqlalchemy.exc import OperationalError

    import actions.common as common

    def locked(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(common, "transaction", locked)
    configure(db_retry_attempts=2)
    tracker = make_tracker("yes", intent="affirm", slots={
        "customer_name": "Dana", "customer_email": "dana@example.com", "ticket_category": "other",
        "ticket_description": "Something went wrong", "ticket_confirmed": True,
    })
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitTicket().run(dispatcher, tracker, domain)
    assert "trouble saving" in texts(dispatcher)[0]
    # Only the confirmation is cleared (so "yes" retries); what the customer said stays.
    assert slot_events(events) == {"ticket_confirmed": None}


async def test_problem_description_that_reads_like_an_faq_is_taken_as_the_description(app_db, domain):
    tracker = make_tracker("My parcel never arrived and the tracking hasn't moved in a week.", intent="faq",
                           confidence=0.9, active_loop="ticket_form", requested_slot="ticket_description")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert slot_events(events)["ticket_description"].startswith("My parcel never arrived")


async def test_question_while_asked_for_the_description_is_answered_as_an_faq(app_db, domain):
    tracker = make_tracker("what is your return policy?", intent="faq", confidence=0.9,
                           active_loop="ticket_form", requested_slot="ticket_description")
    _, events = await _validate(ValidateTicketForm(), tracker, domain)
    assert "ticket_description" not in slot_events(events)


async def test_a_confirmation_sent_again_to_another_rasa_server_opens_one_ticket(app_db, domain):
    """The gateway sends a line to the next Rasa server when the first died before answering (api/
    rasa_shards.py), with the same key; the first may already have opened the ticket."""
    slots = {"customer_name": "Dana", "customer_email": "dana@example.com", "ticket_category": "orders_shipping",
             "ticket_description": "The parcel for order 48213 never came.", "ticket_confirmed": True}
    references = []
    for _ in range(2):
        tracker = make_tracker("yes", intent="affirm", slots=slots)
        tracker.latest_message["metadata"] = {"line": "5b0c1f2e9a7d4e6b8c3a2f1e0d9c8b7a"}
        dispatcher = CollectingDispatcher()
        events = await ActionSubmitTicket().run(dispatcher, tracker, domain)
        references.append(slot_events(events)["last_ticket_ref"])
        assert references[-1] in texts(dispatcher)[0]
    with Session(app_db) as session:
        assert [t.reference for t in session.scalars(select(Ticket))] == [references[0]]
    assert references[0] == references[1]

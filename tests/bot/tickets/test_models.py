"""The tickets' SLA rules (open, answered, overdue), each one definition that a loaded ticket and
a SQL query both use: they must agree (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.reports.kpis import sla_watch
from bot.tickets.models import DONE_STATUSES, OPEN_STATUSES, STATUSES, Ticket
from bot.tickets.service import add_comment, change_status
from tests.factories import NOW, make_ticket


def overdue_in_sql(session, now) -> tuple[set[int], set[int]]:
    """The ids the database finds first-response overdue, and resolution overdue, at `now`."""
    return (set(session.scalars(select(Ticket.id).where(Ticket.is_first_response_overdue(now)))),
            set(session.scalars(select(Ticket.id).where(Ticket.is_resolution_overdue(now)))))


def test_done_and_open_statuses_split_every_status():
    assert set(DONE_STATUSES) == {"resolved", "closed"}
    assert set(OPEN_STATUSES) | set(DONE_STATUSES) == set(STATUSES)
    assert not set(OPEN_STATUSES) & set(DONE_STATUSES)


def test_a_ticket_past_its_reply_time_without_a_reply_is_overdue_in_python_and_in_sql(session):
    ticket = make_ticket(session)
    before, after = ticket.first_response_due - timedelta(minutes=1), ticket.first_response_due + timedelta(minutes=1)
    assert not ticket.is_first_response_overdue(before)
    assert overdue_in_sql(session, before)[0] == set()
    assert ticket.is_first_response_overdue(after)
    assert overdue_in_sql(session, after)[0] == {ticket.id}


def test_a_public_reply_ends_first_response_overdue(session):
    ticket = make_ticket(session)
    add_comment(session=session, ticket=ticket, text="Looking into it.", public=True, actor="agent:1",
                now=ticket.first_response_due + timedelta(hours=1))
    later = ticket.first_response_due + timedelta(hours=2)
    assert not ticket.is_first_response_overdue(later)
    assert overdue_in_sql(session, later)[0] == set()


def test_a_resolved_ticket_is_not_overdue_even_when_resolved_late(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="resolved", actor="agent:1",
                  now=ticket.resolution_due + timedelta(hours=1))
    later = ticket.resolution_due + timedelta(days=1)
    assert ticket.first_answered_at == ticket.resolved_at  # resolving answers the customer too
    assert session.scalar(select(Ticket.first_answered_at).where(Ticket.id == ticket.id)) == ticket.resolved_at
    assert not ticket.is_resolution_overdue(later) and not ticket.is_first_response_overdue(later)
    assert overdue_in_sql(session, later) == (set(), set())


def test_a_ticket_closed_without_a_reply_is_not_overdue(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="closed", actor="agent:1", now=NOW)
    later = ticket.resolution_due + timedelta(days=1)
    assert ticket.first_answered_at is None
    assert not ticket.is_first_response_overdue(later) and not ticket.is_resolution_overdue(later)
    assert overdue_in_sql(session, later) == (set(), set())


def test_a_reopened_ticket_is_overdue_again(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="resolved", actor="agent:1", now=NOW)
    change_status(session=session, ticket=ticket, to_status="open", actor="customer", now=NOW)
    later = ticket.resolution_due + timedelta(minutes=1)
    assert ticket.is_first_response_overdue(later) and ticket.is_resolution_overdue(later)
    assert overdue_in_sql(session, later) == ({ticket.id}, {ticket.id})


def test_python_sql_and_the_sla_watch_agree_on_every_kind_of_ticket(session):
    new, replied, pending, resolved, closed = (make_ticket(session, description=f"Parcel {n} is late")
                                               for n in range(5))
    add_comment(session=session, ticket=replied, text="On it.", public=True, actor="agent:1",
                now=NOW + timedelta(minutes=5))
    change_status(session=session, ticket=pending, to_status="pending", actor="agent:1", now=NOW)
    change_status(session=session, ticket=resolved, to_status="resolved", actor="agent:1", now=NOW)
    change_status(session=session, ticket=closed, to_status="closed", actor="agent:1", now=NOW)
    tickets = [new, replied, pending, resolved, closed]
    moments = sorted({NOW, *(t.first_response_due for t in tickets), *(t.resolution_due for t in tickets)})
    for now in [moment + shift for moment in moments for shift in (timedelta(seconds=-1), timedelta(seconds=1))]:
        in_python = ({t.id for t in tickets if t.is_first_response_overdue(now)},
                     {t.id for t in tickets if t.is_resolution_overdue(now)})
        assert overdue_in_sql(session, now) == in_python, now
        watched = {item.reference: set(item.missed) for item in sla_watch(session=session, now=now)}
        assert {t.id for t in tickets if "first_response" in watched.get(t.reference, set())} == in_python[0], now
        assert {t.id for t in tickets if "resolution" in watched.get(t.reference, set())} == in_python[1], now
    # The moments above cover both rules turning on for the open ones.
    last = moments[-1] + timedelta(seconds=1)
    assert overdue_in_sql(session, last) == ({new.id, pending.id}, {new.id, replied.id, pending.id})

"""The reports' kept counts: figures kept up to date as rows are written, in the same transaction
(ORM events on the rows they count), so that the KPI summary and the exports read a few thousand
rows instead of millions; and the functions that work them out again from the rows (the
migration that added them, and `python -m bot db recount` after a bulk load).

- each conversation's facts: customer lines, asked for a person, has a ticket;
- each ticket's response and resolution seconds;
- survey offers and completions per UTC day, scored answers per UTC day and score, and the
  questions each survey version asked.

The events are registered when this module is imported, which `bot.db.make_engine` makes sure of
before any engine writes."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, delete, event, exists, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import attributes

from bot.conversations.models import Conversation, Handoff, Message
from bot.db import Base
from bot.surveys.models import SurveyAnswer, SurveyOfferDay, SurveyQuestionSeen, SurveyResponse, SurveyScoreDay
from bot.tickets.models import Ticket

# --- conversations ------------------------------------------------------------------------


def count_customer_lines(connection: Connection, conversation_id: str, lines: int) -> None:
    """Add `lines` customer lines to the conversation's count (same transaction as the lines)."""
    if lines:
        connection.execute(update(Conversation).where(Conversation.id == conversation_id)
                           .values(customer_lines=Conversation.customer_lines + lines))


@event.listens_for(Message, "after_insert")
def _line_written(mapper, connection: Connection, message: Message) -> None:
    if message.sender == "customer":
        count_customer_lines(connection, message.conversation_id, 1)


@event.listens_for(Handoff, "after_insert")
def _person_asked_for(mapper, connection: Connection, handoff: Handoff) -> None:
    connection.execute(update(Conversation).where(Conversation.id == handoff.conversation_id,
                                                  Conversation.asked_for_person.is_not(True))
                       .values(asked_for_person=true()))


def recount_conversation_facts(connection: Connection) -> None:
    """Work out every conversation's facts again from its lines, handoffs and tickets (the
    migration that added them, and after a bulk load)."""
    connection.execute(text(
        "UPDATE conversations SET "
        "customer_lines = (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id "
        "AND m.sender = 'customer'), "
        "asked_for_person = EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = conversations.id), "
        "has_ticket = EXISTS (SELECT 1 FROM tickets t WHERE t.conversation_id = conversations.id)"))


# --- surveys ------------------------------------------------------------------------------


_COUNTED = ("response_id", "question_key", "question_type", "position", "score")


def _upsert(connection: Connection, model: type[Base]):
    return (postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert)(model.__table__)


def _count(connection: Connection, values: tuple, change: int) -> None:
    response_id, key, question_type, position, score = values
    started, survey_key, version = connection.execute(
        select(SurveyResponse.started_at, SurveyResponse.survey_key, SurveyResponse.survey_version)
        .where(SurveyResponse.id == response_id)).one()
    if change > 0:
        connection.execute(_upsert(connection, SurveyQuestionSeen)
                           .values(survey_key=survey_key, survey_version=version, question_key=key,
                                   question_type=question_type, position=position).on_conflict_do_nothing())
    if score is None:
        return
    table = SurveyScoreDay.__table__
    insert = _upsert(connection, SurveyScoreDay)
    connection.execute(
        insert.values(day=started.astimezone(timezone.utc).date(), question_key=key, question_type=question_type,
                      position=position, score=score, answers=change)
        .on_conflict_do_update(index_elements=[c.name for c in table.primary_key],
                               set_={"answers": table.c.answers + insert.excluded.answers}))


def _before(answer: SurveyAnswer) -> tuple:
    """The counted values as they were before this flush."""
    values = []
    for name in _COUNTED:
        history = attributes.get_history(answer, name)
        values.append(history.deleted[0] if history.deleted else getattr(answer, name))
    return tuple(values)


def _offer(connection: Connection, started: datetime, completed: bool, change: int) -> None:
    insert = _upsert(connection, SurveyOfferDay)
    table = SurveyOfferDay.__table__
    counts = {"offered": change, "completed": change * bool(completed)}
    connection.execute(
        insert.values(day=started.astimezone(timezone.utc).date(), **counts)
        .on_conflict_do_update(index_elements=["day"],
                               set_={name: table.c[name] + insert.excluded[name] for name in counts}))


def _offer_before(response: SurveyResponse) -> tuple[datetime, bool]:
    values = []
    for name in ("started_at", "completed"):
        history = attributes.get_history(response, name)
        values.append(history.deleted[0] if history.deleted else getattr(response, name))
    return values[0], values[1]


@event.listens_for(SurveyResponse, "after_insert")
def _offered(mapper, connection: Connection, response: SurveyResponse) -> None:
    _offer(connection, response.started_at, response.completed, +1)


@event.listens_for(SurveyResponse, "after_update")
def _offer_changed(mapper, connection: Connection, response: SurveyResponse) -> None:
    before, now = _offer_before(response), (response.started_at, response.completed)
    if before != now:
        _offer(connection, *before, -1)
        _offer(connection, *now, +1)


@event.listens_for(SurveyResponse, "before_delete")
def _offer_deleted(mapper, connection: Connection, response: SurveyResponse) -> None:
    _offer(connection, *_offer_before(response), -1)


@event.listens_for(SurveyAnswer, "after_insert")
def _answer_written(mapper, connection: Connection, answer: SurveyAnswer) -> None:
    _count(connection, tuple(getattr(answer, name) for name in _COUNTED), +1)


@event.listens_for(SurveyAnswer, "after_update")
def _answer_changed(mapper, connection: Connection, answer: SurveyAnswer) -> None:
    before, now = _before(answer), tuple(getattr(answer, name) for name in _COUNTED)
    if before != now:
        _count(connection, before, -1)
        _count(connection, now, +1)


@event.listens_for(SurveyAnswer, "before_delete")
def _answer_deleted(mapper, connection: Connection, answer: SurveyAnswer) -> None:
    _count(connection, _before(answer), -1)


def rebuild_answer_summaries(connection: Connection) -> int:
    """Fill survey_offer_days, survey_score_days and survey_questions_seen again from every
    response and answer (after a bulk load); the score day rows written."""
    if connection.dialect.name == "postgresql":
        day = "(r.started_at AT TIME ZONE 'UTC')::date"
    else:
        day = "date(r.started_at)"
    connection.execute(delete(SurveyQuestionSeen))
    connection.execute(text(
        "INSERT INTO survey_questions_seen (survey_key, survey_version, question_key, question_type, position) "
        "SELECT r.survey_key, r.survey_version, a.question_key, a.question_type, min(a.position) "
        "FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id "
        "GROUP BY r.survey_key, r.survey_version, a.question_key, a.question_type"))
    connection.execute(delete(SurveyOfferDay))
    connection.execute(text(
        "INSERT INTO survey_offer_days (day, offered, completed) "
        f"SELECT {day}, count(*), sum(CASE WHEN r.completed THEN 1 ELSE 0 END) FROM survey_responses r "
        f"GROUP BY {day}"))
    connection.execute(delete(SurveyScoreDay))
    return connection.execute(text(
        "INSERT INTO survey_score_days (day, question_key, question_type, position, score, answers) "
        f"SELECT {day}, a.question_key, a.question_type, a.position, a.score, count(*) "
        "FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id WHERE a.score IS NOT NULL "
        f"GROUP BY {day}, a.question_key, a.question_type, a.position, a.score")).rowcount


# --- tickets ------------------------------------------------------------------------------


def _seconds_after(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (later - earlier).total_seconds()


@event.listens_for(Ticket, "before_insert")
@event.listens_for(Ticket, "before_update")
def _time_taken(mapper, connection: Connection, ticket: Ticket) -> None:
    if any(attributes.get_history(ticket, name).has_changes()
           for name in ("created_at", "first_responded_at", "resolved_at")):
        ticket.first_response_seconds = _seconds_after(ticket.first_responded_at, ticket.created_at)
        ticket.resolution_seconds = _seconds_after(ticket.resolved_at, ticket.created_at)


def _mark_conversations(connection: Connection, ids) -> None:
    """Conversation.has_ticket again for these conversations, from the tickets themselves."""
    for conversation_id in {i for i in ids if i}:
        connection.execute(update(Conversation).where(Conversation.id == conversation_id)
                           .values(has_ticket=exists().where(Ticket.conversation_id == conversation_id)))


@event.listens_for(Ticket, "after_insert")
def _ticket_written(mapper, connection: Connection, ticket: Ticket) -> None:
    _mark_conversations(connection, [ticket.conversation_id])


@event.listens_for(Ticket, "after_update")
def _ticket_changed(mapper, connection: Connection, ticket: Ticket) -> None:
    history = attributes.get_history(ticket, "conversation_id")
    if history.has_changes():
        _mark_conversations(connection, [*history.deleted, *history.added])


def time_tickets(connection: Connection) -> None:
    """Every ticket's first_response_seconds and resolution_seconds from its times (the migration
    that added them; to the millisecond on SQLite, whose date arithmetic is no finer)."""
    if connection.dialect.name == "postgresql":
        def between(later: str) -> str:
            return f"extract(epoch from ({later} - created_at))"
    else:
        def between(later: str) -> str:
            return f"round((julianday({later}) - julianday(created_at)) * 86400.0, 3)"
    connection.execute(text(f"UPDATE tickets SET first_response_seconds = {between('first_responded_at')}, "
                            f"resolution_seconds = {between('resolved_at')}"))

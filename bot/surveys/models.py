"""Survey tables: one response per conversation, one row per answered question."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Connection, Date, ForeignKey, Index, String, Text, UniqueConstraint, delete, event, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

import bot.tickets.models  # noqa: F401 - registers `tickets`, which recovery_ticket_id refers to
from bot.db import Base, UTCDateTime, utcnow


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One survey per conversation, enforced by the database.
    conversation_id: Mapped[str] = mapped_column(String(128), unique=True)
    survey_key: Mapped[str] = mapped_column(String(64))
    survey_version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(32), default="chat")
    # The person who handled the conversation, when one did (set by the handoff layer).
    agent: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    # When the survey was offered: the row is made at the offer, so a declined offer is a
    # response with no answers (and the response rate counts it).
    # Never changes once written: survey_score_days counts answers by this day.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed: Mapped[bool] = mapped_column(default=False)
    recovery_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="response", order_by="SurveyAnswer.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # The KPI summary counts offers and completions in a range from this index alone; the
        # export reads the responses in its order without sorting them.
        Index("ix_survey_responses_started_completed", "started_at", "id", "completed"),
        # Whether a survey version was offered in a range: one probe (the export's columns).
        Index("ix_survey_responses_version_started", "survey_key", "survey_version", "started_at"),
    )


class SurveyAnswer(Base):
    """One answered question, with the wording and type as they were when asked."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_key: Mapped[str] = mapped_column(String(64))
    question_type: Mapped[str] = mapped_column(String(16))
    question_text: Mapped[str] = mapped_column(Text)
    position: Mapped[int]
    score: Mapped[int | None]  # rating, NPS, or 1/0 for yes/no
    text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")

    __table_args__ = (UniqueConstraint("response_id", "question_key"),)


class SurveyScoreDay(Base):
    """Scored answers counted by the UTC day their survey was offered, question and score, so the
    KPI summary reads a year of whole days from a few thousand rows instead of every answer.

    Kept by the ORM events below for every answer written, changed or deleted through a session,
    in the same transaction. Answers written around the ORM (a bulk load) need
    `rebuild_answer_summaries` afterwards."""

    __tablename__ = "survey_score_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    score: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    answers: Mapped[int]


class SurveyOfferDay(Base):
    """Surveys offered, and of those completed, by the UTC day of the offer: the response rate
    over whole days without reading every response. Kept like survey_score_days."""

    __tablename__ = "survey_offer_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    offered: Mapped[int]
    completed: Mapped[int]


class SurveyQuestionSeen(Base):
    """Each question answered in a survey version, as it was asked: the export's answer columns
    for a range, without reading every answer in it. Kept with survey_score_days."""

    __tablename__ = "survey_questions_seen"

    survey_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int]


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

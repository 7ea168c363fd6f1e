"""Survey tables: one response per conversation, one row per answered question."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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

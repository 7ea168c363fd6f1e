"""Survey tables: one response per conversation, one row per answered question."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed: Mapped[bool] = mapped_column(default=False)
    recovery_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="response", order_by="SurveyAnswer.id", cascade="all, delete-orphan"
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

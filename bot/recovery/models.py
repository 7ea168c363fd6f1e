"""Service recovery: every unhappy customer gets an owner, a deadline and a recorded outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, Index, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

import bot.feedback.models  # noqa: F401 - registers `feedback`, which feedback_id refers to
import bot.surveys.models  # noqa: F401 - registers `survey_responses` (and `tickets`)
import bot.users.models  # noqa: F401 - registers `users`, which owner_id refers to
from bot.db import Base, UTCDateTime, utcnow

RECOVERY_SOURCES = ("survey", "feedback")
RECOVERY_STATUSES = ("open", "contacted", "closed")
# Forward only: contacting may be skipped (the customer could not be reached), never undone.
RECOVERY_TRANSITIONS = {("open", "contacted"), ("open", "closed"), ("contacted", "closed")}


class RecoveryItem(Base):
    __tablename__ = "recovery_items"
    __table_args__ = (Index("ix_recovery_items_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    # What opened it: one survey response, or one complaint (each opens at most one item).
    survey_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), unique=True)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"), unique=True)
    # The chat it is about, when known (never for anonymous feedback).
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # "Overdue", defined once for a loaded item and for SQL (the manager's list, the
    # overdue-only filter, the recovery_overdue alert).

    @hybrid_property
    def is_open(self) -> bool:
        """Not closed yet: the customer still waits for an outcome (status open or contacted)."""
        return self.status != "closed"

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return cls.status != "closed"

    @hybrid_method
    def is_overdue(self, now: datetime) -> bool:
        """Not closed and its due time has passed."""
        return self.is_open and self.due_at < now

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_expression(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.is_open, cls.due_at < now)

"""Feedback table: compliments, complaints and suggestions, optionally anonymous."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import bot.users.models  # noqa: F401 - registers `users`, which the inbox reviews refer to
from bot.db import Base, UTCDateTime, utcnow

# Each feedback category and how people read it (the staff pages get the labels from the API).
FEEDBACK_CATEGORY_LABELS = {
    "service_quality": "Service quality",
    "product": "Product",
    "process": "Process",
    "suggestion": "Suggestion",
    "complaint": "Complaint",
}
FEEDBACK_CATEGORIES = tuple(FEEDBACK_CATEGORY_LABELS)
# Survey comments stand in the feedback inbox beside feedback, under this category.
SURVEY_COMMENT = "survey_comment"
FEEDBACK_STATUSES = ("new", "reviewed", "actioned")


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    text: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Empty for anonymous feedback: no name, no e-mail, no link to the conversation.
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    conversation_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32), default="chat")
    status: Mapped[str] = mapped_column(String(16), default="new")
    # The gateway's key for the line that gave it (as tickets.models.Ticket.source_line); empty for
    # anonymous feedback, which keeps nothing that leads back to the conversation.
    source_line: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class InboxReview(Base):
    """What a manager did with one inbox item (a feedback item, or a survey response's comment)."""

    __tablename__ = "inbox_reviews"
    __table_args__ = (UniqueConstraint("item_kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int]
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    action_note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

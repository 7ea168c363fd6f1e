"""Ticket tables: the service request and its append-only event history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, ForeignKey, Index, String, Text, event, exists, text, update
from sqlalchemy.orm import Mapped, attributes, mapped_column, relationship

import bot.users.models  # noqa: F401 - registers `users`, which assignee_id refers to
from bot.conversations.models import Conversation
from bot.db import Base, UTCDateTime, utcnow

PRIORITIES = ("low", "normal", "high", "urgent")
CLASSIFICATIONS = ("routine", "urgent", "complex")
STATUSES = ("new", "open", "pending", "resolved", "closed")
# Not finished: the SLA clocks run.
OPEN_STATUSES = ("new", "open", "pending")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    classification: Mapped[str] = mapped_column(String(16))
    # Why it was classified so, in words an agent can check ("text mentions: charged twice").
    classification_reason: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254), index=True)
    # The staff member responsible for the ticket; None while nobody is.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="chat")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Seconds from opening to those two, kept by the ORM (below) for the KPIs' percentiles.
    first_response_seconds: Mapped[float | None]
    resolution_seconds: Mapped[float | None]

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        # Everything the KPI summary reads about the tickets opened in a range, without the rows.
        Index("ix_tickets_report", "created_at", "category", "priority", "classification", "first_response_due",
              "first_responded_at", "resolution_due", "resolved_at", "first_response_seconds", "resolution_seconds"),
    )


class TicketEvent(Base):
    """One change to a ticket: who did what, when, from which value to which."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    # created | status | priority | assignee | note (from the customer)
    # | reply (an agent's public answer to the customer) | internal (a private note for staff)
    kind: Mapped[str] = mapped_column(String(32))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


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

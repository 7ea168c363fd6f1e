"""Ticket tables: the service request and its append-only event history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    and_,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

import bot.users.models  # noqa: F401 - registers `users`, which assignee_id refers to
from bot.db import Base, UTCDateTime, utcnow

PRIORITIES = ("low", "normal", "high", "urgent")
CLASSIFICATIONS = ("routine", "urgent", "complex")
# Where a request, a survey answer or feedback came in: the website chat, an e-mail, or the ticket's own
# page (the link in every e-mail). Managers filter every report by it.
CHANNELS = ("chat", "email", "page")
STATUSES = ("new", "open", "pending", "resolved", "closed")
# Finished: the SLA clocks stop.
DONE_STATUSES = ("resolved", "closed")
# Not finished: the SLA clocks run.
OPEN_STATUSES = tuple(status for status in STATUSES if status not in DONE_STATUSES)


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
    # The gateway's key for the customer's line that opened the ticket: the same line sent again to
    # another Rasa server (its first one died before answering) finds this ticket instead of making a
    # second one.
    source_line: Mapped[str | None] = mapped_column(String(64), unique=True)
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

    # The SLA rules, each defined once for a loaded ticket and for SQL (`Ticket.is_open` in a
    # where clause, `Ticket.is_first_response_overdue(now)` in a count), so the agents' ticket list,
    # the SLA watch, the KPIs and the alerts agree.

    @hybrid_property
    def is_open(self) -> bool:
        """Not resolved or closed: its SLA clocks run."""
        return self.status in OPEN_STATUSES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return cls.status.in_(OPEN_STATUSES)

    @hybrid_property
    def first_answered_at(self) -> datetime | None:
        """When the customer first had an answer: the first public reply, or else the resolution
        (resolving without a reply answers too). None while they have had neither."""
        return self.first_responded_at if self.first_responded_at is not None else self.resolved_at

    @first_answered_at.inplace.expression
    @classmethod
    def _first_answered_at_expression(cls) -> ColumnElement[datetime | None]:
        return func.coalesce(cls.first_responded_at, cls.resolved_at)

    @hybrid_method
    def is_first_response_late(self, now: datetime) -> bool:
        """No answer yet and the first-response due time has passed (whatever the status; on an
        open ticket this is overdue)."""
        return self.first_answered_at is None and self.first_response_due < now

    @is_first_response_late.inplace.expression
    @classmethod
    def _is_first_response_late_expression(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.first_answered_at.is_(None), cls.first_response_due < now)

    @hybrid_method
    def is_resolution_late(self, now: datetime) -> bool:
        """The resolution due time has passed (whatever the status; on an open ticket this is overdue)."""
        return self.resolution_due < now

    @is_resolution_late.inplace.expression
    @classmethod
    def _is_resolution_late_expression(cls, now: datetime) -> ColumnElement[bool]:
        return cls.resolution_due < now

    # Overdue: open and late. Queries that already select open tickets only (the SLA watch and
    # its counts) test just the lateness, so the status is not tested again for every row.

    @hybrid_method
    def is_first_response_overdue(self, now: datetime) -> bool:
        """Open, no answer yet, and the first-response due time has passed."""
        return self.is_open and self.is_first_response_late(now)

    @is_first_response_overdue.inplace.expression
    @classmethod
    def _is_first_response_overdue_expression(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.is_open, cls.is_first_response_late(now))

    @hybrid_method
    def is_resolution_overdue(self, now: datetime) -> bool:
        """Open (not resolved or closed) and the resolution due time has passed."""
        return self.is_open and self.is_resolution_late(now)

    @is_resolution_overdue.inplace.expression
    @classmethod
    def _is_resolution_overdue_expression(cls, now: datetime) -> ColumnElement[bool]:
        return and_(cls.is_open, cls.is_resolution_late(now))


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


class TicketAttachment(Base):
    """A file a customer sent with their words (an e-mail's attachment), kept in the database with the
    ticket: backed up, exported and erased with it. Only types and sizes the settings accept are kept
    (MAIL_ATTACHMENT_TYPES, MAIL_ATTACHMENT_MAX_BYTES), each checked against its content."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # The customer's words it came with.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketLink(Base):
    """A customer's way to their ticket without an account: the link in each e-mail (/ticket#token=...).
    Only the token's SHA-256 is kept; a link works until it expires or is revoked."""

    __tablename__ = "ticket_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

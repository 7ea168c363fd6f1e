"""outbox_mails: each e-mail to a customer, from the change that caused it until it is sent or given up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import bot.recovery.models  # noqa: F401 - registers `recovery_items`, which a follow-up refers to
import bot.tickets.models  # noqa: F401 - registers `tickets`, which each e-mail refers to
from bot.db import Base, UTCDateTime, utcnow

KINDS = ("ticket_opened", "agent_reply", "waiting_on_you", "resolved", "reopened", "recovery", "attachments_refused",
         "message_refused")
# pending: waiting to be sent (again, after a failure, from next_attempt_at); sending: taken by a
# worker until next_attempt_at (another may take it after that); sent; failed: given up.
MAIL_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMail(Base):
    __tablename__ = "outbox_mails"
    __table_args__ = (Index("ix_outbox_mails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # A person's follow-up of an unhappy customer (kind recovery), when it was sent from the recovery item.
    recovery_item_id: Mapped[int | None] = mapped_column(ForeignKey("recovery_items.id", ondelete="SET NULL"),
                                                         index=True)
    kind: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # Set once, when the e-mail is written: a second sending after a crash carries the same id, so the
    # customer's mail program shows one e-mail. Threads hang on the ticket's own id (In-Reply-To).
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    thread_id: Mapped[str | None] = mapped_column(String(250))
    # For an e-mail with something the customer may turn off (the survey in "solved"): the one-click
    # address of RFC 8058 (List-Unsubscribe), on the ticket's page link.
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# added: to its ticket as the customer's words; opened: a new ticket; held: for an agent (a forged ticket
# address, or a sender who is not the ticket's customer); ignored: an automatic message (out of office,
# bounce, list), never answered; refused: too large to take.
INBOUND_OUTCOMES = ("added", "opened", "held", "ignored", "refused")


class InboundMail(Base):
    """Each e-mail taken from the support mailbox, once (by its Message-ID), and what became of it."""

    __tablename__ = "inbound_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(300))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    # What was kept of the text (quoted history and signature trimmed), for a held one an agent reads.
    text: Mapped[str] = mapped_column(Text, default="")


class MailPreference(Base):
    """What a customer's address does not want: e-mails that are not about their own request (the
    satisfaction survey). E-mail about their request itself always goes."""

    __tablename__ = "mail_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    surveys: Mapped[bool] = mapped_column(default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

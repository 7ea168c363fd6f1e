"""Conversations, the transcript (every line by anyone), handoff requests and their events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

import bot.users.models  # noqa: F401 - registers `users`, which agent_id refers to
from bot.db import Base, UTCDateTime, utcnow

# Who holds the conversation: the bot, the queue for a person, a person, or nobody any more.
STATES = ("bot", "queued", "agent", "closed")
SENDERS = ("customer", "bot", "agent", "system")
HANDOFF_STATUSES = ("queued", "active", "resolved", "cancelled", "expired")
# The longest button payload a customer's line may carry (the API refuses longer ones; the bot
# offers no button whose payload would be longer).
PAYLOAD_MAX_CHARS = 500


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # The KPIs read a range's chats from this index alone (the facts below).
        Index("ix_conversations_report", "created_at", "customer_lines", "asked_for_person", "has_ticket", "id"),
        # The sweep's chats left idle with the bot.
        Index("ix_conversations_state_updated", "state", "updated_at"),
    )

    # The session id the widget holds: random, never sequential. Rasa's sender id too.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # SHA-256 of the session token; the token itself is only ever in the customer's browser.
    token_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="bot")
    channel: Mapped[str] = mapped_column(String(32), default="web")
    customer_name: Mapped[str | None] = mapped_column(String(200))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str | None] = mapped_column(String(16))
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its names, addresses and lines were erased (bot.privacy): a customer's erasure, or retention.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Facts the KPIs count chats by, kept as lines, handoffs and tickets are written (the events
    # below, insert_lines, and bot.tickets.models): how many lines the customer wrote, whether
    # anyone asked for a person (any handoff) and whether a ticket refers to the chat.
    customer_lines: Mapped[int] = mapped_column(default=0, server_default="0")
    asked_for_person: Mapped[bool] = mapped_column(default=False, server_default=false())
    has_ticket: Mapped[bool] = mapped_column(default=False, server_default=false())


class Message(Base):
    """One line of the transcript. Its id orders the conversation and is the `after=` cursor."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # The KPIs: customers' lines in a range and how many the bot did not understand; whether
        # a customer wrote in a chat at all.
        Index("ix_messages_created_sender", "created_at", "sender", "fallback"),
        Index("ix_messages_conversation_sender", "conversation_id", "sender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list | None] = mapped_column(JSON)
    # For a customer's button press: the payload sent to the bot (the text is the button's title).
    payload: Mapped[str | None] = mapped_column(String(PAYLOAD_MAX_CHARS))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A customer's line the bot did not understand (its fallback answered it).
    fallback: Mapped[bool] = mapped_column(default=False, server_default=false())


class Handoff(Base):
    """One request for a person: queued until an agent claims it, then active until resolved."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    reason: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When it last started waiting, if not at the request: back in the queue after its agent
    # vanished. The queue timeout counts from here; the order still comes from requested_at.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationEvent(Base):
    """Every change of owner state: from, to, who and why."""

    __tablename__ = "conversation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    # "customer", "bot", "system", or "agent:<user id>" (built and read in bot/actors.py).
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HandoffNote(Base):
    """A private note by an agent on a handoff; never shown to the customer."""

    __tablename__ = "handoff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

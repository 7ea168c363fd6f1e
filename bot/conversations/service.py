"""Chat sessions, the transcript and the owner state machine (bot -> queued -> agent -> bot)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from bot.actors import BOT
from bot.conversations.models import (
    SENDERS,
    Conversation,
    ConversationEvent,
    Handoff,
    Message,
)
from bot.conversations.schemas import MessageOut, SessionCreate
from bot.db import utcnow
from bot.errors import Conflict, Unauthenticated
from bot.metrics import handoff_requested
from bot.reports.rollups import count_customer_lines
from bot.users.service import staff_names

# Which owner changes are allowed; anything else is a bug or a race, and is refused.
TRANSITIONS = {
    ("bot", "queued"), ("queued", "bot"), ("queued", "agent"), ("agent", "bot"),
    ("agent", "queued"),  # the agent's connection is gone: the chat waits for someone else
    ("bot", "agent"),  # an agent picks up a live bot conversation
    ("bot", "closed"), ("queued", "closed"), ("agent", "closed"),
}


class ConversationError(Conflict):
    """A change the conversation's current state does not allow."""


class ChatClosed(ConversationError):
    def __init__(self) -> None:
        super().__init__("this conversation is closed; start a new session")


class UnknownSession(Unauthenticated):
    """The same answer for an unknown session and a wrong token, so session ids cannot be probed."""

    def __init__(self) -> None:
        super().__init__("unknown session or wrong token")


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_conversation(*, session: Session, data: SessionCreate, channel: str = "web") -> tuple[Conversation, str]:
    """A new conversation and the secret token that alone opens it (returned once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    conversation = Conversation(
        id=secrets.token_hex(16), token_hash=_hash_token(token), state="bot", channel=channel,
        customer_name=data.name, customer_email=data.email, locale=data.locale, meta=data.metadata,
    )
    session.add(conversation)
    session.flush()
    return conversation, token


def open_conversation(*, session: Session, conversation_id: str, token: str | None) -> Conversation | None:
    """The conversation if `token` is its token; None for an unknown id or a wrong token alike."""
    conversation = session.get(Conversation, conversation_id) if len(conversation_id) <= 32 else None
    if conversation is None or not token:
        return None
    if not hmac.compare_digest(conversation.token_hash, _hash_token(token)):
        return None
    return conversation


def touch_if_allowed(*, connection: Connection, conversation_id: str, token: str | None,
                     now: datetime) -> str | None:
    """The conversation's state if `token` is its token, None for an unknown id or a wrong token
    alike; the conversation's `updated_at` is set to `now` in the same statement. A caller that
    then refuses must roll back. One statement: this is on every customer message's path."""
    if len(conversation_id) > 32 or not token:
        return None
    row = connection.execute(update(Conversation).where(Conversation.id == conversation_id).values(updated_at=now)
                             .returning(Conversation.token_hash, Conversation.state)).first()
    if row is None or not hmac.compare_digest(row.token_hash, _hash_token(token)):
        return None
    return row.state


# Several lines in one statement; their ids come back in the order given.
_INSERT_LINES = insert(Message).returning(Message.id, sort_by_parameter_order=True)


def insert_lines(*, connection: Connection, conversation_id: str, lines: list[dict], now: datetime) -> list[Message]:
    """Add transcript lines (dicts of Message columns) with one Core statement, not the ORM's
    unit of work: the hot path of every chat message (from a Session: `session.connection()`).
    The conversation's `updated_at` is the caller's to set. The lines come back as detached
    Messages."""
    rows = []
    for line in lines:
        if line.get("sender") not in SENDERS:
            raise ConversationError(f"unknown sender {line.get('sender')!r}")
        rows.append({"text": "", "buttons": None, "payload": None, "agent_id": None, "fallback": False, **line,
                     "conversation_id": conversation_id, "created_at": now})
    if not rows:
        return []
    ids = connection.execute(_INSERT_LINES, rows).scalars().all()
    count_customer_lines(connection, conversation_id, sum(row["sender"] == "customer" for row in rows))
    return [Message(id=line_id, **row) for line_id, row in zip(ids, rows, strict=True)]


def append_lines(*, connection: Connection, conversation_id: str, lines: list[dict], now: datetime | None = None,
                 only_in_state: str | None = None) -> list[Message] | None:
    """`insert_lines`, and the conversation's `updated_at`. With `only_in_state`, nothing is
    added (and None returned) unless the conversation is in that state; the check and the
    claim are one UPDATE."""
    now = now or utcnow()
    touch = update(Conversation).where(Conversation.id == conversation_id)
    if only_in_state is not None:
        touch = touch.where(Conversation.state == only_in_state)
    if connection.execute(touch.values(updated_at=now)).rowcount != 1:
        return None
    return insert_lines(connection=connection, conversation_id=conversation_id, lines=lines, now=now)


def add_message(*, session: Session, conversation: Conversation, sender: str, text: str,
                buttons: list[dict] | None = None, payload: str | None = None,
                agent_id: int | None = None, now: datetime | None = None) -> Message:
    if sender not in SENDERS:
        raise ConversationError(f"unknown sender {sender!r}")
    now = now or utcnow()
    message = Message(conversation_id=conversation.id, sender=sender, text=text, buttons=buttons or None,
                      payload=payload, agent_id=agent_id, created_at=now)
    session.add(message)
    conversation.updated_at = now
    session.flush()
    return message


def messages_after(*, session: Session, conversation: Conversation | str, after: int | None = None,
                   limit: int = 500) -> list[Message]:
    """The conversation's lines (given as the row or its id) after the line `after`, oldest first."""
    conversation_id = conversation if isinstance(conversation, str) else conversation.id
    query = select(Message).where(Message.conversation_id == conversation_id)
    if after is not None:
        query = query.where(Message.id > after)
    return list(session.scalars(query.order_by(Message.id).limit(limit)))


def newest_line_id(*, session: Session, conversation_id: str) -> int:
    """The id of the conversation's latest line (0 before the first)."""
    return session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id)) or 0


def message_views(messages: list[Message], db: Session | Connection) -> list[MessageOut]:
    """Transcript lines as customers and agents see them, each agent's line with the agent's name."""
    names = staff_names(db, {m.agent_id for m in messages if m.agent_id is not None})
    return [MessageOut(id=m.id, sender=m.sender, text=m.text, buttons=m.buttons or [], created_at=m.created_at,
                       agent_name=names.get(m.agent_id)) for m in messages]


def offered_buttons(*, connection: Connection, conversation_id: str) -> list[dict]:
    """The buttons of the bot's latest turn: its lines after the customer line it answered. A turn
    ends when the bot answers the next customer line, so pressing again or an older button is
    refused; while the bot has not answered (it was unavailable), its last buttons still stand, as
    they do in the widget. Oldest first."""
    latest_bot = (select(func.max(Message.id))
                  .where(Message.conversation_id == conversation_id, Message.sender == "bot").scalar_subquery())
    since = (select(func.coalesce(func.max(Message.id), 0))
             .where(Message.conversation_id == conversation_id, Message.sender == "customer",
                    Message.id < latest_bot).scalar_subquery())
    rows = connection.scalars(
        select(Message.buttons).where(Message.conversation_id == conversation_id, Message.sender == "bot",
                                      Message.buttons.is_not(None), Message.id > since).order_by(Message.id))
    return [button for buttons in rows for button in buttons or []]


def change_state(*, session: Session, conversation: Conversation, to_state: str, actor: str,
                 reason: str = "", handoff: Handoff | None = None, now: datetime | None = None) -> ConversationEvent:
    if (conversation.state, to_state) not in TRANSITIONS:
        raise ConversationError(f"a conversation in state {conversation.state!r} cannot move to {to_state!r}")
    now = now or utcnow()
    event = ConversationEvent(conversation_id=conversation.id, handoff_id=handoff.id if handoff else None,
                              from_state=conversation.state, to_state=to_state, actor=actor, reason=reason,
                              created_at=now)
    conversation.state = to_state
    conversation.updated_at = now
    if to_state == "closed":
        conversation.closed_at = now
    session.add(event)
    session.flush()
    return event


def request_handoff(*, session: Session, conversation: Conversation, reason: str, actor: str = BOT,
                    now: datetime | None = None) -> Handoff:
    """Put the conversation in the queue for a person (from state bot only)."""
    now = now or utcnow()
    if conversation.state != "bot":
        raise ConversationError(f"a conversation in state {conversation.state!r} cannot be queued")
    handoff = Handoff(conversation_id=conversation.id, status="queued", reason=reason[:32], requested_at=now)
    session.add(handoff)
    session.flush()
    handoff_requested(handoff.reason, "queued")
    change_state(session=session, conversation=conversation, to_state="queued", actor=actor, reason=reason,
                 handoff=handoff, now=now)
    return handoff


def events_of(*, session: Session, conversation: Conversation) -> list[ConversationEvent]:
    return list(session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation.id)
                                .order_by(ConversationEvent.id)))

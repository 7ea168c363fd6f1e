"""Handoffs to people: race-safe claims with a per-agent limit, an agent joining unasked, agent
lines, private notes, transfers, resolving, the customer leaving, idle chats closed, and chats
going back to the queue when their agent is gone. The waiting list itself is queue.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.actors import CUSTOMER, SYSTEM, agent_actor
from bot.conversations.models import Conversation, ConversationEvent, Handoff, HandoffNote, Message
from bot.conversations.service import ConversationError, add_message, change_state
from bot.db import utcnow
from bot.errors import Forbidden, Invalid, NotFound
from bot.metrics import HANDOFFS_CLAIMED
from bot.settings import Settings, get_settings
from bot.tickets.service import change_status, ticket_by_reference
from bot.users.models import User


# Why nobody can take the chat, as a handoff's end reason.
class ClaimConflict(ConversationError):
    """Someone else claimed it first, or it is no longer waiting."""


class AtCapacity(ConversationError):
    """The agent already holds as many live chats as allowed."""


class NotYours(ConversationError, Forbidden):
    """The handoff is held by another agent (or by nobody)."""


class NoSuchHandoff(NotFound):
    def __init__(self) -> None:
        super().__init__("no such handoff")


def live_chats(*, session: Session, agent: User) -> int:
    return session.scalar(select(func.count(Handoff.id)).where(Handoff.agent_id == agent.id,
                                                                Handoff.status == "active")) or 0


def claim(*, session: Session, handoff_id: int, agent: User, now: datetime | None = None) -> Handoff:
    """Exactly one of several agents claiming at once wins: the status changes from queued to
    active in one conditional UPDATE, and only the agent whose UPDATE changed a row goes on.
    The UPDATE is the first statement so that, on SQLite too, the transaction takes the write
    lock before it reads anything. Over the agent's limit, AtCapacity is raised and the caller's
    transaction must roll back; an agent's own simultaneous claims are counted one after another."""
    now = now or utcnow()
    won = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "queued")
        .values(status="active", agent_id=agent.id, claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ClaimConflict("this conversation is no longer waiting: someone else has it, or it ended")
    limit = get_settings().agent_max_live_chats
    # One agent's simultaneous claims take turns on their user row, so each count below sees
    # the others' committed claims (PostgreSQL; SQLite already runs one writer at a time).
    # FOR NO KEY UPDATE: it must not wait on the key-share lock the other claim's UPDATE holds
    # on the same row through its foreign key, or the two would deadlock.
    session.execute(select(User.id).where(User.id == agent.id).with_for_update(key_share=True))
    if live_chats(session=session, agent=agent) > limit:
        raise AtCapacity(f"you already hold {limit} live chats")
    handoff = session.get(Handoff, handoff_id)
    session.refresh(handoff)
    conversation = session.get(Conversation, handoff.conversation_id)
    change_state(session=session, conversation=conversation, to_state="agent", actor=agent_actor(agent),
                 reason="claimed", handoff=handoff, now=now)
    conversation.agent_id = agent.id
    add_message(session=session, conversation=conversation, sender="system", text=f"{agent.name} joined the chat.",
                now=now)
    HANDOFFS_CLAIMED.inc()
    return handoff


def live_conversations(*, session: Session, now: datetime | None = None, minutes: int = 30,
                       limit: int = 100) -> list[tuple[Conversation, Message | None]]:
    """Chats the bot is handling that were active in the last `minutes`, newest activity
    first, each with the customer's latest line: what an agent may pick up unasked."""
    now = now or utcnow()
    chats = list(session.scalars(select(Conversation).where(
        Conversation.state == "bot", Conversation.updated_at >= now - timedelta(minutes=minutes))
        .order_by(Conversation.updated_at.desc()).limit(limit)))
    latest: dict[str, Message] = {}
    if chats:
        newest = (select(Message.conversation_id, func.max(Message.id).label("id"))
                  .where(Message.conversation_id.in_([c.id for c in chats]), Message.sender == "customer")
                  .group_by(Message.conversation_id).subquery())
        for message in session.scalars(select(Message).join(newest, Message.id == newest.c.id)):
            latest[message.conversation_id] = message
    return [(chat, latest.get(chat.id)) for chat in chats]


def take_over(*, session: Session, conversation_id: str, agent: User, now: datetime | None = None) -> Handoff:
    """An agent joins a chat the bot is handling, unasked: from here on the bot is silent, as
    after a claim. Race-safe like a claim (the bot's own handoff, or another agent, may get
    there first), within the agent's limit."""
    now = now or utcnow()
    won = session.execute(
        update(Conversation).where(Conversation.id == conversation_id, Conversation.state == "bot")
        .values(state="agent", agent_id=agent.id, updated_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        if session.get(Conversation, conversation_id) is None:
            raise NotFound("no such conversation")
        raise ClaimConflict("this chat is no longer with the bot: someone else has it, or it ended")
    session.execute(select(User.id).where(User.id == agent.id).with_for_update(key_share=True))
    limit = get_settings().agent_max_live_chats
    if live_chats(session=session, agent=agent) >= limit:
        raise AtCapacity(f"you already hold {limit} live chats")
    conversation = session.get(Conversation, conversation_id)
    session.refresh(conversation)
    handoff = Handoff(conversation_id=conversation_id, status="active", reason="agent_joined", agent_id=agent.id,
                      requested_at=now, claimed_at=now)
    session.add(handoff)
    session.flush()
    session.add(ConversationEvent(conversation_id=conversation_id, handoff_id=handoff.id, from_state="bot",
                                  to_state="agent", actor=agent_actor(agent), reason="agent joined", created_at=now))
    add_message(session=session, conversation=conversation, sender="system", text=f"{agent.name} joined the chat.",
                now=now)
    HANDOFFS_CLAIMED.inc()
    return handoff


def held_by(*, session: Session, handoff_id: int, agent: User) -> tuple[Handoff, Conversation]:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None or handoff.agent_id != agent.id:
        raise NotYours("this conversation is not yours to act on")
    if handoff.status != "active":
        raise NotYours("this chat has ended; it is no longer yours to act on")
    return handoff, session.get(Conversation, handoff.conversation_id)


def agent_says(*, session: Session, handoff_id: int, agent: User, text: str) -> Message:
    _, conversation = held_by(session=session, handoff_id=handoff_id, agent=agent)
    return add_message(session=session, conversation=conversation, sender="agent", text=text, agent_id=agent.id)


def add_note(*, session: Session, handoff_id: int, agent: User, text: str) -> HandoffNote:
    """Any agent may annotate any handoff they can see; notes never reach the customer."""
    handoff_by_id(session=session, handoff_id=handoff_id)
    note = HandoffNote(handoff_id=handoff_id, agent_id=agent.id, text=text)
    session.add(note)
    session.flush()
    return note


def notes_of(*, session: Session, handoff_id: int) -> list[HandoffNote]:
    return list(session.scalars(select(HandoffNote).where(HandoffNote.handoff_id == handoff_id)
                                .order_by(HandoffNote.id)))


def transfer(*, session: Session, handoff_id: int, agent: User, to_agent: User,
             now: datetime | None = None) -> Handoff:
    now = now or utcnow()
    handoff, conversation = held_by(session=session, handoff_id=handoff_id, agent=agent)
    if not to_agent.active:
        raise ConversationError(f"{to_agent.name} cannot take chats (account disabled)")
    if to_agent.id == agent.id:
        raise ConversationError("that is you already")
    # The target's own claims at the same moment take turns with this on their user row.
    session.execute(select(User.id).where(User.id == to_agent.id).with_for_update(key_share=True))
    if live_chats(session=session, agent=to_agent) >= get_settings().agent_max_live_chats:
        raise AtCapacity(f"{to_agent.name} already holds {get_settings().agent_max_live_chats} live chats")
    handoff.agent_id = to_agent.id
    conversation.agent_id = to_agent.id
    session.add(ConversationEvent(conversation_id=conversation.id, handoff_id=handoff.id, from_state="agent",
                                  to_state="agent", actor=agent_actor(agent),
                                  reason=f"transferred to {agent_actor(to_agent)}", created_at=now))
    add_message(session=session, conversation=conversation, sender="system",
                text=f"{agent.name} handed the chat to {to_agent.name}.", now=now)
    return handoff


def cancel_by_customer(*, session: Session, conversation: Conversation,
                       now: datetime | None = None) -> tuple[Handoff, Message]:
    """The customer stops waiting and goes back to the bot (only while queued); the handoff
    and the system line that tells them so. Race-safe against a claim or the queue timeout at
    the same moment: a conditional UPDATE first, so exactly one of them happens."""
    now = now or utcnow()
    won = session.execute(
        update(Handoff).where(Handoff.conversation_id == conversation.id, Handoff.status == "queued")
        .values(status="cancelled", ended_at=now).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        raise ConversationError("you are not waiting for a person")
    handoff = session.scalar(select(Handoff).where(Handoff.conversation_id == conversation.id,
                                                   Handoff.status == "cancelled")
                             .order_by(Handoff.id.desc()).limit(1).execution_options(populate_existing=True))
    session.refresh(conversation)
    change_state(session=session, conversation=conversation, to_state="bot", actor=CUSTOMER,
                 reason="customer cancelled", handoff=handoff, now=now)
    line = add_message(session=session, conversation=conversation, sender="system",
                       text="You left the queue; the assistant is back with you.", now=now)
    return handoff, line


def end_by_customer(*, session: Session, conversation: Conversation, now: datetime | None = None,
                    ) -> tuple[Handoff | None, int | None, Message]:
    """The customer ends the chat, whoever holds it: a wait for a person is cancelled, a live
    chat with an agent is resolved. The handoff ended (if any), the agent who lost the chat (if
    any), and the system line. Handoffs are changed first, with conditional UPDATEs, as a claim
    changes them first: the two take their locks in one order and exactly one of them wins."""
    now = now or utcnow()
    ended: Handoff | None = None
    for before, after in (("queued", "cancelled"), ("active", "resolved")):
        open_one = session.scalar(select(Handoff.id).where(Handoff.conversation_id == conversation.id,
                                                           Handoff.status == before))
        if open_one is not None and session.execute(
                update(Handoff).where(Handoff.id == open_one, Handoff.status == before)
                .values(status=after, ended_at=now).execution_options(synchronize_session=False)).rowcount == 1:
            ended = session.get(Handoff, open_one)
            session.refresh(ended)
    session.refresh(conversation)
    if conversation.state == "closed":
        raise ConversationError("this conversation is already closed")
    agent_id = ended.agent_id if ended is not None and ended.status == "resolved" else None
    change_state(session=session, conversation=conversation, to_state="closed", actor=CUSTOMER,
                 reason="customer ended the chat", handoff=ended, now=now)
    line = add_message(session=session, conversation=conversation, sender="system", now=now,
                       text="You ended the chat. Thank you for contacting us.")
    return ended, agent_id, line


def idle_conversations(*, session: Session, now: datetime, settings: Settings | None = None,
                       limit: int = 500) -> list[str]:
    """Chats the bot holds with no line from anyone for CHAT_IDLE_CLOSE_MINUTES, oldest first."""
    settings = settings or get_settings()
    cutoff = now - timedelta(minutes=settings.chat_idle_close_minutes)
    return list(session.scalars(select(Conversation.id).where(Conversation.state == "bot",
                                                              Conversation.updated_at < cutoff)
                                .order_by(Conversation.updated_at).limit(limit)))


def close_if_idle(*, session: Session, conversation_id: str, now: datetime | None = None,
                  settings: Settings | None = None) -> str | None:
    """Close a chat left idle with the bot; its id, or None if it had a line (or a handoff)
    since it was picked. The check and the change are one conditional UPDATE."""
    settings = settings or get_settings()
    now = now or utcnow()
    cutoff = now - timedelta(minutes=settings.chat_idle_close_minutes)
    won = session.execute(
        update(Conversation).where(Conversation.id == conversation_id, Conversation.state == "bot",
                                   Conversation.updated_at < cutoff)
        .values(state="closed", closed_at=now, updated_at=now).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        return None
    minutes = f"{settings.chat_idle_close_minutes:g} minute" + ("" if settings.chat_idle_close_minutes == 1 else "s")
    session.add(ConversationEvent(conversation_id=conversation_id, from_state="bot", to_state="closed",
                                  actor=SYSTEM, reason="inactive", created_at=now))
    session.add(Message(conversation_id=conversation_id, sender="system", created_at=now,
                        text=f"This chat was closed after {minutes} without messages. "
                             "You can start a new one any time."))
    session.flush()
    return conversation_id


def resolve(*, session: Session, handoff_id: int, agent: User, now: datetime | None = None) -> tuple[Handoff, Message]:
    """The holder is done: the handoff is resolved and the conversation goes back to the bot.
    The conversation keeps `agent_id`, so what follows (the survey) is attributed to them."""
    now = now or utcnow()
    handoff, conversation = held_by(session=session, handoff_id=handoff_id, agent=agent)
    handoff.status, handoff.ended_at = "resolved", now
    change_state(session=session, conversation=conversation, to_state="bot", actor=agent_actor(agent),
                 reason="resolved", handoff=handoff, now=now)
    line = add_message(session=session, conversation=conversation, sender="system",
                       text=f"{agent.name} has left the chat.", now=now)
    return handoff, line


def chats_of_vanished_agents(*, session: Session, now: datetime, settings: Settings | None = None) -> list[int]:
    """Active handoffs whose agent's console has been silent for longer than the reconnect
    grace. Agents who never used the console (API only) are left alone."""
    settings = settings or get_settings()
    gone_before = now - timedelta(seconds=settings.agent_reconnect_grace_seconds)
    return list(session.scalars(
        select(Handoff.id).where(Handoff.status == "active", Handoff.agent_id.in_(_vanished_agents(gone_before)))
        .order_by(Handoff.requested_at, Handoff.id)))


def _vanished_agents(gone_before: datetime):
    """Agents whose console has not been heard from since `gone_before`, whatever their
    presence (away too). Agents who never used the console have no last_seen_at."""
    return select(User.id).where(User.last_seen_at.is_not(None), User.last_seen_at < gone_before)


def back_to_queue(*, session: Session, handoff_id: int, now: datetime | None = None,
                  settings: Settings | None = None) -> tuple[Handoff, int] | None:
    """The agent's connection is gone for good: the chat waits again, keeping its original
    request time so it is served before later arrivals. The handoff and the agent who lost
    it; None if it is no longer active, or its agent came back, since it was picked."""
    settings = settings or get_settings()
    now = now or utcnow()
    gone_before = now - timedelta(seconds=settings.agent_reconnect_grace_seconds)
    # The conditional UPDATE comes first (as in `claim`), so it is race-safe and takes the write lock.
    won = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "active",
                              Handoff.agent_id.in_(_vanished_agents(gone_before)))
        .values(status="queued", claimed_at=None, queued_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        return None
    handoff = session.get(Handoff, handoff_id)
    session.refresh(handoff)
    agent_id, handoff.agent_id = handoff.agent_id, None
    conversation = session.get(Conversation, handoff.conversation_id)
    agent = session.get(User, agent_id)
    change_state(session=session, conversation=conversation, to_state="queued", actor=SYSTEM,
                 reason=f"{agent_actor(agent)} disconnected", handoff=handoff, now=now)
    conversation.agent_id = None
    add_message(session=session, conversation=conversation, sender="system", now=now,
                text=f"{agent.name} lost their connection. You're back at the front of the queue for the next "
                     "free person.")
    return handoff, agent_id


def held_handoffs(*, session: Session, agent_id: int) -> list[Handoff]:
    """The live chats this agent holds, the earliest claimed first."""
    return list(session.scalars(select(Handoff).where(Handoff.agent_id == agent_id, Handoff.status == "active")
                                .order_by(Handoff.claimed_at, Handoff.id)))


def live_chat_counts(*, session: Session) -> dict[int, int]:
    """How many live chats each agent holds (agents holding none are absent)."""
    return dict(session.execute(select(Handoff.agent_id, func.count(Handoff.id)).where(Handoff.status == "active")
                                .group_by(Handoff.agent_id)).all())


def handoff_by_id(*, session: Session, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NoSuchHandoff()
    return handoff


def transfer_to(*, session: Session, handoff_id: int, agent: User, to_agent_id: int) -> tuple[Handoff, User]:
    """`transfer` to the staff member with this id (NotFound for no such account)."""
    target = session.get(User, to_agent_id)
    if target is None:
        raise NotFound("no such agent")
    return transfer(session=session, handoff_id=handoff_id, agent=agent, to_agent=target), target


def resolve_with_ticket(*, session: Session, handoff_id: int, agent: User, ticket_ref: str | None = None,
                        ticket_status: str | None = None) -> Handoff:
    """`resolve`, and give the ticket the chat was about a new status in the same step."""
    if ticket_status and not ticket_ref:
        raise Invalid("ticket_status needs ticket_ref")
    handoff, _ = resolve(session=session, handoff_id=handoff_id, agent=agent)
    if ticket_ref:
        ticket = ticket_by_reference(session=session, reference=ticket_ref)
        if ticket_status:
            change_status(session=session, ticket=ticket, to_status=ticket_status, actor=agent_actor(agent))
    return handoff


def conversations_of(*, session: Session, conversation_ids: set[str]) -> dict[str, Conversation]:
    if not conversation_ids:
        return {}
    return {c.id: c for c in session.scalars(select(Conversation).where(Conversation.id.in_(conversation_ids)))}

"""The waiting list: who is served next (priority, then the longest wait), each customer's place
and expected wait, and what happens when nobody can come (outside hours, nobody online) or nobody
comes in time: the customer gets a ticket with the chat attached, and the bot back."""


from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.actors import SYSTEM
from bot.conversations.models import Conversation, ConversationEvent, Handoff, Message
from bot.conversations.service import add_message, change_state
from bot.db import utcnow
from bot.metrics import handoff_requested
from bot.settings import Settings, get_settings
from bot.tickets.classification import guess_category
from bot.tickets.models import OPEN_STATUSES, PRIORITIES, Ticket
from bot.tickets.schemas import MAX_DESCRIPTION, TicketCreate
from bot.tickets.service import add_customer_info, create_ticket
from bot.tickets.wording import plain_duration, plain_time
from bot.users.models import User

# Why nobody can take the chat, as a handoff's end reason.
OUTSIDE_HOURS = "outside business hours"
NOBODY_ONLINE = "no agent online"
NOBODY_IN_TIME = "no agent in time"
# A handoff's priority from its reason when no open ticket says more; others are normal.
REASON_PRIORITY = {"recovery": "high"}


def list_handoffs(*, session: Session, status: str) -> list[Handoff]:
    """Handoffs in one status; the queue in serving order (see `queue_order`), others newest first."""
    if status == "queued":
        return [handoff for handoff, _, _ in queue_order(session=session)]
    query = select(Handoff).where(Handoff.status == status).order_by(Handoff.requested_at.desc(), Handoff.id.desc())
    return list(session.scalars(query.limit(500)))


def linked_tickets(*, session: Session, conversation_ids: set[str]) -> dict[str, Ticket]:
    """The newest ticket of each conversation that has one."""
    if not conversation_ids:
        return {}
    found: dict[str, Ticket] = {}
    for ticket in session.scalars(select(Ticket).where(Ticket.conversation_id.in_(conversation_ids))
                                  .order_by(Ticket.created_at, Ticket.id)):
        found[ticket.conversation_id] = ticket
    return found


def handoff_priority(handoff: Handoff, ticket: Ticket | None) -> str:
    """The higher of what the reason implies (an unhappy customer's follow-up is high) and the
    priority of the open ticket the chat is about."""
    priority = REASON_PRIORITY.get(handoff.reason, "normal")
    if ticket is not None and ticket.status in OPEN_STATUSES and PRIORITIES.index(ticket.priority) > PRIORITIES.index(
            priority):
        priority = ticket.priority
    return priority


def queue_order(*, session: Session) -> list[tuple[Handoff, str, Ticket | None]]:
    """Waiting handoffs in the order they should be served: higher priority first, then the
    longest wait. Each with its priority and linked ticket."""
    waiting = list(session.scalars(select(Handoff).where(Handoff.status == "queued")))
    tickets = linked_tickets(session=session, conversation_ids={handoff.conversation_id for handoff in waiting})
    rows = [(handoff, handoff_priority(handoff, tickets.get(handoff.conversation_id)),
             tickets.get(handoff.conversation_id)) for handoff in waiting]
    rows.sort(key=lambda row: (-PRIORITIES.index(row[1]), row[0].requested_at, row[0].id))
    return rows


def queue_position(*, session: Session, handoff: Handoff) -> int | None:
    """1 for the next in line; None when not waiting."""
    if handoff.status != "queued":
        return None
    for position, (waiting, _, _) in enumerate(queue_order(session=session), start=1):
        if waiting.id == handoff.id:
            return position
    return None


def online_agents(*, session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.active.is_(True), User.presence == "online")) or 0


def wait_estimate(*, session: Session, position: int, recent: int = 20) -> int | None:
    """Seconds until a person joins, roughly: the median wait of the last `recent` claims (chats
    an agent joined unasked never waited), times the position, shared among the agents online.
    None until there is a claim to learn from."""
    waits = sorted((claimed - requested).total_seconds() for requested, claimed in session.execute(
        select(Handoff.requested_at, Handoff.claimed_at).where(Handoff.claimed_at.is_not(None),
                                                               Handoff.reason != "agent_joined")
        .order_by(Handoff.claimed_at.desc()).limit(recent)))
    if not waits:
        return None
    middle = len(waits) // 2
    median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
    return round(median * position / max(1, online_agents(session=session)))


def why_nobody_can_come(*, session: Session, now: datetime, settings: Settings | None = None) -> str | None:
    """None when a person may take the chat; otherwise the reason nobody can."""
    settings = settings or get_settings()
    if not settings.opening_hours.is_open(now):
        return OUTSIDE_HOURS
    return None if online_agents(session=session) else NOBODY_ONLINE


def _apology(why: str, settings: Settings) -> str:
    if why == OUTSIDE_HOURS:
        return f"Sorry, our team isn't in right now: we chat {settings.opening_hours.describe()}."
    if why == NOBODY_ONLINE:
        return "Sorry, no one from our team is available to chat right now."
    return "Sorry, no one from our team was free in time."


def divert_to_ticket(*, session: Session, conversation: Conversation, handoff: Handoff, why: str,
                     now: datetime | None = None, settings: Settings | None = None) -> tuple[Ticket, Message]:
    """Nobody can take the chat: what the customer said becomes a ticket linked to this
    conversation (its transcript goes with it), and a system line gives them the reference
    and when to expect an answer. The conversation stays with, or goes back to, the bot."""
    settings = settings or get_settings()
    now = now or utcnow()
    existing = linked_tickets(session=session, conversation_ids={conversation.id}).get(conversation.id)
    if existing is not None and existing.status in OPEN_STATUSES:
        # This chat already has an open ticket (e.g. the recovery ticket after a low score):
        # no second one; the request for a person is noted on it.
        ticket = existing
        add_customer_info(session=session, ticket=ticket, actor=SYSTEM, now=now,
                          text=f"The customer asked to talk to a person in the chat; {why}.")
    else:
        said = session.scalars(select(Message.text).where(Message.conversation_id == conversation.id,
                                                          Message.sender == "customer").order_by(Message.id)).all()
        description = "\n".join(text for text in said if text.strip())[-MAX_DESCRIPTION:].strip()
        description = description or "The customer asked to talk to a person."
        known = [category.key for category in settings.ticket_categories]
        category = guess_category(description, settings.ticket_categories) or (
            "other" if "other" in known else known[-1])
        ticket = create_ticket(session=session, settings=settings, now=now, actor=SYSTEM, data=TicketCreate(
            description=description, category=category, customer_name=conversation.customer_name,
            customer_email=conversation.customer_email, conversation_id=conversation.id, channel="chat"))
    target = settings.sla_policy[ticket.priority]
    when = f"within {plain_duration(target.first_response_hours)} (by {plain_time(ticket.first_response_due)})"
    if conversation.customer_email:
        follow = (f"Our team will reply {when}. The answer will appear here, and you can ask me about "
                  f"{ticket.reference} with your e-mail address any time.")
    else:
        follow = (f"Our team will reply {when}, and the answer will appear here in this chat: keep this page, "
                  f"or note the reference.")
    saved = "added this conversation to your ticket" if ticket is existing else "saved this conversation as ticket"
    text = (f"{_apology(why, settings)} I've {saved} {ticket.reference}. {follow} "
            "Meanwhile the assistant is here if you need anything else.")
    line = add_message(session=session, conversation=conversation, sender="system", text=text, now=now)
    handoff.ended_at = now
    return ticket, line


def refuse_handoff(*, session: Session, conversation: Conversation, reason: str, why: str,
                   now: datetime | None = None, settings: Settings | None = None) -> tuple[Handoff, Message]:
    """The bot asked for a person while nobody can come: the request is recorded (status
    `unavailable`, for the reports) and becomes a ticket; the bot keeps the conversation."""
    now = now or utcnow()
    handoff = Handoff(conversation_id=conversation.id, status="unavailable", reason=reason[:32], requested_at=now)
    session.add(handoff)
    session.flush()
    handoff_requested(handoff.reason, "unavailable")
    session.add(ConversationEvent(conversation_id=conversation.id, handoff_id=handoff.id, from_state="bot",
                                  to_state="bot", actor=SYSTEM, reason=why, created_at=now))
    _, line = divert_to_ticket(session=session, conversation=conversation, handoff=handoff, why=why, now=now,
                               settings=settings)
    return handoff, line


def overdue_handoffs(*, session: Session, now: datetime, settings: Settings | None = None) -> list[int]:
    """Ids of handoffs waiting for longer than the queue timeout (counted from when they last
    started waiting), longest waiting first."""
    settings = settings or get_settings()
    limit = now - timedelta(seconds=settings.handoff_queue_timeout_seconds)
    waiting_since = func.coalesce(Handoff.queued_at, Handoff.requested_at)
    return list(session.scalars(select(Handoff.id).where(Handoff.status == "queued", waiting_since <= limit)
                                .order_by(Handoff.requested_at, Handoff.id)))


def expire_if_waiting(*, session: Session, handoff_id: int, now: datetime | None = None,
                      settings: Settings | None = None) -> Handoff | None:
    """Nobody claimed it in time: the customer gets a ticket and the bot back. Race-safe like
    a claim (a conditional UPDATE first), so a claim at the same moment, or the same sweep in
    another API process, wins or loses cleanly. None if it was no longer waiting."""
    now = now or utcnow()
    won = session.execute(
        update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "queued")
        .values(status="expired", ended_at=now).execution_options(synchronize_session=False)).rowcount
    if won != 1:
        return None
    handoff = session.get(Handoff, handoff_id)
    session.refresh(handoff)
    conversation = session.get(Conversation, handoff.conversation_id)
    change_state(session=session, conversation=conversation, to_state="bot", actor=SYSTEM, reason=NOBODY_IN_TIME,
                 handoff=handoff, now=now)
    divert_to_ticket(session=session, conversation=conversation, handoff=handoff, why=NOBODY_IN_TIME, now=now,
                     settings=settings)
    return handoff


def waiting_place(*, session: Session, conversation_id: str) -> tuple[int | None, int | None]:
    """Where a queued conversation stands: its place in the queue (1 = next) and the estimated
    seconds until a person joins (None until there is history to estimate from)."""
    handoff = session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                   Handoff.status == "queued"))
    position = queue_position(session=session, handoff=handoff) if handoff else None
    return position, wait_estimate(session=session, position=position) if position else None

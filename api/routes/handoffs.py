"""The agent side of a handoff: the queue, claim, live lines, private notes, transfer, resolve."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, status
from pydantic import BaseModel, Field, StrictBool, field_validator
from sqlalchemy.orm import Session

from api.deps import Agent, PathId, SessionDep
from api.live.broker import conversation_channel
from api.live.frames import announce
from bot.conversations.handoffs import (
    add_note,
    agent_says,
    claim,
    conversations_of,
    handoff_by_id,
    held_by,
    live_conversations,
    notes_of,
    resolve_with_ticket,
    take_over,
    transfer_to,
)
from bot.conversations.models import Handoff
from bot.conversations.queue import handoff_priority, linked_tickets, list_handoffs, queue_order
from bot.conversations.relay import BotUnavailable, refuse_if_too_long, store_bot_replies
from bot.conversations.schemas import MessageOut
from bot.conversations.service import message_views, messages_after
from bot.db import transaction, utcnow
from bot.inputs import RowId
from bot.textscan import NOT_BLANK
from bot.users.models import User
from bot.users.service import get_user, staff_names

router = APIRouter(prefix="/api/v1/handoffs", tags=["handoffs"])
# queued: waiting; active: an agent holds it; resolved: the agent finished; cancelled: the customer
# left the queue; expired: nobody claimed it in time; unavailable: nobody could come (hours, no one
# online). The last two became tickets.
HandoffStatus = Literal["queued", "active", "resolved", "cancelled", "expired", "unavailable"]


class HandoffOut(BaseModel):
    id: int
    conversation_id: str
    status: HandoffStatus
    reason: str
    requested_at: datetime
    claimed_at: datetime | None
    wait_seconds: float = Field(description="from the request to the claim, or to now while waiting")
    queue_position: int | None = Field(description="1 = next in line; null unless queued")
    priority: Literal["low", "normal", "high", "urgent"] = Field(
        description="the higher of the reason's (a low-score follow-up is high) and the linked open ticket's")
    ticket_ref: str | None = Field(description="the newest ticket opened from this chat, if any")
    customer_name: str | None
    customer_email: str | None
    agent_id: int | None
    agent_name: str | None


class NoteOut(BaseModel):
    id: int
    agent_id: int
    agent_name: str | None
    text: str
    created_at: datetime


class HandoffDetail(BaseModel):
    handoff: HandoffOut
    transcript: list[MessageOut]
    notes: list[NoteOut]


class TextIn(BaseModel):
    text: str = Field(json_schema_extra={"pattern": NOT_BLANK})

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is empty")
        return value


class TransferIn(BaseModel):
    agent_id: RowId


def describe(session: Session, handoffs: list[Handoff]) -> list[HandoffOut]:
    """Handoffs as agents see them, with a handful of queries whatever their number."""
    conversations = conversations_of(session=session, conversation_ids={h.conversation_id for h in handoffs})
    names = staff_names(session, {h.agent_id for h in handoffs if h.agent_id})
    tickets = linked_tickets(session=session, conversation_ids=set(conversations))
    positions = ({waiting.id: position for position, (waiting, _, _) in enumerate(queue_order(session=session), 1)}
                 if any(h.status == "queued" for h in handoffs) else {})
    now = utcnow()
    out = []
    for handoff in handoffs:
        conversation, ticket = conversations[handoff.conversation_id], tickets.get(handoff.conversation_id)
        waited = (handoff.claimed_at or handoff.ended_at or now) - handoff.requested_at
        out.append(HandoffOut(
            id=handoff.id, conversation_id=handoff.conversation_id, status=handoff.status, reason=handoff.reason,
            requested_at=handoff.requested_at, claimed_at=handoff.claimed_at, wait_seconds=waited.total_seconds(),
            queue_position=positions.get(handoff.id), priority=handoff_priority(handoff, ticket),
            ticket_ref=ticket.reference if ticket else None,
            customer_name=conversation.customer_name, customer_email=conversation.customer_email,
            agent_id=handoff.agent_id, agent_name=names.get(handoff.agent_id) if handoff.agent_id else None))
    return out


def _out(session: Session, handoff: Handoff) -> HandoffOut:
    return describe(session, [handoff])[0]


@router.get("", response_model=list[HandoffOut])
def handoffs(session: SessionDep, _: Agent,
             status_: Annotated[HandoffStatus, Query(alias="status")] = "queued") -> list[HandoffOut]:
    """Handoffs in one status. The queue is in serving order: higher priority first (from the
    reason and the open ticket the chat is about), then the longest wait; the others newest first."""
    return describe(session, list_handoffs(session=session, status=status_))


@router.get("/{handoff_id}", response_model=HandoffDetail)
def handoff_detail(handoff_id: PathId, session: SessionDep, _: Agent) -> HandoffDetail:
    """The handoff, the whole transcript (the bot's part included) and the private notes."""
    handoff = handoff_by_id(session=session, handoff_id=handoff_id)
    notes = notes_of(session=session, handoff_id=handoff_id)
    names = staff_names(session, {note.agent_id for note in notes})
    lines = messages_after(session=session, conversation=handoff.conversation_id, limit=10_000)
    return HandoffDetail(
        handoff=_out(session, handoff), transcript=message_views(lines, session),
        notes=[NoteOut(id=n.id, agent_id=n.agent_id, agent_name=names.get(n.agent_id), text=n.text,
                       created_at=n.created_at) for n in notes])


@router.post("/{handoff_id}/claim", response_model=HandoffOut)
def claim_handoff(handoff_id: PathId, agent: Agent, request: Request) -> HandoffOut:
    """Take a waiting conversation. With several agents at once exactly one wins; the others get 409."""
    with transaction() as session:
        handoff = claim(session=session, handoff_id=handoff_id, agent=session.merge(agent, load=False))
        out = _out(session, handoff)
    announce(request, out.conversation_id, queue=True, agents=[agent.id])
    return out


@router.post("/{handoff_id}/messages", response_model=MessageOut, status_code=status.HTTP_201_CREATED)
def agent_message(handoff_id: PathId, body: TextIn, agent: Agent, request: Request) -> MessageOut:
    """A line to the customer, from the agent who holds the conversation (403 for anyone else)."""
    refuse_if_too_long(body.text)
    with transaction() as session:
        line = agent_says(session=session, handoff_id=handoff_id, agent=session.merge(agent, load=False),
                          text=body.text)
        out = message_views([line], session)[0]
        conversation_id = line.conversation_id
    announce(request, conversation_id)
    return out


class TypingIn(BaseModel):
    typing: StrictBool


def agent_typing(app: FastAPI, handoff_id: int, agent: User, typing: bool) -> None:
    """Show the customer that the holder is (or stopped) typing; nothing is stored."""
    with transaction() as session:
        handoff, _ = held_by(session=session, handoff_id=handoff_id, agent=agent)
        conversation_id = handoff.conversation_id
    app.state.broker.publish(conversation_channel(conversation_id),
                             {"type": "typing", "who": "agent", "typing": typing, "name": agent.name})


@router.post("/{handoff_id}/typing", status_code=status.HTTP_204_NO_CONTENT)
def typing_indicator(handoff_id: PathId, body: TypingIn, agent: Agent, request: Request) -> None:
    """The holder started or stopped typing (the console may also say so over its WebSocket)."""
    agent_typing(request.app, handoff_id, agent, body.typing)


@router.post("/{handoff_id}/notes", response_model=NoteOut, status_code=status.HTTP_201_CREATED)
def private_note(handoff_id: PathId, body: TextIn, session: SessionDep, agent: Agent) -> NoteOut:
    """A private note for colleagues; never shown to the customer."""
    refuse_if_too_long(body.text)
    note = add_note(session=session, handoff_id=handoff_id, agent=agent, text=body.text)
    return NoteOut(id=note.id, agent_id=agent.id, agent_name=agent.name, text=note.text, created_at=note.created_at)


@router.post("/{handoff_id}/transfer", response_model=HandoffOut)
def transfer_handoff(handoff_id: PathId, body: TransferIn, agent: Agent, request: Request) -> HandoffOut:
    """Hand a live conversation to another agent (who must have room for it)."""
    with transaction() as session:
        handoff, target = transfer_to(session=session, handoff_id=handoff_id, agent=session.merge(agent, load=False),
                                      to_agent_id=body.agent_id)
        out = _out(session, handoff)
    announce(request, out.conversation_id, agents=[agent.id, target.id])
    return out


class ResolveIn(BaseModel):
    ticket_ref: str = Field(default=None, min_length=1, max_length=32,  # type: ignore[assignment]
                            description="a ticket this conversation was about")
    ticket_status: Literal["open", "pending", "resolved", "closed"] = Field(  # type: ignore[assignment]
        default=None, description="set the linked ticket to this status (needs ticket_ref)")

    model_config = {"json_schema_extra": {"dependentRequired": {"ticket_status": ["ticket_ref"]}}}


class ResolveOut(BaseModel):
    handoff: HandoffOut
    messages: list[MessageOut] = Field(description="what the customer sees next: the bot is back, survey offer")


def _resolve(handoff_id: int, agent_id: int, body: ResolveIn) -> tuple[str, str]:
    with transaction() as session:
        agent = get_user(session=session, user_id=agent_id)
        handoff = resolve_with_ticket(session=session, handoff_id=handoff_id, agent=agent,
                                      ticket_ref=body.ticket_ref, ticket_status=body.ticket_status)
        return handoff.conversation_id, agent.name


@router.post("/{handoff_id}/resolve", response_model=ResolveOut)
async def resolve_handoff(handoff_id: PathId, request: Request, agent: Agent,
                          body: ResolveIn | None = None) -> ResolveOut:
    """The holder is done: the conversation goes back to the bot, which is told who helped
    (intent EXTERNAL_handoff_done) and offers the satisfaction survey, attributed to this agent.
    A linked ticket can be given a new status in the same step."""
    conversation_id, agent_name = await asyncio.to_thread(_resolve, handoff_id, agent.id, body or ResolveIn())
    announce(request, conversation_id, agents=[agent.id])
    try:
        replies = await request.app.state.rasa.trigger_intent(conversation_id, "EXTERNAL_handoff_done",
                                                              {"agent": agent_name})
    except BotUnavailable:
        replies = []  # the customer can still talk to the bot; only the survey offer is missed
    chat = await asyncio.to_thread(store_bot_replies, conversation_id, replies)
    announce(request, conversation_id)

    def _handoff() -> HandoffOut:
        with transaction() as session:
            return _out(session, handoff_by_id(session=session, handoff_id=handoff_id))

    return ResolveOut(handoff=await asyncio.to_thread(_handoff), messages=chat.messages)


conversations_router = APIRouter(prefix="/api/v1/conversations", tags=["handoffs"])


class LiveConversationOut(BaseModel):
    id: str
    customer_name: str | None
    customer_email: str | None
    started_at: datetime
    last_activity_at: datetime
    last_customer_line: str | None = Field(description="what the customer said last")


@conversations_router.get("", response_model=list[LiveConversationOut])
def live_bot_conversations(session: SessionDep, _: Agent,
                           minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 30) -> list[LiveConversationOut]:
    """Chats the bot is handling that were active in the last `minutes` (newest first), which
    an agent may join unasked."""
    return [LiveConversationOut(id=chat.id, customer_name=chat.customer_name, customer_email=chat.customer_email,
                                started_at=chat.created_at, last_activity_at=chat.updated_at,
                                last_customer_line=line.text if line else None)
            for chat, line in live_conversations(session=session, minutes=minutes)]


@conversations_router.post("/{conversation_id}/join", response_model=HandoffOut)
def join_conversation(conversation_id: str, agent: Agent, request: Request) -> HandoffOut:
    """Take over a chat from the bot without being asked: the customer sees "<name> joined the
    chat" and the bot stays silent until the agent resolves. 409 if it is no longer with the
    bot or the agent is at their limit; 404 for an unknown chat."""
    with transaction() as session:
        handoff = take_over(session=session, conversation_id=conversation_id, agent=session.merge(agent, load=False))
        out = _out(session, handoff)
    announce(request, conversation_id, agents=[agent.id])
    return out

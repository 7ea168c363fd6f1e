"""What the agent console needs beyond the handoff and ticket routes: the colleagues to transfer
to and the canned replies. Its live WebSocket is api/live/agent.py."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Agent, SessionDep
from bot.conversations.handoffs import live_chat_counts
from bot.settings import CannedReply, get_settings
from bot.users.service import active_staff

router = APIRouter(prefix="/api/v1", tags=["agent console"])


class Colleague(BaseModel):
    id: int
    name: str
    presence: Literal["online", "away", "offline"]
    live_chats: int


@router.get("/agents", response_model=list[Colleague])
def colleagues(session: SessionDep, _: Agent) -> list[Colleague]:
    """Everyone who can take chats, with presence and live chats (to pick whom to transfer to)."""
    live = live_chat_counts(session=session)
    users = active_staff(session=session)
    return [Colleague(id=u.id, name=u.name, presence=u.presence, live_chats=live.get(u.id, 0)) for u in users]


@router.get("/canned-replies", response_model=list[CannedReply])
def canned_replies(_: Agent) -> list[CannedReply]:
    """The replies agents insert with a click or by typing the shortcut (setting CANNED_REPLIES)."""
    return get_settings().canned_replies

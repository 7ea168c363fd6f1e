"""Telling open sockets what changed, and the frames sent and read on a socket."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect

from api.guard import clean_json
from api.live.broker import QUEUE_CHANNEL, Subscription, agent_channel, conversation_channel
from bot.metrics import WEBSOCKETS

logger = logging.getLogger(__name__)
BATCH = 200  # transcript lines a socket reads from the database at a time


def announce(target: Request | WebSocket | FastAPI, conversation_id: str | None, *, queue: bool = False,
             agents: Iterable[int | None] = ()) -> None:
    """Tell open WebSockets what changed: this conversation, the waiting list, and the agents
    whose own chats changed. Call only after the change is committed: each socket then reads
    what is new from the database, so nothing is lost or doubled."""
    broker = getattr(target, "app", target).state.broker
    if conversation_id:
        broker.publish(conversation_channel(conversation_id), {"type": "changed"})
    if queue:
        broker.publish(QUEUE_CHANNEL, {"type": "changed"})
    for agent_id in {agent for agent in agents if agent is not None}:
        broker.publish(agent_channel(agent_id), {"type": "changed"})


def sessions_ended(target: Request | WebSocket | FastAPI, user_id: int) -> None:
    """Close the staff member's console sockets now, in every API process (after the change that
    ended their sessions is committed). Each socket also checks its sign-in every few seconds, which
    covers changes made from the command line."""
    getattr(target, "app", target).state.broker.publish(agent_channel(user_id), {"type": "signed out"})


# A typing frame that repeats the last one passed on within this time is dropped.
TYPING_EVERY_SECONDS = 1.0


class TypingGate:
    """Per socket: whether a typing frame is passed on (a change, or a repeat a second later)."""

    def __init__(self) -> None:
        self._last: dict[object, tuple[bool, float]] = {}

    def passes(self, key: object, typing: bool) -> bool:
        last, now = self._last.get(key), time.monotonic()
        if last is not None and last[0] == typing and now - last[1] < TYPING_EVERY_SECONDS:
            return False
        self._last[key] = (typing, now)
        return True


class SocketCounts:
    """How many sockets of one kind each key (an agent, a chat) has open in this process; the metric
    support_websocket_connections{side} follows them."""

    def __init__(self, side: str = "other") -> None:
        self.count: dict[object, int] = {}
        self.gauge = WEBSOCKETS.labels(side)

    def opened(self, key: object) -> None:
        self.count[key] = self.count.get(key, 0) + 1
        self.gauge.inc()

    def closed(self, key: object) -> bool:
        """True when that was the key's last socket here."""
        self.count[key] -= 1
        self.gauge.dec()
        if self.count[key] <= 0:
            del self.count[key]
            return True
        return False


SIDES = {"customer_sockets": "customer", "console_sockets": "agent"}


def socket_counts(websocket: WebSocket, kind: str) -> SocketCounts:
    """This process's SocketCounts for sockets of `kind`, kept on the app."""
    counts = getattr(websocket.app.state, kind, None)
    if counts is None:
        counts = SocketCounts(SIDES.get(kind, "other"))
        setattr(websocket.app.state, kind, counts)
    return counts


class Frames:
    """Sends JSON frames on one socket from several tasks, one frame at a time."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            await self.websocket.send_json(frame)


def read_frame(raw: str) -> dict[str, Any]:
    """A client frame as a dict with a `type`, or ValueError in words fit for the client."""
    try:
        frame = json.loads(raw)
    except ValueError:
        raise ValueError("frames are JSON objects, e.g. {\"type\": \"typing\", \"typing\": true}") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ValueError("a frame is a JSON object with a \"type\"")
    if not clean_json(frame):
        raise ValueError("a frame may not hold a NUL character or an unpaired UTF-16 surrogate")
    return frame


async def read_frames(websocket: WebSocket, handle: Callable[[str], Awaitable[None]], events: Subscription,
                      who: str) -> None:
    """Hand each text frame the client sends to `handle` until the socket closes, then wake the
    writer with the close marker. Reading is also how a closed socket is noticed, so the
    subscription does not outlive it; a failing reader is logged, never silent."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await handle(message.get("text") or "")
    except (WebSocketDisconnect, RuntimeError):
        pass
    except Exception:
        logger.exception("%s: reader failed", who)
    events.close_marker()

"""The customer's live channel: every new line, the owner, the queue place and the agent's typing;
lines the customer sends here go the same way as `POST .../messages`."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from api.deps import MAX_ID, client_address
from api.live.broker import QUEUE_CHANNEL, conversation_channel
from api.live.frames import BATCH, Frames, TypingGate, read_frame, read_frames, socket_counts
from api.routes.chat import relay
from bot.conversations.models import Conversation
from bot.conversations.queue import waiting_place
from bot.conversations.schemas import CustomerMessageIn, MessageOut
from bot.conversations.service import message_views, messages_after, open_conversation
from bot.db import transaction

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/chat", tags=["chat"])
# Open sockets one chat may have in one API process (a few tabs); one more is closed with 4429.
SOCKETS_PER_SESSION = 5


@router.websocket("/sessions/{session_id}/ws")
async def live(websocket: WebSocket, session_id: str,
               token: Annotated[str | None, Query()] = None,
               after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None) -> None:
    """The customer's live channel; the frames are listed in docs/websocket.md.
    The token goes in `?token=` (browsers cannot set headers here)."""

    def _check() -> bool:
        with transaction() as session:
            return open_conversation(session=session, conversation_id=session_id, token=token) is not None

    if not await asyncio.to_thread(_check):
        # Accepted first: a close before the handshake reaches browsers as a bare 403 / 1006.
        await websocket.accept()
        await websocket.close(code=4401, reason="unknown session or wrong token")
        return
    await websocket.accept()
    sockets = socket_counts(websocket, "customer_sockets")
    if sockets.count.get(session_id, 0) >= SOCKETS_PER_SESSION:
        await websocket.close(code=4429, reason=f"this chat has {SOCKETS_PER_SESSION} windows open already")
        return
    sockets.opened(session_id)
    try:
        await _serve(websocket, session_id, token, after)
    finally:
        sockets.closed(session_id)


async def _serve(websocket: WebSocket, session_id: str, token: str | None, after: int | None) -> None:
    app, frames = websocket.app, Frames(websocket)
    typing_gate = TypingGate()
    last_id = after or 0
    sent_state: str | None = None
    sent_queue: tuple[int | None, int | None] | None = None
    channel = conversation_channel(session_id)
    async with app.state.broker.subscribe([channel, QUEUE_CHANNEL]) as events:

        def _new() -> tuple[list[MessageOut], str, tuple[int | None, int | None] | None]:
            with transaction() as session:
                conversation = session.get(Conversation, session_id)
                lines = messages_after(session=session, conversation=conversation, after=last_id, limit=BATCH)
                place = (waiting_place(session=session, conversation_id=session_id)
                         if conversation.state == "queued" else None)
                return message_views(lines, session), conversation.state, place

        async def _handle(raw: str) -> None:
            try:
                frame = read_frame(raw)
                if frame["type"] == "typing":
                    typing = bool(frame.get("typing"))
                    if typing_gate.passes(session_id, typing):
                        app.state.broker.publish(channel, {"type": "typing", "who": "customer", "typing": typing})
                elif frame["type"] == "message":
                    await relay(app, session_id, token, CustomerMessageIn.model_validate(
                        {} if frame.get("text") is None else {"text": frame["text"]}), client_address(websocket))
                else:
                    raise ValueError(f"unknown frame type {frame['type']!r}; send message or typing")
            except HTTPException as refused:
                await frames.send({"type": "error", "detail": refused.detail})
            except ValidationError as invalid:
                await frames.send({"type": "error", "detail": invalid.errors()[0]["msg"]})
            except ValueError as invalid:  # a refused line (DomainError) or an odd frame
                await frames.send({"type": "error", "detail": str(invalid)})
            except (WebSocketDisconnect, RuntimeError):
                raise
            except Exception:  # a database hiccup, an odd frame: say so, keep the socket
                logger.exception("customer frame failed for %s", session_id)
                await frames.send({"type": "error", "detail": "that could not be handled; please try again"})

        listener = asyncio.create_task(read_frames(websocket, _handle, events, f"customer socket {session_id}"))
        try:
            while True:
                lines, state, place = await asyncio.to_thread(_new)
                for line in lines:
                    await frames.send({"type": "message", "message": line.model_dump(mode="json")})
                    last_id = line.id
                if len(lines) == BATCH:
                    continue  # a long backlog after a reconnect: keep reading before waiting
                if state != sent_state:
                    await frames.send({"type": "state", "state": state})
                    sent_state = state
                if place is not None and place != sent_queue:
                    await frames.send({"type": "queue", "position": place[0], "estimate_seconds": place[1]})
                sent_queue = place
                while True:  # wait for something that needs a look at the database
                    event = await events.get()
                    if event.get("type") in ("closed", "overflow"):
                        break
                    if event.get("type") == "typing":
                        if event.get("who") == "agent":
                            await frames.send({"type": "typing", "typing": event["typing"], "name": event.get("name")})
                        continue
                    if event.get("channel") == QUEUE_CHANNEL and sent_state != "queued":
                        continue
                    break
                if event.get("type") == "closed":
                    return
                if event.get("type") == "overflow":
                    await websocket.close(code=4408, reason="too far behind; reconnect with ?after=")
                    return
        except (WebSocketDisconnect, RuntimeError):  # the client went away mid-send
            return
        finally:
            listener.cancel()

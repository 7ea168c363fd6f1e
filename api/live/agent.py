"""The agent console's live channel: the queue, the agent's own chats, their new lines and the
customers' typing. While a console socket is open its agent shows as online."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from api.deps import TOKEN_COOKIE, same_origin, signed_in
from api.live.broker import QUEUE_CHANNEL, agent_channel, conversation_channel
from api.live.frames import BATCH, Frames, TypingGate, read_frame, read_frames, socket_counts
from api.routes.handoffs import HandoffOut, TypingIn, agent_typing, describe
from bot.conversations.handoffs import NotYours, held_handoffs
from bot.conversations.queue import list_handoffs
from bot.conversations.service import message_views, messages_after, newest_line_id
from bot.db import transaction
from bot.users.models import User
from bot.users.service import console_gone, console_seen, get_user, has_role

logger = logging.getLogger(__name__)
router = APIRouter(tags=["agent console"])
# How often a console's pings are written down (its last_seen_at), at most.
SEEN_EVERY_SECONDS = 5.0
# How often an open console checks that its sign-in still holds (logout elsewhere, a new password or
# role, a disabled account end it), so that such a socket closes within seconds.
SIGN_IN_CHECK_SECONDS = 2.0


def _same_origin(websocket: WebSocket) -> bool:
    """Whether the page that opened the socket is served by this API; a client that is not a
    browser sends no Origin, and a cookie can only have been given to it on purpose."""
    return "origin" not in websocket.headers or same_origin(websocket)


def _staff(websocket: WebSocket, token: str | None) -> tuple[int, str] | None:
    """The signed-in agent (or above) behind this socket and their token, from ?token= (scripts) or
    the console cookie (browsers; only from pages this API serves)."""
    raw = token
    if not raw and _same_origin(websocket):
        raw = websocket.cookies.get(TOKEN_COOKIE)
    user = signed_in(raw) if raw else None
    return (user.id, raw) if user is not None and raw and has_role(user, "agent") else None


def _still_signed_in(raw: str, user_id: int) -> bool:
    user = signed_in(raw)
    return user is not None and user.id == user_id and has_role(user, "agent")


@router.websocket("/api/v1/agent/ws")
async def console_live(websocket: WebSocket, token: Annotated[str | None, Query()] = None) -> None:
    """The console's live channel; the frames are listed in docs/websocket.md.
    While it is open the agent shows as online; see AGENT_RECONNECT_GRACE_SECONDS for a drop."""
    staff = await asyncio.to_thread(_staff, websocket, token)
    if staff is None:
        await websocket.accept()  # then close: a close before the handshake reaches browsers as 1006
        await websocket.close(code=4401, reason="sign in as an agent first")
        return
    user_id, raw_token = staff
    await websocket.accept()
    app, frames, sockets = websocket.app, Frames(websocket), socket_counts(websocket, "console_sockets")

    def _seen() -> None:
        with transaction() as session:
            console_seen(session=session, user_id=user_id)

    await asyncio.to_thread(_seen)
    sockets.opened(user_id)
    seen_at = time.monotonic()
    # For each chat this agent holds: its handoff id and the last line sent on this socket.
    held: dict[str, tuple[int, int]] = {}
    typing_gate = TypingGate()  # per chat held

    async with app.state.broker.subscribe([QUEUE_CHANNEL, agent_channel(user_id)]) as events:

        def _queue() -> list[dict[str, Any]]:
            with transaction() as session:
                return [h.model_dump(mode="json") for h in describe(session, list_handoffs(session=session,
                                                                                           status="queued"))]

        def _mine() -> list[HandoffOut]:
            with transaction() as session:
                return describe(session, held_handoffs(session=session, agent_id=user_id))

        def _last_line(conversation_id: str) -> int:
            with transaction() as session:
                return newest_line_id(session=session, conversation_id=conversation_id)

        def _lines(conversation_id: str, after: int) -> list[dict[str, Any]]:
            with transaction() as session:
                lines = messages_after(session=session, conversation=conversation_id, after=after, limit=BATCH)
                return [line.model_dump(mode="json") for line in message_views(lines, session)]

        async def _send_mine() -> None:
            mine = await asyncio.to_thread(_mine)
            current = {h.conversation_id: h.id for h in mine}
            for conversation_id in set(held) - set(current):
                events.discard(conversation_channel(conversation_id))
                del held[conversation_id]
            for conversation_id, handoff_id in current.items():
                if conversation_id not in held:
                    # The console loads the history itself (GET /handoffs/{id}); from here on, new lines.
                    held[conversation_id] = (handoff_id, await asyncio.to_thread(_last_line, conversation_id))
                    events.add(conversation_channel(conversation_id))
            await frames.send({"type": "mine", "handoffs": [h.model_dump(mode="json") for h in mine]})

        async def _send_lines(conversation_id: str) -> None:
            while conversation_id in held:
                handoff_id, after = held[conversation_id]
                lines = await asyncio.to_thread(_lines, conversation_id, after)
                for line in lines:
                    await frames.send({"type": "message", "handoff_id": handoff_id, "message": line})
                if lines:
                    held[conversation_id] = (handoff_id, lines[-1]["id"])
                if len(lines) < BATCH:
                    return

        async def _handle(raw: str) -> None:
            nonlocal seen_at
            try:
                frame = read_frame(raw)
                if time.monotonic() - seen_at >= SEEN_EVERY_SECONDS:
                    seen_at = time.monotonic()
                    await asyncio.to_thread(_seen)
                if frame["type"] == "typing":
                    typing = TypingIn.model_validate({"typing": frame.get("typing")})
                    handoff_id = frame.get("handoff_id")
                    if not isinstance(handoff_id, int) or isinstance(handoff_id, bool) or not 0 < handoff_id < 2**31:
                        raise ValueError("handoff_id must be the id of a chat you hold")
                    if typing_gate.passes(handoff_id, typing.typing):
                        agent = await asyncio.to_thread(_agent)
                        await asyncio.to_thread(agent_typing, app, handoff_id, agent, typing.typing)
                elif frame["type"] != "ping":
                    raise ValueError(f"unknown frame type {frame['type']!r}; send ping or typing")
            except NotYours as refused:
                await frames.send({"type": "error", "detail": str(refused)})
            except ValidationError as invalid:
                await frames.send({"type": "error", "detail": invalid.errors()[0]["msg"]})
            except (ValueError, TypeError, OverflowError) as invalid:
                await frames.send({"type": "error", "detail": str(invalid)})
            except (WebSocketDisconnect, RuntimeError):
                raise
            except Exception:  # a database hiccup: say so and keep the console's socket
                logger.exception("console frame failed for agent %s", user_id)
                await frames.send({"type": "error", "detail": "that could not be handled; please try again"})

        def _agent() -> User:
            with transaction() as session:
                return get_user(session=session, user_id=user_id)

        async def _watch_sign_in() -> None:
            while True:
                await asyncio.sleep(SIGN_IN_CHECK_SECONDS)
                try:
                    holds = await asyncio.to_thread(_still_signed_in, raw_token, user_id)
                except Exception:  # the database is away: keep the socket, check again
                    logger.warning("could not check the sign-in of agent %s", user_id, exc_info=True)
                    continue
                if not holds:
                    events.close_marker("signed out")
                    return

        listener = asyncio.create_task(read_frames(websocket, _handle, events, f"console socket of agent {user_id}"))
        watcher = asyncio.create_task(_watch_sign_in())
        try:
            await frames.send({"type": "queue", "handoffs": await asyncio.to_thread(_queue)})
            await _send_mine()
            while True:
                event = await events.get()
                kind, channel = event.get("type"), event.get("channel", "")
                if kind == "closed":
                    return
                if kind == "signed out":  # from the watcher, or published by the change (sessions_ended)
                    await websocket.close(code=4401, reason="your sign-in has ended; sign in again")
                    return
                if kind == "overflow":
                    await websocket.close(code=4408, reason="too far behind; reconnect")
                    return
                if channel == QUEUE_CHANNEL:
                    await frames.send({"type": "queue", "handoffs": await asyncio.to_thread(_queue)})
                elif channel == agent_channel(user_id):
                    await _send_mine()
                elif channel.startswith("conversation:"):
                    conversation_id = channel.removeprefix("conversation:")
                    if conversation_id not in held:
                        continue
                    if kind == "typing":
                        if event.get("who") == "customer":
                            await frames.send({"type": "typing", "handoff_id": held[conversation_id][0],
                                               "typing": event.get("typing", False)})
                        continue
                    await _send_lines(conversation_id)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            listener.cancel()
            watcher.cancel()
            if sockets.closed(user_id):

                def _gone() -> None:
                    with transaction() as session:
                        console_gone(session=session, user_id=user_id)

                try:
                    # Synchronous on purpose: a short write that must happen even when this
                    # task is being cancelled (server shutdown, a test client leaving).
                    _gone()
                except Exception:  # the sweep marks a silent console offline anyway
                    logger.exception("could not mark agent %s offline", user_id)


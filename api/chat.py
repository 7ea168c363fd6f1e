"""The customer chat gateway: sessions, messages relayed to the bot while it owns the
conversation, and the transcript for polling or restoring a chat after a reload.

Every customer line is committed before anything else happens to it; bot lines are
committed before the customer sees them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    FastAPI,
    HTTPException,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from pydantic import ValidationError
from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from api.broker import QUEUE_CHANNEL, Subscription, agent_channel, conversation_channel
from api.deps import SessionDep
from api.rasa_client import RasaUnavailable
from api.ratelimit import RateLimits
from bot.conversations.handoffs import (
    cancel_by_customer,
    end_by_customer,
    queue_position,
    refuse_handoff,
    wait_estimate,
    why_nobody_can_come,
)
from bot.conversations.models import Conversation, Handoff, Message
from bot.conversations.schemas import ChatReply, CustomerMessageIn, MessageOut, SessionCreate, SessionOut
from bot.conversations.service import (
    ConversationError,
    add_message,
    append_lines,
    insert_lines,
    last_bot_buttons,
    messages_after,
    open_conversation,
    request_handoff,
    start_conversation,
    touch_if_allowed,
)
from bot.db import connection_transaction, transaction, utcnow
from bot.settings import get_settings
from bot.users.models import User

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/chat", tags=["chat"])

BOT_UNAVAILABLE = ("Sorry, our assistant isn't answering right now. Your message is saved; "
                   "please try again in a moment.")
GREET = "/greet"  # what the bot hears when a chat opens with "greet": true
BATCH = 200  # transcript lines a socket reads from the database at a time
QUEUED = "You're in the queue for a member of our team. They'll join this chat as soon as they're free."


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


def refuse_if_too_long(text: str) -> None:
    """413 for a chat line (customer's or agent's) over CHAT_MAX_MESSAGE_CHARS."""
    limit = get_settings().chat_max_message_chars
    if len(text) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=f"the message is longer than {limit} characters")


def client_address(connection: Request | WebSocket) -> str | None:
    """The peer's address (behind a proxy, run uvicorn with --proxy-headers to get the client's)."""
    return connection.client.host if connection.client else None


def customer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _unknown_session() -> HTTPException:
    # The same answer for an unknown session and a wrong token: ids cannot be probed.
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail="unknown session or wrong token",
                         headers={"WWW-Authenticate": "Bearer"})


def _open(session: Session, session_id: str, token: str | None) -> Conversation:
    conversation = open_conversation(session=session, conversation_id=session_id, token=token)
    if conversation is None:
        raise _unknown_session()
    return conversation


def agent_names(db: Session | Connection, agent_ids: set[int]) -> dict[int, str]:
    if not agent_ids:
        return {}
    rows = db.execute(select(User.id, User.name).where(User.id.in_(agent_ids)))
    return {user_id: name for user_id, name in rows}


def to_out(messages: list[Message], db: Session | Connection) -> list[MessageOut]:
    names = agent_names(db, {m.agent_id for m in messages if m.agent_id is not None})
    return [MessageOut(id=m.id, sender=m.sender, text=m.text, buttons=m.buttons or [], created_at=m.created_at,
                       agent_name=names.get(m.agent_id)) for m in messages]


@router.post("/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
async def create_session(request: Request, body: Annotated[SessionCreate | None, Body()] = None) -> SessionOut:
    """Start a chat. Keep the token: it authorises every later call for this session
    (`Authorization: Bearer <token>`), and nothing else does. With `"greet": true` the bot's
    greeting comes back in `messages` (the customer said nothing, so no customer line is stored)."""
    data = body or SessionCreate()
    rates, address = request.app.state.rates, client_address(request)

    def _start() -> tuple[str, str]:
        rates.new_session(address=address)  # in this thread too: with Redis it is a network call
        with transaction() as session:
            conversation, token = start_conversation(session=session, data=data)
            return conversation.id, token

    session_id, token = await asyncio.to_thread(_start)
    if not data.greet:
        return SessionOut(session_id=session_id, token=token)
    try:
        replies = await request.app.state.rasa.send(session_id, GREET)
    except RasaUnavailable:
        reply = await asyncio.to_thread(_store_system_line, session_id, BOT_UNAVAILABLE)
    else:
        reply = await asyncio.to_thread(store_bot_replies, session_id, replies)
    return SessionOut(session_id=session_id, token=token, messages=reply.messages, state=reply.state)


def _accept(session_id: str, token: str | None, body: CustomerMessageIn, rates: RateLimits,
            address: str | None, checked: Callable[[str, str], None]) -> None:
    """Store the customer's line (its own transaction). Once the line is known to be accepted,
    and before it is written, `checked(state, what to tell the bot)` is called, so the bot can
    be asked while the line is being committed. Raises HTTPException for a refusal."""
    now = utcnow()
    with connection_transaction() as connection:
        state = touch_if_allowed(connection=connection, conversation_id=session_id, token=token, now=now)
        if state is None:
            raise _unknown_session()
        rates.message(session_id=session_id, address=address)  # counted only for the session's owner
        if state == "closed":
            raise HTTPException(status.HTTP_409_CONFLICT, detail="this conversation is closed; start a new session")
        if body.payload is not None:
            offered = last_bot_buttons(connection=connection, conversation_id=session_id)
            titles = {button.get("payload"): button.get("title") for button in offered}
            line = {"sender": "customer", "text": titles.get(body.payload) or body.payload, "payload": body.payload}
            to_bot = body.payload
        else:
            line, to_bot = {"sender": "customer", "text": body.text or ""}, body.text or ""
        checked(state, to_bot)
        insert_lines(connection=connection, conversation_id=session_id, lines=[line], now=now)


def _bot_lines(replies: list[dict]) -> tuple[list[dict], str | None, bool]:
    """Rasa's replies as transcript lines, the handoff reason if the bot asked for a person,
    and whether it signalled that it did not understand the customer (its fallback)."""
    lines, handoff_reason, fallback = [], None, False
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            handoff_reason = str(custom["handoff"].get("reason") or "requested")
            continue
        if isinstance(custom, dict) and "fallback" in custom:
            fallback = True
            continue
        buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                   for b in reply.get("buttons") or [] if isinstance(b, dict)]
        if reply.get("text") or buttons:
            lines.append({"sender": "bot", "text": str(reply.get("text") or ""), "buttons": buttons or None})
    return lines, handoff_reason, fallback


def _mark_not_understood(connection: Connection, session_id: str) -> None:
    """Flag the customer's latest line as one the bot did not understand."""
    latest = (select(func.max(Message.id)).where(Message.conversation_id == session_id, Message.sender == "customer")
              .scalar_subquery())
    connection.execute(update(Message).where(Message.id == latest).values(fallback=True))


def _store_while_bot(connection: Connection, session_id: str, lines: list[dict],
                     replies: int) -> tuple[list[Message] | None, str]:
    """Store the bot's lines only while the bot still owns the chat: if a person took over while
    the bot was thinking, its answer must not reach the customer. One UPDATE checks and claims
    that. The lines stored (None if dropped) and the state."""
    stored = append_lines(connection=connection, conversation_id=session_id, lines=lines, only_in_state="bot")
    if stored is not None:
        return stored, "bot"
    state = connection.scalar(select(Conversation.state).where(Conversation.id == session_id))
    logger.info("dropped %d bot replies for %s: conversation is now %s", replies, session_id, state)
    return None, state


def store_bot_replies(session_id: str, replies: list[dict]) -> ChatReply:
    lines, handoff_reason, fallback = _bot_lines(replies)
    if handoff_reason is None:  # the usual case, on a bare connection: it is on every message's path
        with connection_transaction() as connection:
            stored, state = _store_while_bot(connection, session_id, lines, len(replies))
            if stored is not None and fallback:
                _mark_not_understood(connection, session_id)
            return ChatReply(messages=to_out(stored or [], connection), state=state)
    with transaction() as session:
        stored, state = _store_while_bot(session.connection(), session_id, lines, len(replies))
        if stored is not None and fallback:
            _mark_not_understood(session.connection(), session_id)
        if stored is None:
            return ChatReply(messages=[], state=state)
        # The bot asked for a person: queue the chat, or, when nobody can come, make a ticket.
        conversation = session.get(Conversation, session_id)
        why = why_nobody_can_come(session=session, now=utcnow())
        if why:
            _, line = refuse_handoff(session=session, conversation=conversation, reason=handoff_reason, why=why)
            stored.append(line)
        else:
            request_handoff(session=session, conversation=conversation, reason=handoff_reason)
            stored.append(add_message(session=session, conversation=conversation, sender="system", text=QUEUED))
        return ChatReply(messages=to_out(stored, session), state=conversation.state)


def _store_system_line(session_id: str, text: str) -> ChatReply:
    with transaction() as session:
        conversation = session.get(Conversation, session_id)
        line = add_message(session=session, conversation=conversation, sender="system", text=text)
        return ChatReply(messages=to_out([line], session), state=conversation.state)


async def customer_says(app: FastAPI, session_id: str, token: str | None, body: CustomerMessageIn,
                        address: str | None) -> ChatReply:
    """A customer's line, however it came (POST or the WebSocket): relayed to the bot while the
    bot owns the conversation, and committed before anything is acknowledged. Raises
    HTTPException for a refusal.

    The bot is asked as soon as the line is accepted, while it is being committed (the commit
    takes the write lock first, so only a failing disk stops it then). If the commit fails
    anyway, the customer gets the error and the bot's reply is dropped unseen; the bot has heard
    the line, and hears it again if the customer resends it."""
    if body.text is not None:
        refuse_if_too_long(body.text)
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[tuple[str, str]] = loop.create_future()

    def _checked(state: str, to_bot: str) -> None:  # in the storing thread
        loop.call_soon_threadsafe(lambda: accepted.done() or accepted.set_result((state, to_bot)))

    storing = asyncio.ensure_future(asyncio.to_thread(_accept, session_id, token, body, app.state.rates, address,
                                                      _checked))
    await asyncio.wait({accepted, storing}, return_when=asyncio.FIRST_COMPLETED)
    if not accepted.done():
        storing.result()  # refused before it was accepted: raises the refusal
    state, to_bot = accepted.result()
    asking = asyncio.ensure_future(app.state.rasa.send(session_id, to_bot)) if state == "bot" else None
    try:
        await storing
    except BaseException:
        if asking is not None:
            asking.cancel()
        raise
    announce(app, session_id)  # the customer's own line, for the agent and the customer's other tabs
    if asking is None:
        return ChatReply(messages=[], state=state)
    try:
        replies = await asking
    except RasaUnavailable:
        reply = await asyncio.to_thread(_store_system_line, session_id, BOT_UNAVAILABLE)
    else:
        reply = await asyncio.to_thread(store_bot_replies, session_id, replies)
    announce(app, session_id, queue=reply.state == "queued")
    return reply


@router.post("/sessions/{session_id}/messages", response_model=ChatReply)
async def send_message(session_id: str, body: CustomerMessageIn, request: Request) -> Response:
    """Send `{"text"}` or a button's `{"payload"}`. While the bot owns the conversation the reply
    holds its answers; while it is queued for or held by a person, the reply comes at once and
    their lines arrive by polling (or the WebSocket)."""
    reply = await customer_says(request.app, session_id, customer_token(request), body, client_address(request))
    # Built by us from stored rows: serialise it once instead of having it validated again.
    return Response(reply.model_dump_json(), media_type="application/json")


@router.get("/sessions/{session_id}/messages", response_model=ChatReply)
def transcript(session_id: str, request: Request, session: SessionDep,
               after: Annotated[int | None, Query(ge=0, description="a message id; only later lines")] = None,
               ) -> ChatReply:
    """The lines after `after` (all of them without it), oldest first, and the current state."""
    conversation = _open(session, session_id, customer_token(request))
    return ChatReply(messages=to_out(messages_after(session=session, conversation=conversation, after=after), session),
                     state=conversation.state)


@router.post("/sessions/{session_id}/handoff/cancel", response_model=ChatReply)
def cancel_handoff(session_id: str, request: Request) -> ChatReply:
    """Stop waiting for a person and go back to the bot (only while queued; 409 otherwise)."""
    with transaction() as session:
        conversation = _open(session, session_id, customer_token(request))
        try:
            _, line = cancel_by_customer(session=session, conversation=conversation)
        except ConversationError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
        reply = ChatReply(messages=to_out([line], session), state=conversation.state)
    announce(request, session_id, queue=True)
    return reply


@router.post("/sessions/{session_id}/close", response_model=ChatReply)
def end_chat(session_id: str, request: Request) -> ChatReply:
    """The customer ends the chat, in any state but `closed` (409 then): a wait for a person is
    cancelled, a chat with an agent ends for the agent too. Later messages get 409; the widget
    then starts a new session."""
    with transaction() as session:
        conversation = _open(session, session_id, customer_token(request))
        try:
            handoff, agent_id, line = end_by_customer(session=session, conversation=conversation)
        except ConversationError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
        reply = ChatReply(messages=to_out([line], session), state=conversation.state)
    announce(request, session_id, queue=handoff is not None, agents=[agent_id])
    return reply


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


@router.websocket("/sessions/{session_id}/ws")
async def live(websocket: WebSocket, session_id: str,
               token: Annotated[str | None, Query()] = None,
               after: Annotated[int | None, Query(ge=0)] = None) -> None:
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
    app, frames = websocket.app, Frames(websocket)
    last_id = after or 0
    sent_state: str | None = None
    sent_queue: tuple[int | None, int | None] | None = None
    channel = conversation_channel(session_id)
    async with app.state.broker.subscribe([channel, QUEUE_CHANNEL]) as events:

        def _new() -> tuple[list[MessageOut], str, tuple[int | None, int | None] | None]:
            with transaction() as session:
                conversation = session.get(Conversation, session_id)
                lines = messages_after(session=session, conversation=conversation, after=last_id, limit=BATCH)
                place = None
                if conversation.state == "queued":
                    handoff = session.scalar(select(Handoff).where(Handoff.conversation_id == session_id,
                                                                   Handoff.status == "queued"))
                    position = queue_position(session=session, handoff=handoff) if handoff else None
                    place = (position, wait_estimate(session=session, position=position) if position else None)
                return to_out(lines, session), conversation.state, place

        async def _handle(raw: str) -> None:
            try:
                frame = read_frame(raw)
                if frame["type"] == "typing":
                    app.state.broker.publish(channel, {"type": "typing", "who": "customer",
                                                       "typing": bool(frame.get("typing"))})
                elif frame["type"] == "message":
                    await customer_says(app, session_id, token, CustomerMessageIn.model_validate(
                        {"text": frame.get("text")}), client_address(websocket))
                else:
                    raise ValueError(f"unknown frame type {frame['type']!r}; send message or typing")
            except HTTPException as refused:
                await frames.send({"type": "error", "detail": refused.detail})
            except ValidationError as invalid:
                await frames.send({"type": "error", "detail": invalid.errors()[0]["msg"]})
            except ValueError as invalid:
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

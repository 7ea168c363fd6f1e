"""The relay: what happens to a customer's line and to the bot's replies, in one place.

A customer's line is committed before anything else happens to it; while the bot owns the
conversation it is relayed to the bot, and the bot's replies are committed before the customer
sees them. What the replies ask for follows here too: a line the bot did not understand is
flagged, and a request for a person queues the chat (or, when nobody can come, opens a ticket).
The bot itself is reached through `ask_bot`, which the API gives (HTTP stays out of bot/);
`changed` tells the API's live sockets what to read again, after each commit."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from bot.conversations.handoffs import cancel_by_customer, end_by_customer
from bot.conversations.models import Conversation, Message
from bot.conversations.queue import refuse_handoff, why_nobody_can_come
from bot.conversations.schemas import ChatReply, CustomerMessageIn, SessionCreate, SessionOut
from bot.conversations.service import (
    ChatClosed,
    UnknownSession,
    add_message,
    append_lines,
    insert_lines,
    message_views,
    messages_after,
    offered_buttons,
    open_conversation,
    request_handoff,
    start_conversation,
    touch_if_allowed,
)
from bot.db import connection_transaction, transaction, utcnow
from bot.errors import Invalid, TooLong
from bot.metrics import BOT_FALLBACKS, BOT_REPLIES, BOT_UNANSWERED, CUSTOMER_LINES
from bot.observability import conversation_id as log_context
from bot.settings import get_settings
from bot.trackers import forget_words

logger = logging.getLogger(__name__)

BOT_UNAVAILABLE = ("Sorry, our assistant isn't answering right now. Your message is saved; "
                   "please try again in a moment.")
GREET = "/greet"  # what the bot hears when a chat opens with "greet": true
QUEUED = "You're in the queue for a member of our team. They'll join this chat as soon as they're free."

# (conversation id, what the customer said or the button's payload) -> the bot's replies
AskBot = Callable[[str, str], Awaitable[list[dict]]]


class NotOffered(Invalid):
    """A payload the bot did not offer in its latest turn: refused, stored nowhere, sent nowhere."""


# Intents a customer may never send, whatever a button says: Rasa's own (restart, session start,
# undo) and the ones the API itself triggers when something happens outside the chat.
_NEVER_PRESSED = re.compile(r"^/(EXTERNAL_|restart\b|session_start\b|back\b|nlu_fallback\b)")


def may_press(payload: str) -> bool:
    return not _NEVER_PRESSED.match(payload)


def as_typed(text: str) -> str:
    """What the bot hears for a typed line: the text, never an intent. Rasa takes a message that
    starts with "/" for an intent name (`/restart` resets the conversation), so leading slashes are
    dropped; the transcript keeps the line as typed."""
    return text.lstrip().lstrip("/").lstrip()  # never empty: CustomerMessageIn refuses a line of slashes


class BotUnavailable(Exception):
    """The bot did not answer (its server is down, slow, or answered nonsense)."""


class Changed(Protocol):
    """What the live sockets are told after a commit: a conversation changed, and maybe the queue."""

    def __call__(self, conversation_id: str, *, queue: bool = False) -> None: ...


@dataclass(frozen=True)
class Ending:
    """A customer's step out of a wait or a chat, and who must hear of it."""

    reply: ChatReply
    queue_changed: bool
    agent_id: int | None


def refuse_if_too_long(text: str) -> None:
    """TooLong for a chat line (customer's or agent's) over CHAT_MAX_MESSAGE_CHARS."""
    limit = get_settings().chat_max_message_chars
    if len(text) > limit:
        raise TooLong(f"the message is longer than {limit} characters")


def opened(*, session: Session, conversation_id: str, token: str | None) -> Conversation:
    """The conversation `token` opens, or UnknownSession (the same for a wrong token)."""
    conversation = open_conversation(session=session, conversation_id=conversation_id, token=token)
    if conversation is None:
        raise UnknownSession()
    return conversation


def transcript(*, session: Session, conversation_id: str, token: str | None, after: int | None = None) -> ChatReply:
    """The lines after `after` (all of them without it), oldest first, and the current state."""
    conversation = opened(session=session, conversation_id=conversation_id, token=token)
    lines = messages_after(session=session, conversation=conversation, after=after)
    return ChatReply(messages=message_views(lines, session), state=conversation.state)


def accept_customer_line(conversation_id: str, token: str | None, body: CustomerMessageIn,
                         count: Callable[[], None], checked: Callable[[str, str], None]) -> None:
    """Store the customer's line (its own transaction). `count()` is called once the session is
    known to be the caller's (a rate limit may refuse there). Once the line is known to be
    accepted, and before it is written, `checked(state, what to tell the bot)` is called, so the
    bot can be asked while the line is being committed."""
    now = utcnow()
    with connection_transaction() as connection:
        state = touch_if_allowed(connection=connection, conversation_id=conversation_id, token=token, now=now)
        if state is None:
            raise UnknownSession()
        count()  # counted only for the session's owner
        if state == "closed":
            raise ChatClosed()
        if body.payload is not None:
            offered = offered_buttons(connection=connection, conversation_id=conversation_id)
            titles = {button.get("payload"): button.get("title") for button in offered}
            if body.payload not in titles or not may_press(body.payload):
                raise NotOffered("that button is not one the bot offered in its latest reply; type your message "
                                 "instead")
            line = {"sender": "customer", "text": titles[body.payload], "payload": body.payload}
            # An intent ("/affirm"), or words the bot offered to hear ("Did you want to ask about
            # returns?" Yes: "returns?"), which are read as text like a typed line.
            to_bot = body.payload if body.payload.startswith("/") else as_typed(body.payload)
        else:
            line, to_bot = {"sender": "customer", "text": body.text or ""}, as_typed(body.text or "")
        checked(state, to_bot)
        insert_lines(connection=connection, conversation_id=conversation_id, lines=[line], now=now)


def bot_lines(replies: list[dict]) -> tuple[list[dict], str | None, bool]:
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


def _mark_not_understood(connection: Connection, conversation_id: str) -> None:
    """Flag the customer's latest line as one the bot did not understand."""
    latest = (select(func.max(Message.id))
              .where(Message.conversation_id == conversation_id, Message.sender == "customer").scalar_subquery())
    connection.execute(update(Message).where(Message.id == latest).values(fallback=True))


def _store_while_bot(connection: Connection, conversation_id: str, lines: list[dict],
                     replies: int) -> tuple[list[Message] | None, str]:
    """Store the bot's lines only while the bot still owns the chat: if a person took over while
    the bot was thinking, its answer must not reach the customer. One UPDATE checks and claims
    that. The lines stored (None if dropped) and the state."""
    stored = append_lines(connection=connection, conversation_id=conversation_id, lines=lines, only_in_state="bot")
    if stored is not None:
        return stored, "bot"
    state = connection.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
    logger.info("dropped %d bot replies for %s: conversation is now %s", replies, conversation_id, state)
    return None, state


# What an anonymous feedback's words become in the transcript.
FORGOTTEN = "[removed: given anonymously]"


def anonymous_words(replies: list[dict]) -> list[str]:
    """The words of feedback the bot just recorded anonymously (actions/feedback.py says which)."""
    return [str(custom["feedback"]["forget"]).strip() for reply in replies
            if isinstance(custom := reply.get("custom"), dict) and isinstance(custom.get("feedback"), dict)
            and custom["feedback"].get("anonymous") is True and custom["feedback"].get("forget")]


def _forget_anonymous_words(connection: Connection, conversation_id: str, replies: list[dict]) -> None:
    """The bot recorded feedback anonymously: the customer's lines that hold its words leave this chat's
    transcript, so that nothing here ties the feedback to the chat."""
    if words := anonymous_words(replies):
        connection.execute(update(Message).where(Message.conversation_id == conversation_id,
                                                 Message.sender == "customer", func.trim(Message.text).in_(words))
                           .values(text=FORGOTTEN))


def store_bot_replies(conversation_id: str, replies: list[dict]) -> ChatReply:
    """Commit the bot's replies and do what they ask: flag a line it did not understand, queue
    the chat for a person, or, when nobody can come, open a ticket instead; take the words of
    feedback given anonymously out of the transcript."""
    lines, handoff_reason, fallback = bot_lines(replies)
    if fallback:
        BOT_FALLBACKS.inc()
    if handoff_reason is None:  # the usual case, on a bare connection: it is on every message's path
        with connection_transaction() as connection:
            stored, state = _store_while_bot(connection, conversation_id, lines, len(replies))
            if stored is not None and fallback:
                _mark_not_understood(connection, conversation_id)
            _forget_anonymous_words(connection, conversation_id, replies)
            return ChatReply(messages=message_views(stored or [], connection), state=state)
    with transaction() as session:
        stored, state = _store_while_bot(session.connection(), conversation_id, lines, len(replies))
        if stored is not None and fallback:
            _mark_not_understood(session.connection(), conversation_id)
        _forget_anonymous_words(session.connection(), conversation_id, replies)
        if stored is None:
            return ChatReply(messages=[], state=state)
        conversation = session.get(Conversation, conversation_id)
        why = why_nobody_can_come(session=session, now=utcnow())
        if why:
            _, line = refuse_handoff(session=session, conversation=conversation, reason=handoff_reason, why=why)
            stored.append(line)
        else:
            request_handoff(session=session, conversation=conversation, reason=handoff_reason)
            stored.append(add_message(session=session, conversation=conversation, sender="system", text=QUEUED))
        return ChatReply(messages=message_views(stored, session), state=conversation.state)


def store_system_line(conversation_id: str, text: str) -> ChatReply:
    with transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        line = add_message(session=session, conversation=conversation, sender="system", text=text)
        return ChatReply(messages=message_views([line], session), state=conversation.state)


async def bot_answers(conversation_id: str, asking: Awaitable[list[dict]]) -> ChatReply:
    """The bot's answer stored and acted on; an apology (stored too) when the bot is unavailable."""
    try:
        replies = await asking
    except BotUnavailable:
        BOT_UNANSWERED.inc()
        return await asyncio.to_thread(store_system_line, conversation_id, BOT_UNAVAILABLE)
    BOT_REPLIES.inc()
    reply = await asyncio.to_thread(store_bot_replies, conversation_id, replies)
    if words := anonymous_words(replies):
        await asyncio.to_thread(forget_in_rasa, conversation_id, words)
    return reply


def forget_in_rasa(conversation_id: str, words: list[str]) -> None:
    """Anonymous feedback's words out of Rasa's state of the chat too (bot.trackers.forget_words). The
    customer's answer does not wait on it failing: the words then go with the chat's other events after
    RASA_TRACKER_KEEP_DAYS, and the log says so."""
    try:
        forget_words(get_settings().rasa_tracker_store, conversation_id, words, FORGOTTEN)
    except Exception:  # noqa: BLE001 - the store unreachable or odd: said, not fatal to the chat
        logger.exception("could not remove anonymous feedback from Rasa's state of %s", conversation_id)


async def start_chat(data: SessionCreate, *, ask_bot: AskBot, count: Callable[[], None]) -> SessionOut:
    """A new conversation; with `greet`, the bot's greeting (no customer line is stored for it)."""

    def _start() -> tuple[str, str]:
        count()  # in this thread too: a rate limit may wait on the network
        with transaction() as session:
            conversation, token = start_conversation(session=session, data=data)
            return conversation.id, token

    conversation_id, token = await asyncio.to_thread(_start)
    if not data.greet:
        return SessionOut(session_id=conversation_id, token=token)
    reply = await bot_answers(conversation_id, ask_bot(conversation_id, GREET))
    return SessionOut(session_id=conversation_id, token=token, messages=reply.messages, state=reply.state)


async def relay_customer_line(conversation_id: str, token: str | None, body: CustomerMessageIn, *,
                              ask_bot: AskBot, count: Callable[[], None], changed: Changed) -> ChatReply:
    """A customer's line, however it came (POST or the WebSocket): relayed to the bot while the
    bot owns the conversation, and committed before anything is acknowledged.

    The bot is asked as soon as the line is accepted, while it is being committed (the commit
    takes the write lock first, so only a failing disk stops it then). If the commit fails
    anyway, the customer gets the error and the bot's reply is dropped unseen; the bot has heard
    the line, and hears it again if the customer resends it."""
    log_context.set(conversation_id)  # on every log line of this line, in this task and its threads
    if body.text is not None:
        refuse_if_too_long(body.text)
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[tuple[str, str]] = loop.create_future()

    def _checked(state: str, to_bot: str) -> None:  # in the storing thread
        loop.call_soon_threadsafe(lambda: accepted.done() or accepted.set_result((state, to_bot)))

    storing = asyncio.ensure_future(asyncio.to_thread(accept_customer_line, conversation_id, token, body, count,
                                                      _checked))
    await asyncio.wait({accepted, storing}, return_when=asyncio.FIRST_COMPLETED)
    if not accepted.done():
        storing.result()  # refused before it was accepted: raises the refusal
    state, to_bot = accepted.result()
    CUSTOMER_LINES.inc()
    asking = asyncio.ensure_future(ask_bot(conversation_id, to_bot)) if state == "bot" else None
    try:
        await storing
    except BaseException:
        if asking is not None:
            asking.cancel()
        raise
    changed(conversation_id)  # the customer's own line, for the agent and the customer's other tabs
    if asking is None:
        return ChatReply(messages=[], state=state)
    reply = await bot_answers(conversation_id, asking)
    changed(conversation_id, queue=reply.state == "queued")
    return reply


def cancel_wait(*, session: Session, conversation_id: str, token: str | None) -> Ending:
    """The customer stops waiting for a person and goes back to the bot (only while queued)."""
    conversation = opened(session=session, conversation_id=conversation_id, token=token)
    _, line = cancel_by_customer(session=session, conversation=conversation)
    return Ending(ChatReply(messages=message_views([line], session), state=conversation.state), True, None)


def end_chat(*, session: Session, conversation_id: str, token: str | None) -> Ending:
    """The customer ends the chat in any state but closed: a wait for a person is cancelled, a
    chat with an agent ends for the agent too."""
    conversation = opened(session=session, conversation_id=conversation_id, token=token)
    handoff, agent_id, line = end_by_customer(session=session, conversation=conversation)
    return Ending(ChatReply(messages=message_views([line], session), state=conversation.state),
                  handoff is not None, agent_id)

"""The relay: a customer's line is stored before anything else, the bot's replies are stored and
acted on (flagged, handed off, diverted to a ticket), and refusals are domain errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.conversations.models import Conversation, Message
from bot.conversations.relay import (
    BOT_UNAVAILABLE,
    BotUnavailable,
    bot_lines,
    cancel_wait,
    relay_customer_line,
    start_chat,
    transcript,
)
from bot.conversations.schemas import CustomerMessageIn, SessionCreate
from bot.conversations.service import ChatClosed, ConversationError, UnknownSession
from bot.db import transaction
from bot.errors import TooLong


class Bot:
    """Stands in for the Rasa server: records what it heard, answers from a script."""

    def __init__(self, *answers: list[dict]) -> None:
        self.heard: list[tuple[str, str]] = []
        self.answers = list(answers)

    async def __call__(self, conversation_id: str, text: str) -> list[dict]:
        self.heard.append((conversation_id, text))
        answer = self.answers.pop(0) if self.answers else [{"text": "ok"}]
        if answer is None:
            raise BotUnavailable("down")
        return answer


def _nothing() -> None:
    return None


def _changes() -> tuple[list, Callable[..., None]]:
    seen: list[tuple[str, bool]] = []

    def changed(conversation_id: str, *, queue: bool = False) -> None:
        seen.append((conversation_id, queue))

    return seen, changed


async def _chat(bot: Bot) -> tuple[str, str]:
    started = await start_chat(SessionCreate(name="Ada"), ask_bot=bot, count=_nothing)
    return started.session_id, started.token


def _lines(conversation_id: str) -> list[tuple[str, str, bool]]:
    with transaction() as session:
        rows = session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                               .order_by(Message.id))
        return [(m.sender, m.text, m.fallback) for m in rows]


async def test_a_line_is_stored_relayed_and_answered_and_the_sockets_told_twice(app_db):
    bot = Bot([{"text": "Hello Ada", "buttons": [{"title": "Track", "payload": "/track"}]}])
    conversation_id, token = await _chat(bot)
    seen, changed = _changes()
    reply = await relay_customer_line(conversation_id, token, CustomerMessageIn(text="hi"), ask_bot=bot,
                                      count=_nothing, changed=changed)
    assert bot.heard == [(conversation_id, "hi")]
    assert reply.state == "bot" and [m.text for m in reply.messages] == ["Hello Ada"]
    assert reply.messages[0].buttons[0].payload == "/track"
    assert _lines(conversation_id) == [("customer", "hi", False), ("bot", "Hello Ada", False)]
    assert seen == [(conversation_id, False), (conversation_id, False)]


async def test_a_button_is_stored_under_its_title_and_the_bot_hears_its_payload(app_db):
    bot = Bot([{"text": "Pick one", "buttons": [{"title": "Track my order", "payload": "/track"}]}], [])
    conversation_id, token = await _chat(bot)
    await relay_customer_line(conversation_id, token, CustomerMessageIn(text="hi"), ask_bot=bot, count=_nothing,
                              changed=_changes()[1])
    await relay_customer_line(conversation_id, token, CustomerMessageIn(payload="/track"), ask_bot=bot,
                              count=_nothing, changed=_changes()[1])
    assert bot.heard[-1] == (conversation_id, "/track")
    assert _lines(conversation_id)[-1] == ("customer", "Track my order", False)


async def test_a_line_the_bot_did_not_understand_is_flagged(app_db):
    bot = Bot([{"text": "Sorry?"}, {"custom": {"fallback": True}}])
    conversation_id, token = await _chat(bot)
    await relay_customer_line(conversation_id, token, CustomerMessageIn(text="blorp"), ask_bot=bot, count=_nothing,
                              changed=_changes()[1])
    assert _lines(conversation_id) == [("customer", "blorp", True), ("bot", "Sorry?", False)]


async def test_a_request_for_a_person_queues_the_chat_when_someone_can_come(app_db, monkeypatch):
    import bot.conversations.relay as relay

    monkeypatch.setattr(relay, "why_nobody_can_come", lambda **_: None)
    bot = Bot([{"text": "Connecting you"}, {"custom": {"handoff": {"reason": "requested"}}}])
    conversation_id, token = await _chat(bot)
    seen, changed = _changes()
    reply = await relay_customer_line(conversation_id, token, CustomerMessageIn(text="a person please"), ask_bot=bot,
                                      count=_nothing, changed=changed)
    assert reply.state == "queued"
    assert [m.sender for m in reply.messages] == ["bot", "system"]
    assert seen[-1] == (conversation_id, True)


async def test_a_request_for_a_person_nobody_can_take_becomes_a_ticket(app_db):
    # No agent is online in a fresh database.
    bot = Bot([{"custom": {"handoff": {"reason": "requested"}}}])
    conversation_id, token = await _chat(bot)
    reply = await relay_customer_line(conversation_id, token, CustomerMessageIn(text="a person please"), ask_bot=bot,
                                      count=_nothing, changed=_changes()[1])
    assert reply.state == "bot"
    assert "TCK-" in reply.messages[-1].text


async def test_when_the_bot_is_down_the_line_is_kept_and_the_customer_told(app_db):
    bot = Bot(None)
    conversation_id, token = await _chat(bot)
    reply = await relay_customer_line(conversation_id, token, CustomerMessageIn(text="hello?"), ask_bot=bot,
                                      count=_nothing, changed=_changes()[1])
    assert [m.text for m in reply.messages] == [BOT_UNAVAILABLE]
    assert _lines(conversation_id) == [("customer", "hello?", False), ("system", BOT_UNAVAILABLE, False)]


async def test_refusals_store_nothing_and_tell_the_bot_nothing(app_db, configure):
    configure(chat_max_message_chars=5)
    bot = Bot()
    conversation_id, token = await _chat(bot)
    with pytest.raises(TooLong):
        await relay_customer_line(conversation_id, token, CustomerMessageIn(text="too long"), ask_bot=bot,
                                  count=_nothing, changed=_changes()[1])
    with pytest.raises(UnknownSession):
        await relay_customer_line(conversation_id, "wrong", CustomerMessageIn(text="hi"), ask_bot=bot,
                                  count=_nothing, changed=_changes()[1])
    with transaction() as session:
        session.get(Conversation, conversation_id).state = "closed"
    with pytest.raises(ChatClosed):
        await relay_customer_line(conversation_id, token, CustomerMessageIn(text="hi"), ask_bot=bot,
                                  count=_nothing, changed=_changes()[1])
    assert bot.heard == [] and _lines(conversation_id) == []


async def test_a_rate_limit_refuses_before_the_line_is_stored(app_db):
    class Slow(Exception):
        pass

    def count() -> None:
        raise Slow()

    bot = Bot()
    conversation_id, token = await _chat(bot)
    with pytest.raises(Slow):
        await relay_customer_line(conversation_id, token, CustomerMessageIn(text="hi"), ask_bot=bot, count=count,
                                  changed=_changes()[1])
    assert bot.heard == [] and _lines(conversation_id) == []


async def test_the_transcript_and_cancelling_a_wait_need_the_token(app_db):
    bot = Bot([{"text": "Hi"}])
    conversation_id, token = await _chat(bot)
    await relay_customer_line(conversation_id, token, CustomerMessageIn(text="hello"), ask_bot=bot, count=_nothing,
                              changed=_changes()[1])
    with transaction() as session:
        assert [m.text for m in transcript(session=session, conversation_id=conversation_id, token=token).messages] \
            == ["hello", "Hi"]
        with pytest.raises(UnknownSession):
            transcript(session=session, conversation_id=conversation_id, token="nope")
        with pytest.raises(ConversationError):  # not waiting for a person
            cancel_wait(session=session, conversation_id=conversation_id, token=token)


def test_bot_lines_separate_text_buttons_handoff_and_fallback():
    lines, reason, fallback = bot_lines([
        {"text": "One", "buttons": [{"title": "Yes", "payload": "/affirm"}, "junk"]},
        {"custom": {"handoff": {}}}, {"custom": {"fallback": True}}, {"text": ""}, {"image": "x.png"}])
    assert lines == [{"sender": "bot", "text": "One", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]
    assert (reason, fallback) == ("requested", True)


async def test_the_words_of_anonymous_feedback_leave_the_transcript(app_db):
    """Issue 17: anonymous feedback was linkable: its words and the bot's "recorded under FB-..." stayed
    in the transcript of a chat that carries the customer's name and e-mail."""
    from bot.conversations.relay import FORGOTTEN

    bot = Bot([{"text": "What would you like to tell us?"}],
              [{"text": "Would you like it to be anonymous?"}],
              [{"text": "Thank you, your feedback is recorded anonymously.",
                "custom": {"feedback": {"anonymous": True, "forget": "The driver was rude to me"}}}])
    conversation_id, token = await _chat(bot)
    _, changed = _changes()
    for text in ("I want to give feedback", "  The driver was rude to me ", "yes, anonymous"):
        await relay_customer_line(conversation_id, token, CustomerMessageIn(text=text), ask_bot=bot,
                                  count=_nothing, changed=changed)
    said = [text for _, text, _ in _lines(conversation_id)]
    assert "The driver was rude to me" not in said and FORGOTTEN in said
    assert "yes, anonymous" in said and not any("FB-" in line for line in said)

"""Conversations: secret tokens, the transcript, and the owner state machine (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.conversations.schemas import CustomerMessageIn, SessionCreate
from bot.conversations.service import (
    ConversationError,
    add_message,
    append_lines,
    change_state,
    events_of,
    messages_after,
    offered_buttons,
    open_conversation,
    request_handoff,
    start_conversation,
    touch_if_allowed,
)
from bot.db import utcnow


def test_a_session_opens_only_with_its_own_token(session):
    conversation, token = start_conversation(session=session, data=SessionCreate(name="Ada", email="ADA@example.com"))
    other, other_token = start_conversation(session=session, data=SessionCreate())
    assert conversation.state == "bot" and conversation.customer_email == "ada@example.com"
    assert len(conversation.id) == 32 and conversation.id != other.id
    assert token not in conversation.token_hash
    assert open_conversation(session=session, conversation_id=conversation.id, token=token) is conversation
    assert open_conversation(session=session, conversation_id=conversation.id, token=other_token) is None
    assert open_conversation(session=session, conversation_id=conversation.id, token=None) is None
    assert open_conversation(session=session, conversation_id="0" * 32, token=token) is None
    assert open_conversation(session=session, conversation_id="x" * 5000, token=token) is None


def test_transcript_keeps_every_line_in_order_and_pages_by_id(session):
    conversation, _ = start_conversation(session=session, data=SessionCreate())
    first = add_message(session=session, conversation=conversation, sender="customer", text="hi")
    add_message(session=session, conversation=conversation, sender="bot", text="Hello!",
                buttons=[{"title": "Open a ticket", "payload": "/open_ticket"}])
    add_message(session=session, conversation=conversation, sender="system", text="<b>not html</b>")
    lines = messages_after(session=session, conversation=conversation)
    assert [line.sender for line in lines] == ["customer", "bot", "system"]
    assert [line.text for line in messages_after(session=session, conversation=conversation, after=first.id)] == [
        "Hello!", "<b>not html</b>"]
    assert offered_buttons(connection=session.connection(), conversation_id=conversation.id) == [
        {"title": "Open a ticket", "payload": "/open_ticket"}]
    with pytest.raises(ConversationError):
        add_message(session=session, conversation=conversation, sender="hacker", text="x")


def test_the_hot_path_checks_the_token_and_adds_lines_in_order(session):
    conversation, token = start_conversation(session=session, data=SessionCreate())
    connection, now = session.connection(), utcnow()
    assert touch_if_allowed(connection=connection, conversation_id=conversation.id, token="wrong", now=now) is None
    assert touch_if_allowed(connection=connection, conversation_id="0" * 32, token=token, now=now) is None
    assert touch_if_allowed(connection=connection, conversation_id=conversation.id, token=token, now=now) == "bot"
    added = append_lines(connection=connection, conversation_id=conversation.id, only_in_state="bot", lines=[
        {"sender": "bot", "text": "one"},
        {"sender": "bot", "text": "two", "buttons": [{"title": "t", "payload": "/p"}]},
        {"sender": "bot", "text": "three"}])
    assert [line.text for line in added] == ["one", "two", "three"]
    assert [line.id for line in added] == sorted(line.id for line in added)
    stored = messages_after(session=session, conversation=conversation)
    assert [(line.id, line.text, line.buttons) for line in stored] == [(line.id, line.text, line.buttons)
                                                                       for line in added]
    assert append_lines(connection=connection, conversation_id=conversation.id, only_in_state="queued",
                        lines=[{"sender": "bot", "text": "dropped"}]) is None
    with pytest.raises(ConversationError):
        append_lines(connection=connection, conversation_id=conversation.id, lines=[{"sender": "x", "text": "no"}])


def test_handoff_queues_the_conversation_and_records_the_event(session):
    conversation, _ = start_conversation(session=session, data=SessionCreate())
    handoff = request_handoff(session=session, conversation=conversation, reason="requested")
    assert conversation.state == "queued" and handoff.status == "queued"
    [event] = events_of(session=session, conversation=conversation)
    assert (event.from_state, event.to_state, event.actor, event.reason, event.handoff_id) == (
        "bot", "queued", "bot", "requested", handoff.id)
    with pytest.raises(ConversationError):
        request_handoff(session=session, conversation=conversation, reason="requested")


def test_state_machine_refuses_moves_it_does_not_know(session):
    conversation, _ = start_conversation(session=session, data=SessionCreate())
    with pytest.raises(ConversationError):
        change_state(session=session, conversation=conversation, to_state="bot", actor="system")
    change_state(session=session, conversation=conversation, to_state="closed", actor="customer")
    assert conversation.closed_at is not None
    with pytest.raises(ConversationError):
        change_state(session=session, conversation=conversation, to_state="bot", actor="customer")


@pytest.mark.parametrize("body,message", [
    ({}, "either text or payload"),
    ({"text": "hi", "payload": "/greet"}, "either text or payload"),
    ({"text": "   "}, "empty"),
    ({"text": " // "}, "empty"),
    ({"payload": " "}, "payload is empty"),
])
def test_bad_customer_messages_are_refused_with_a_reason(body, message):
    with pytest.raises(ValidationError, match=message):
        CustomerMessageIn(**body)


def test_bad_session_details_are_refused():
    with pytest.raises(ValidationError, match="valid e-mail"):
        SessionCreate(email="nope")
    with pytest.raises(ValidationError, match="4,000"):
        SessionCreate(metadata={"x": "y" * 5000})

"""The customer chat gateway against a scripted stand-in for Rasa's REST channel.

The stand-in only records what reaches it and answers as Rasa does; what is tested is our
gateway: storage before acknowledgement, relaying, the handoff signal, silence of the bot
while a person owns the conversation, and the token checks."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from bot.conversations.models import Conversation, ConversationEvent, Handoff, Message
from bot.conversations.relay import BOT_UNAVAILABLE, QUEUED
from bot.db import transaction
from tests.api.support import FakeRasa  # noqa: F401 - the `rasa` fixture gives one
from tests.factories import make_user


@pytest.fixture
def client(app_db, rasa) -> TestClient:
    """The gateway alone, with one agent online (who cannot sign in) so handoffs queue."""
    with transaction() as session:
        make_user(session, name="Olive", presence="online")
    return TestClient(create_app(rasa=rasa))


def start(client, **body) -> tuple[str, dict]:
    response = client.post("/api/v1/chat/sessions", json=body or None)
    assert response.status_code == 201
    data = response.json()
    return data["session_id"], {"Authorization": f"Bearer {data['token']}"}


def say(client, session_id, headers, **body) -> httpx.Response:
    return client.post(f"/api/v1/chat/sessions/{session_id}/messages", json=body, headers=headers)


def rows(model, session_id):
    with transaction() as session:
        return list(session.scalars(select(model).where(model.conversation_id == session_id).order_by(model.id)))


def test_a_message_is_relayed_and_both_lines_are_stored(client, rasa):
    session_id, headers = start(client, name="Ada", email="ada@example.com", locale="en-GB", metadata={"page": "/"})
    response = say(client, session_id, headers, text="hi")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "bot"
    [line] = body["messages"]
    assert line["sender"] == "bot" and line["text"] == "Hello! How can I help?"
    assert line["buttons"][0] == {"title": "Open a ticket", "payload": "/open_ticket"}
    assert set(line) >= {"id", "sender", "text", "buttons", "created_at"}
    assert rasa.received == [{"sender": session_id, "message": "hi"}]
    assert [(m.sender, m.text) for m in rows(Message, session_id)] == [
        ("customer", "hi"), ("bot", "Hello! How can I help?")]


def test_a_button_press_is_stored_with_its_title_and_sent_as_its_payload(client, rasa):
    session_id, headers = start(client)
    say(client, session_id, headers, text="hi")
    assert say(client, session_id, headers, payload="/open_ticket").status_code == 200
    assert rasa.received[-1]["message"] == "/open_ticket"
    customer = [m for m in rows(Message, session_id) if m.sender == "customer"][-1]
    assert (customer.text, customer.payload) == ("Open a ticket", "/open_ticket")


@pytest.mark.parametrize("payload", [
    '/EXTERNAL_handoff_done{"agent":"Mallory"}',  # would make the bot thank Mallory and credit the survey
    "/restart",  # would reset the conversation and its failed look-up counter
    "/session_start", "/back", "/nlu_fallback",
    "/give_feedback",  # a real intent, but not one of the buttons offered
    "/open_ticket{\"customer_email\":\"x@example.com\"}",  # an offered intent with entities added
])
def test_a_payload_the_bot_did_not_offer_is_refused_stored_nowhere_sent_nowhere(client, rasa, payload):
    session_id, headers = start(client)
    say(client, session_id, headers, text="hi")  # offers /open_ticket and /request_human
    before = len(rows(Message, session_id))
    refused = say(client, session_id, headers, payload=payload)
    assert refused.status_code == 422, refused.text
    assert "not one the bot offered" in refused.json()["detail"]
    assert len(rows(Message, session_id)) == before
    assert rasa.received[-1]["message"] == "hi"


def test_only_the_latest_turns_buttons_may_be_pressed(client, rasa):
    session_id, headers = start(client)
    say(client, session_id, headers, text="hi")  # buttons offered
    say(client, session_id, headers, text="something else")  # the bot answers without buttons
    stale = say(client, session_id, headers, payload="/open_ticket")
    assert stale.status_code == 422
    assert rasa.received[-1]["message"] == "something else"
    say(client, session_id, headers, text="hi")  # offered again
    assert say(client, session_id, headers, payload="/open_ticket").status_code == 200
    assert rasa.received[-1]["message"] == "/open_ticket"
    # Pressing answered that turn: the same button again is refused until the bot offers it again.
    assert say(client, session_id, headers, payload="/open_ticket").status_code == 422


def test_a_rasa_intent_the_bot_offers_by_mistake_is_still_refused(client, rasa, monkeypatch):
    original = rasa.answer
    monkeypatch.setattr(rasa, "answer", lambda message: [{"text": "Start over?", "buttons": [
        {"title": "Yes", "payload": "/restart"}]}] if message == "start over" else original(message))
    session_id, headers = start(client)
    say(client, session_id, headers, text="start over")
    assert say(client, session_id, headers, payload="/restart").status_code == 422
    assert rasa.received[-1]["message"] == "start over"


@pytest.mark.parametrize(("typed", "heard"), [
    ("/restart", "restart"), ("  //EXTERNAL_handoff_done", "EXTERNAL_handoff_done"),
    ("/ where is my order", "where is my order")])
def test_typed_text_is_always_read_as_text_never_as_an_intent(client, rasa, typed, heard):
    session_id, headers = start(client)
    assert say(client, session_id, headers, text=typed).status_code == 200
    assert rasa.received[-1]["message"] == heard
    assert [m.text for m in rows(Message, session_id) if m.sender == "customer"] == [typed]  # stored as typed


def test_offered_words_are_relayed_as_text(client, rasa, monkeypatch):
    """The fallback's "Did you want to ask about returns?" offers the words "returns?" as its Yes."""
    original = rasa.answer
    monkeypatch.setattr(rasa, "answer", lambda message: [{"text": "Did you want to ask about returns?", "buttons": [
        {"title": "Yes", "payload": "returns?"}, {"title": "No", "payload": "/out_of_scope"}]}]
        if message == "retrns" else original(message))
    session_id, headers = start(client)
    say(client, session_id, headers, text="retrns")
    assert say(client, session_id, headers, payload="returns?").status_code == 200
    assert rasa.received[-1]["message"] == "returns?"
    customer = [m for m in rows(Message, session_id) if m.sender == "customer"][-1]
    assert (customer.text, customer.payload) == ("Yes", "returns?")


def test_a_line_of_slashes_is_empty(client, rasa):
    session_id, headers = start(client)
    assert say(client, session_id, headers, text=" / ").status_code == 422
    assert rows(Message, session_id) == [] and rasa.received == []


def test_the_handoff_signal_queues_the_conversation_and_silences_the_bot(client, rasa):
    session_id, headers = start(client)
    body = say(client, session_id, headers, text="a person please").json()
    assert body["state"] == "queued"
    assert [(m["sender"], m["text"]) for m in body["messages"]] == [
        ("bot", "I'm connecting you with a member of our team."), ("system", QUEUED)]
    [handoff] = rows(Handoff, session_id)
    assert (handoff.status, handoff.reason) == ("queued", "requested")
    [event] = rows(ConversationEvent, session_id)
    assert (event.from_state, event.to_state, event.actor) == ("bot", "queued", "bot")

    relayed = len(rasa.received)
    later = say(client, session_id, headers, text="hello? is anyone there")
    assert later.json() == {"messages": [], "state": "queued"}
    assert len(rasa.received) == relayed  # the bot heard nothing
    assert rows(Message, session_id)[-1].text == "hello? is anyone there"  # but the line is kept


def test_when_rasa_is_down_the_customer_line_is_kept_and_a_clear_line_comes_back(client, rasa):
    rasa.down = True
    session_id, headers = start(client)
    body = say(client, session_id, headers, text="hi").json()
    assert [(m["sender"], m["text"]) for m in body["messages"]] == [("system", BOT_UNAVAILABLE)]
    assert [m.sender for m in rows(Message, session_id)] == ["customer", "system"]


def test_polling_returns_the_lines_after_a_given_id(client):
    session_id, headers = start(client)
    say(client, session_id, headers, text="hi")
    say(client, session_id, headers, text="where is my parcel")
    url = f"/api/v1/chat/sessions/{session_id}/messages"
    everything = client.get(url, headers=headers).json()
    assert [m["sender"] for m in everything["messages"]] == ["customer", "bot", "customer", "bot"]
    second_id = everything["messages"][1]["id"]
    later = client.get(url, params={"after": second_id}, headers=headers).json()
    assert [m["text"] for m in later["messages"]] == ["where is my parcel", "You said: where is my parcel"]
    assert client.get(url, params={"after": everything["messages"][-1]["id"]}, headers=headers).json() == {
        "messages": [], "state": "bot"}


def test_a_session_is_reachable_only_with_its_token(client, rasa):
    session_id, headers = start(client)
    other_id, other_headers = start(client)
    url = f"/api/v1/chat/sessions/{session_id}/messages"
    for bad in ({}, other_headers, {"Authorization": "Bearer guess"}, {"Authorization": "Basic x"}):
        assert client.get(url, headers=bad).status_code == 401
        assert client.post(url, json={"text": "hi"}, headers=bad).status_code == 401
    unknown = client.get("/api/v1/chat/sessions/" + "0" * 32 + "/messages", headers=headers)
    assert unknown.status_code == 401 and unknown.json() == client.get(url).json()
    assert rasa.received == []
    assert rows(Message, session_id) == []


def test_oversized_and_malformed_messages_are_refused_and_nothing_is_stored(client, rasa):
    session_id, headers = start(client)
    too_long = say(client, session_id, headers, text="x" * 2001)
    assert too_long.status_code == 413 and "2000 characters" in too_long.json()["detail"]
    assert say(client, session_id, headers, text="x" * 2000).status_code == 200
    assert say(client, session_id, headers, text="").status_code == 422
    assert say(client, session_id, headers, payload="no-slash").status_code == 422
    broken = client.post(f"/api/v1/chat/sessions/{session_id}/messages", content=b"{not json",
                         headers={**headers, "Content-Type": "application/json"})
    assert broken.status_code == 422
    assert len(rows(Message, session_id)) == 2  # the 2,000-character line and the bot's answer


def test_a_closed_conversation_refuses_new_messages_clearly(client):
    session_id, headers = start(client)
    with transaction() as session:
        session.get(Conversation, session_id).state = "closed"
    response = say(client, session_id, headers, text="hi")
    assert response.status_code == 409 and "closed" in response.json()["detail"]


def test_bad_session_details_are_422(client):
    assert client.post("/api/v1/chat/sessions", json={"email": "not-an-email"}).status_code == 422


def test_html_from_the_customer_is_stored_as_text(client):
    session_id, headers = start(client)
    say(client, session_id, headers, text="<script>alert(1)</script>")
    assert rows(Message, session_id)[0].text == "<script>alert(1)</script>"


def test_a_session_opened_with_greet_gets_the_greeting_and_no_customer_line(client, rasa):
    created = client.post("/api/v1/chat/sessions", json={"greet": True})
    assert created.status_code == 201
    body = created.json()
    assert body["state"] == "bot"
    assert [(m["sender"], m["text"]) for m in body["messages"]] == [("bot", "Hello! How can I help?")]
    assert rasa.received[-1] == {"sender": body["session_id"], "message": "/greet"}
    stored = client.get(f"/api/v1/chat/sessions/{body['session_id']}/messages",
                        headers={"Authorization": f"Bearer {body['token']}"}).json()["messages"]
    assert [m["sender"] for m in stored] == ["bot"]
    plain = client.post("/api/v1/chat/sessions", json={}).json()
    assert plain["messages"] == [] and len(rasa.received) == 1


def test_a_line_the_bot_did_not_understand_is_flagged_and_the_signal_not_shown(client):
    session_id, headers = start(client)
    say(client, session_id, headers, text="hi")
    reply = say(client, session_id, headers, text="gibberish zzz")
    assert [m["text"] for m in reply.json()["messages"]] == [
        "Sorry, I'm not sure I understood. Could you say it another way?"]
    with transaction() as session:
        flagged = session.execute(select(Message.text, Message.fallback).where(
            Message.conversation_id == session_id, Message.sender == "customer").order_by(Message.id)).all()
    assert [tuple(row) for row in flagged] == [("hi", False), ("gibberish zzz", True)]


def test_a_button_pressed_while_the_bot_was_unavailable_may_be_pressed_again(client, rasa):
    session_id, headers = start(client)
    say(client, session_id, headers, text="hi")  # buttons offered
    rasa.down = True
    assert say(client, session_id, headers, payload="/open_ticket").json()["messages"][-1]["text"] == BOT_UNAVAILABLE
    rasa.down = False
    assert say(client, session_id, headers, payload="/open_ticket").status_code == 200  # the bot never answered it
    assert rasa.received[-1]["message"] == "/open_ticket"
    assert say(client, session_id, headers, payload="/open_ticket").status_code == 422  # answered now

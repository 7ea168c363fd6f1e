"""The `closed` state: the customer ends the chat (whoever holds it), or a chat left idle with
the bot is closed by the sweep. A closed chat refuses new lines with 409 and says why."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from api.sweeper import sweep_once
from bot.conversations.models import Conversation, ConversationEvent, Handoff, Message
from bot.db import transaction, utcnow
from tests.api.support import queued_customer, staff


def new_chat(client) -> tuple[str, dict]:
    created = client.post("/api/v1/chat/sessions", json={"name": "Ada"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.post(f"/api/v1/chat/sessions/{created['session_id']}/messages", json={"text": "hi"},
                       headers=headers).json()["state"] == "bot"
    return created["session_id"], headers


def events(session_id: str) -> list[tuple[str, str, str, str]]:
    with transaction() as session:
        return [(e.from_state, e.to_state, e.actor, e.reason) for e in session.scalars(
            select(ConversationEvent).where(ConversationEvent.conversation_id == session_id)
            .order_by(ConversationEvent.id))]


def test_the_customer_ends_a_chat_with_the_bot_and_it_refuses_new_lines(client, rasa):
    session_id, customer = new_chat(client)
    ended = client.post(f"/api/v1/chat/sessions/{session_id}/close", headers=customer)
    assert ended.status_code == 200
    assert ended.json()["state"] == "closed"
    assert [(m["sender"], m["text"]) for m in ended.json()["messages"]] == [
        ("system", "You ended the chat. Thank you for contacting us.")]
    assert events(session_id) == [("bot", "closed", "customer", "customer ended the chat")]

    relayed = len(rasa.received)
    refused = client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "hello?"}, headers=customer)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "this conversation is closed; start a new session"
    assert len(rasa.received) == relayed
    seen = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()
    assert seen["state"] == "closed" and seen["messages"][-1]["sender"] == "system"
    with transaction() as session:
        assert "hello?" not in session.scalars(select(Message.text)).all()
    again = client.post(f"/api/v1/chat/sessions/{session_id}/close", headers=customer)
    assert again.status_code == 409 and "already closed" in again.json()["detail"]


def test_ending_while_queued_cancels_the_wait(client):
    session_id, customer = queued_customer(client)
    assert client.post(f"/api/v1/chat/sessions/{session_id}/close", headers=customer).json()["state"] == "closed"
    ann = staff(client, "ann")
    assert client.get("/api/v1/handoffs", headers=ann).json() == []
    with transaction() as session:
        handoff = session.scalars(select(Handoff)).one()
        assert handoff.status == "cancelled" and handoff.ended_at is not None
    assert events(session_id)[-1] == ("queued", "closed", "customer", "customer ended the chat")


def test_ending_a_live_chat_ends_it_for_the_agent(client):
    session_id, customer = queued_customer(client)
    ann = staff(client, "ann")
    [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann).status_code == 200
    assert client.post(f"/api/v1/chat/sessions/{session_id}/close", headers=customer).json()["state"] == "closed"

    detail = client.get(f"/api/v1/handoffs/{waiting['id']}", headers=ann).json()
    assert detail["handoff"]["status"] == "resolved"
    assert detail["transcript"][-1]["text"] == "You ended the chat. Thank you for contacting us."
    late = client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "still there?"}, headers=ann)
    assert late.status_code == 403 and "ended" in late.json()["detail"]
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/resolve", headers=ann).status_code == 403
    assert events(session_id)[-1][:2] == ("agent", "closed")
    # Her slot is free again: the live-chat limit counts only active handoffs.
    assert client.get("/api/v1/handoffs", params={"status": "active"}, headers=ann).json() == []


def test_the_sweep_closes_chats_left_idle_with_the_bot_only(client, configure):
    configure(chat_idle_close_minutes=0.01)  # 0.6 s
    idle_id, idle = new_chat(client)
    queued_id, queued = queued_customer(client)  # waiting for a person: left to the queue timeout
    with transaction() as session:  # a minute without a line from anyone
        session.execute(update(Conversation).values(updated_at=utcnow() - timedelta(minutes=1)))
    sweep_once(client.app)
    seen = client.get(f"/api/v1/chat/sessions/{idle_id}/messages", headers=idle).json()
    assert client.get(f"/api/v1/chat/sessions/{queued_id}/messages", headers=queued).json()["state"] == "queued"
    assert seen["state"] == "closed"
    assert seen["messages"][-1]["text"] == ("This chat was closed after 0.01 minutes without messages. "
                                            "You can start a new one any time.")
    assert events(idle_id) == [("bot", "closed", "system", "inactive")]
    assert client.post(f"/api/v1/chat/sessions/{idle_id}/messages", json={"text": "hi"},
                       headers=idle).status_code == 409

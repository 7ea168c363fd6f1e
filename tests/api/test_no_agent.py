"""Through the API: nobody online, outside hours, or nobody in time, the customer gets a
ticket with the chat attached and the bot back; a public reply on it reaches the chat."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from api.sweeper import sweep_once
from bot.business_hours import DAYS
from bot.conversations.models import Handoff
from bot.db import transaction, utcnow
from bot.tickets.models import Ticket
from bot.users.models import User
from tests.api.support import queued_customer, staff


def everyone(presence: str) -> None:
    with transaction() as session:
        session.execute(update(User).values(presence=presence))


def ask_for_a_person(client, email="ada@example.com") -> tuple[str, dict, dict]:
    created = client.post("/api/v1/chat/sessions", json={"name": "Ada", "email": email}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    url = f"/api/v1/chat/sessions/{created['session_id']}/messages"
    client.post(url, json={"text": "I was charged twice for order 48213"}, headers=headers)
    reply = client.post(url, json={"text": "a person please"}, headers=headers)
    assert reply.status_code == 200
    return created["session_id"], headers, reply.json()


def test_nobody_online_gives_a_ticket_and_the_bot_keeps_the_chat(client, rasa):
    everyone("away")
    session_id, headers, reply = ask_for_a_person(client)

    assert reply["state"] == "bot"
    assert [m["sender"] for m in reply["messages"]] == ["bot", "system"]
    with transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        reference = ticket.reference
        assert ticket.conversation_id == session_id and ticket.classification == "urgent"
        assert session.scalars(select(Handoff.status)).all() == ["unavailable"]
    assert reference in reply["messages"][-1]["text"]
    assert "no one from our team is available" in reply["messages"][-1]["text"]
    # The bot still answers, and no agent sees anything waiting.
    relayed = len(rasa.received)
    assert client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "hi"},
                       headers=headers).json()["state"] == "bot"
    assert len(rasa.received) == relayed + 1
    assert client.get("/api/v1/handoffs", headers=staff(client, "ann")).json() == []


def test_outside_business_hours_the_customer_is_told_when_we_chat(client, configure):
    other_day = DAYS[(datetime.now(timezone.utc).weekday() + 3) % 7]
    configure(business_hours=f"{other_day} 09:00-17:00")
    _, _, reply = ask_for_a_person(client)
    assert reply["state"] == "bot"
    assert f"we chat {other_day.title()} 09:00\u201317:00 (UTC time)" in reply["messages"][-1]["text"]


def test_the_sweep_gives_a_ticket_to_whoever_waited_too_long(client, configure):
    configure(handoff_queue_timeout_seconds=0.5)
    session_id, headers = queued_customer(client)
    with transaction() as session:  # waiting for a minute
        session.execute(update(Handoff).values(requested_at=utcnow() - timedelta(minutes=1),
                                               queued_at=utcnow() - timedelta(minutes=1)))
    sweep_once(client.app)
    seen = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=headers).json()
    assert seen["state"] == "bot"
    assert "no one from our team was free in time" in seen["messages"][-1]["text"]
    with transaction() as session:
        assert session.scalars(select(Handoff.status)).all() == ["expired"]
        assert session.scalars(select(Ticket.conversation_id)).all() == [session_id]


def test_a_public_reply_on_the_ticket_reaches_the_chat_and_the_ticket_shows_the_chat(client):
    everyone("offline")
    session_id, headers, reply = ask_for_a_person(client)
    with transaction() as session:
        reference = session.scalars(select(Ticket.reference)).one()
    ann = staff(client, "ann")

    detail = client.get(f"/api/v1/tickets/{reference}", headers=ann).json()
    assert [(m["sender"], m["text"]) for m in detail["transcript"]][:2] == [
        ("customer", "I was charged twice for order 48213"), ("bot", "You said: I was charged twice for order 48213")]

    client.post(f"/api/v1/tickets/{reference}/comments", json={"text": "Only in our notes."}, headers=ann)
    client.post(f"/api/v1/tickets/{reference}/comments", json={"text": "Refunded today.", "public": True},
                headers=ann)

    lines = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=headers).json()["messages"]
    assert (lines[-1]["sender"], lines[-1]["text"], lines[-1]["agent_name"]) == (
        "agent", f"Reply on ticket {reference}: Refunded today.", "Ann")
    assert not any("Only in our notes" in line["text"] for line in lines)

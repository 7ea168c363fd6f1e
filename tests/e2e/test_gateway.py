"""The customer chat gateway in front of the real Rasa server: relay, buttons, handoff, silence."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.conversations.models import Conversation, Handoff, Message

pytestmark = pytest.mark.e2e


def test_customer_chats_through_the_api_until_a_person_is_asked_for(stack):
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Grace", "email": "grace@example.com"})
    assert created.status_code == 201
    session_id, token = created.json()["session_id"], created.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    greeting = api.post(f"/sessions/{session_id}/messages", json={"text": "hello"}, headers=headers).json()
    assert greeting["state"] == "bot"
    assert "Brightside" in " ".join(m["text"] for m in greeting["messages"])
    buttons = [b for m in greeting["messages"] for b in m["buttons"]]
    assert buttons, "the greeting offers the main paths as buttons"

    faq = api.post(f"/sessions/{session_id}/messages", json={"text": "how long does delivery take?"},
                   headers=headers).json()
    assert faq["state"] == "bot" and "business days" in " ".join(m["text"] for m in faq["messages"])

    handoff = api.post(f"/sessions/{session_id}/messages", json={"text": "I want to talk to a real person"},
                       headers=headers).json()
    assert handoff["state"] == "queued"
    assert [m["sender"] for m in handoff["messages"]][-1] == "system"

    waiting = api.post(f"/sessions/{session_id}/messages", json={"text": "ok, waiting"}, headers=headers).json()
    assert waiting == {"messages": [], "state": "queued"}

    restored = api.get(f"/sessions/{session_id}/messages", headers=headers).json()
    senders = [m["sender"] for m in restored["messages"]]
    assert senders[0] == "customer" and senders[-1] == "customer" and "bot" in senders and "system" in senders

    engine = create_engine(stack.database_url)
    with Session(engine) as session:
        conversation = session.get(Conversation, session_id)
        assert conversation.state == "queued" and conversation.customer_email == "grace@example.com"
        [request] = session.scalars(select(Handoff).where(Handoff.conversation_id == session_id)).all()
        assert request.reason == "requested" and request.status == "queued"
        lines = session.scalars(select(Message).where(Message.conversation_id == session_id)).all()
        assert len(lines) == len(restored["messages"])
    engine.dispose()

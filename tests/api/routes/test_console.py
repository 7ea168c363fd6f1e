"""The agent console's live socket, colleagues and canned replies."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from bot.db import transaction
from bot.users.models import User
from tests.api.support import queued_customer, staff


def token_of(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def presence(email: str) -> tuple[str, object]:
    with transaction() as session:
        user = session.scalar(select(User).where(User.email == email))
        return user.presence, user.last_seen_at


def test_colleagues_and_canned_replies(client):
    ann = staff(client, "ann")
    queued_customer(client)
    [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
    client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann)
    people = client.get("/api/v1/agents", headers=ann).json()
    assert [(p["name"], p["presence"], p["live_chats"]) for p in people] == [
        ("Ann", "online", 1), ("Ben", "online", 0), ("Meg", "offline", 0)]
    replies = client.get("/api/v1/canned-replies", headers=ann).json()
    assert replies[0]["shortcut"] == "/hello" and all(r["text"] for r in replies)
    for path in ("/api/v1/agents", "/api/v1/canned-replies"):
        assert client.get(path).status_code == 401


@pytest.mark.parametrize("token", [None, "nonsense", "customer"])
def test_the_console_socket_needs_a_staff_sign_in(client, token):
    if token == "customer":
        token = client.post("/api/v1/chat/sessions", json={}).json()["token"]
    url = "/api/v1/agent/ws" + (f"?token={token}" if token else "")
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(url) as ws:
            ws.receive_json()
    assert refused.value.code == 4401


def test_the_console_hears_the_queue_its_chats_their_lines_and_typing(client):
    ann = staff(client, "ann")
    with client.websocket_connect(f"/api/v1/agent/ws?token={token_of(ann)}") as console:
        assert console.receive_json() == {"type": "queue", "handoffs": []}
        assert console.receive_json() == {"type": "mine", "handoffs": []}
        assert presence("ann@example.com")[0] == "online"

        session_id, customer = queued_customer(client, "Ada")
        queue = console.receive_json()
        assert queue["type"] == "queue" and [h["customer_name"] for h in queue["handoffs"]] == ["Ada"]
        handoff = queue["handoffs"][0]
        assert handoff["priority"] == "normal" and handoff["queue_position"] == 1

        client.post(f"/api/v1/handoffs/{handoff['id']}/claim", headers=ann)
        frames = [console.receive_json() for _ in range(2)]
        assert {f["type"] for f in frames} == {"queue", "mine"}
        mine = next(f for f in frames if f["type"] == "mine")
        assert [h["id"] for h in mine["handoffs"]] == [handoff["id"]]
        assert next(f for f in frames if f["type"] == "queue")["handoffs"] == []

        client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "my parcel is lost"},
                    headers=customer)
        line = console.receive_json()
        assert (line["type"], line["handoff_id"], line["message"]["text"]) == (
            "message", handoff["id"], "my parcel is lost")

        with client.websocket_connect(f"/api/v1/chat/sessions/{session_id}/ws?token={token_of(customer)}"
                                      f"&after={line['message']['id']}") as chat:
            assert chat.receive_json() == {"type": "state", "state": "agent"}
            chat.send_json({"type": "typing", "typing": True})
            assert console.receive_json() == {"type": "typing", "handoff_id": handoff["id"], "typing": True}
            console.send_json({"type": "typing", "handoff_id": handoff["id"], "typing": True})
            assert chat.receive_json() == {"type": "typing", "typing": True, "name": "Ann"}

        console.send_json({"type": "typing", "handoff_id": 999999, "typing": True})
        assert console.receive_json()["type"] == "error"
        console.send_text("{")
        assert "JSON" in console.receive_json()["detail"]

        client.post(f"/api/v1/handoffs/{handoff['id']}/resolve", headers=ann)
        frames = []
        while not any(f["type"] == "mine" for f in frames):
            frames.append(console.receive_json())
        assert next(f for f in frames if f["type"] == "mine")["handoffs"] == []

    # The server notices the close a moment after the client leaves.
    deadline = time.monotonic() + 5
    while presence("ann@example.com")[0] != "offline" and time.monotonic() < deadline:
        time.sleep(0.02)
    state, seen = presence("ann@example.com")
    assert state == "offline" and seen is not None


def test_the_cookie_opens_the_console_socket_too(client):
    client.post("/api/v1/auth/token", data={"username": "ben@example.com", "password": "a long enough password"})
    client.cookies.set("support_token", client.cookies.get("support_token"))
    with client.websocket_connect("/api/v1/agent/ws", headers={"origin": "http://testserver"}) as console:
        assert console.receive_json()["type"] == "queue"
    # A page on another site (a sibling subdomain, say) cannot ride on the agent's cookie.
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/api/v1/agent/ws", headers={"origin": "https://shop.example"}) as console:
            console.receive_json()
    assert refused.value.code == 4401

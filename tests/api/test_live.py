"""The chat WebSocket: every new line and state change pushed once, in order, and a
reconnect with ?after= picks up exactly where the client was."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.api.support import queued_customer, staff


def ws_url(session_id: str, token: str, after: int | None = None) -> str:
    url = f"/api/v1/chat/sessions/{session_id}/ws?token={token}"
    return url + (f"&after={after}" if after is not None else "")


def start(client):
    created = client.post("/api/v1/chat/sessions", json={"name": "Ada"}).json()
    return created["session_id"], created["token"], {"Authorization": f"Bearer {created['token']}"}


def test_a_wrong_token_is_refused(client):
    session_id, _, _ = start(client)
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect(ws_url(session_id, "guess")) as ws:
            ws.receive_json()
    assert refused.value.code == 4401


def test_lines_arrive_in_order_once_and_a_reconnect_resumes_after_the_last_id(client):
    session_id, token, headers = start(client)
    with client.websocket_connect(ws_url(session_id, token)) as ws:
        assert ws.receive_json() == {"type": "state", "state": "bot"}
        client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "hi"}, headers=headers)
        first = [ws.receive_json() for _ in range(2)]
    assert [(e["type"], e["message"]["sender"]) for e in first] == [("message", "customer"), ("message", "bot")]
    last_id = first[-1]["message"]["id"]

    # While disconnected, more happens.
    client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "where is my parcel"}, headers=headers)
    with client.websocket_connect(ws_url(session_id, token, after=last_id)) as ws:
        missed = [ws.receive_json() for _ in range(3)]
    assert [(e["type"], e.get("message", {}).get("text")) for e in missed] == [
        ("message", "where is my parcel"), ("message", "You said: where is my parcel"), ("state", None)]
    assert all(e["message"]["id"] > last_id for e in missed if e["type"] == "message")


def test_the_customer_sees_the_agent_join_and_write(client):
    session_id, customer = queued_customer(client)
    token = customer["Authorization"].removeprefix("Bearer ")
    history = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()["messages"]
    ann = staff(client, "ann")
    with client.websocket_connect(ws_url(session_id, token, after=history[-1]["id"])) as ws:
        assert ws.receive_json() == {"type": "state", "state": "queued"}
        [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
        client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann)
        joined, state = ws.receive_json(), ws.receive_json()
        assert joined["message"]["text"] == "Ann joined the chat." and state == {"type": "state", "state": "agent"}
        client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "Hello Ada"}, headers=ann)
        line = ws.receive_json()["message"]
        assert (line["sender"], line["text"], line["agent_name"]) == ("agent", "Hello Ada", "Ann")


def test_a_backlog_longer_than_one_batch_arrives_whole(client, monkeypatch):
    import api.chat

    monkeypatch.setattr(api.chat, "BATCH", 3)
    session_id, token, headers = start(client)
    for text in ("one", "two", "three", "four"):
        client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": text}, headers=headers)
    with client.websocket_connect(ws_url(session_id, token, after=0)) as ws:
        events = [ws.receive_json() for _ in range(9)]
    ids = [e["message"]["id"] for e in events if e["type"] == "message"]
    assert len(ids) == 8 and ids == sorted(set(ids))
    assert events[-1] == {"type": "state", "state": "bot"}

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
        assert ws.receive_json() == {"type": "queue", "position": 1, "estimate_seconds": None}
        [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
        client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann)
        joined, state = ws.receive_json(), ws.receive_json()
        assert joined["message"]["text"] == "Ann joined the chat." and state == {"type": "state", "state": "agent"}
        client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "Hello Ada"}, headers=ann)
        line = ws.receive_json()["message"]
        assert (line["sender"], line["text"], line["agent_name"]) == ("agent", "Hello Ada", "Ann")


def test_a_backlog_longer_than_one_batch_arrives_whole(client, monkeypatch):
    import api.live.customer

    monkeypatch.setattr(api.live.customer, "BATCH", 3)
    session_id, token, headers = start(client)
    for text in ("one", "two", "three", "four"):
        client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": text}, headers=headers)
    with client.websocket_connect(ws_url(session_id, token, after=0)) as ws:
        events = [ws.receive_json() for _ in range(9)]
    ids = [e["message"]["id"] for e in events if e["type"] == "message"]
    assert len(ids) == 8 and ids == sorted(set(ids))
    assert events[-1] == {"type": "state", "state": "bot"}


def test_queue_position_moves_as_people_ahead_are_served(client):
    first, _ = queued_customer(client, "Ada")
    second, headers = queued_customer(client, "Bob")
    token = headers["Authorization"].removeprefix("Bearer ")
    ann = staff(client, "ann")
    last = client.get(f"/api/v1/chat/sessions/{second}/messages", headers=headers).json()["messages"][-1]["id"]
    with client.websocket_connect(ws_url(second, token, after=last)) as ws:
        assert ws.receive_json() == {"type": "state", "state": "queued"}
        assert ws.receive_json() == {"type": "queue", "position": 2, "estimate_seconds": None}
        [ada, _] = client.get("/api/v1/handoffs", headers=ann).json()
        assert ada["conversation_id"] == first
        client.post(f"/api/v1/handoffs/{ada['id']}/claim", headers=ann)
        moved = ws.receive_json()
        assert moved["type"] == "queue" and moved["position"] == 1
        # One claim so far, which took about no time: the estimate is learned from it.
        assert moved["estimate_seconds"] is not None and moved["estimate_seconds"] < 60


def test_typing_reaches_the_other_side_and_is_not_stored(client):
    session_id, customer = queued_customer(client)
    token = customer["Authorization"].removeprefix("Bearer ")
    ann = staff(client, "ann")
    [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
    client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann)
    before = len(client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()["messages"])
    with client.websocket_connect(ws_url(session_id, token, after=10**6)) as ws:
        assert ws.receive_json() == {"type": "state", "state": "agent"}
        answer = client.post(f"/api/v1/handoffs/{waiting['id']}/typing", json={"typing": True}, headers=ann)
        assert answer.status_code == 204
        assert ws.receive_json() == {"type": "typing", "typing": True, "name": "Ann"}
    after = len(client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()["messages"])
    assert after == before


def test_the_customer_can_write_over_the_socket(client, rasa):
    session_id, token, headers = start(client)
    with client.websocket_connect(ws_url(session_id, token)) as ws:
        assert ws.receive_json() == {"type": "state", "state": "bot"}
        ws.send_json({"type": "message", "text": "hi"})
        mine, bot = ws.receive_json(), ws.receive_json()
    assert (mine["message"]["sender"], mine["message"]["text"]) == ("customer", "hi")
    assert (bot["message"]["sender"], bot["message"]["text"]) == ("bot", "Hello! How can I help?")
    assert rasa.received[-1]["message"] == "hi"
    stored = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=headers).json()["messages"]
    assert [m["id"] for m in stored] == [mine["message"]["id"], bot["message"]["id"]]


@pytest.mark.parametrize(("frame", "detail"), [
    ("not json", "frames are JSON objects"),
    ("[1, 2]", "a frame is a JSON object"),
    ('{"type": "dance"}', "unknown frame type 'dance'"),
    ('{"type": "message", "text": "   "}', "the message is empty"),
    ('{"type": "message"}', "send either text or payload"),
    ('{"type": "message", "text": "' + "x" * 2001 + '"}', "longer than 2000 characters"),
])
def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(client, frame, detail):
    session_id, token, headers = start(client)
    with client.websocket_connect(ws_url(session_id, token)) as ws:
        assert ws.receive_json() == {"type": "state", "state": "bot"}
        ws.send_text(frame)
        error = ws.receive_json()
        assert error["type"] == "error" and detail in error["detail"]
        ws.send_json({"type": "message", "text": "still here"})
        assert ws.receive_json()["message"]["text"] == "still here"
    assert len(client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=headers).json()["messages"]) == 2


def test_repeated_typing_frames_are_passed_on_once_a_second(client, monkeypatch):
    """Issue 17: typing frames were unthrottled: each went to every agent socket."""
    session_id, token, _ = start(client)
    broker = client.app.state.broker
    published, original = [], broker.publish
    monkeypatch.setattr(broker, "publish", lambda channel, event: (published.append(event), original(channel, event)))
    with client.websocket_connect(ws_url(session_id, token)) as ws:
        assert ws.receive_json() == {"type": "state", "state": "bot"}
        for _ in range(20):
            ws.send_json({"type": "typing", "typing": True})
        ws.send_json({"type": "typing", "typing": False})
        ws.send_json({"type": "message", "text": "hi"})  # handled after the frames above
        ws.receive_json()
    assert [event["typing"] for event in published if event.get("type") == "typing"] == [True, False]


def test_a_chat_may_have_five_sockets_open_and_a_sixth_is_refused(client):
    session_id, token, _ = start(client)
    opened = [client.websocket_connect(ws_url(session_id, token)) for _ in range(5)]
    sockets = [context.__enter__() for context in opened]
    try:
        for ws in sockets:
            assert ws.receive_json() == {"type": "state", "state": "bot"}
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect(ws_url(session_id, token)) as sixth:
                sixth.receive_json()
        assert refused.value.code == 4429
    finally:
        for context in opened:
            context.__exit__(None, None, None)
    with client.websocket_connect(ws_url(session_id, token)) as again:  # closed ones are counted out
        assert again.receive_json() == {"type": "state", "state": "bot"}

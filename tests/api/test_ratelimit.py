"""Flooding is refused with 429 per chat session and per client address; a refused message
is not stored; the limits hold across API processes through Redis."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bot.settings import Settings


def app_with(configure, rasa, **rates) -> TestClient:
    configure(**rates)
    return TestClient(create_app(rasa=rasa))


def open_chat(client) -> tuple[str, dict]:
    created = client.post("/api/v1/chat/sessions", json={})
    assert created.status_code == 201, created.text
    return created.json()["session_id"], {"Authorization": f"Bearer {created.json()['token']}"}


def test_one_session_sending_too_fast_gets_429_and_the_extra_line_is_not_kept(app_db, rasa, configure):
    client = app_with(configure, rasa, chat_rate_per_session="3/minute")
    session_id, headers = open_chat(client)
    url = f"/api/v1/chat/sessions/{session_id}/messages"
    codes = [client.post(url, json={"text": f"line {n}"}, headers=headers).status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post(url, json={"text": "one more"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "too many messages in this chat" in refused.json()["detail"]
    kept = [m["text"] for m in client.get(url, headers=headers).json()["messages"] if m["sender"] == "customer"]
    assert kept == ["line 0", "line 1", "line 2"]
    # Another chat is not held back by this one.
    other, other_headers = open_chat(client)
    assert client.post(f"/api/v1/chat/sessions/{other}/messages", json={"text": "hi"},
                       headers=other_headers).status_code == 200


def test_one_address_spreading_over_many_sessions_is_limited_too(app_db, rasa, configure):
    client = app_with(configure, rasa, chat_rate_per_address="4/minute")
    codes = []
    for _ in range(5):
        session_id, headers = open_chat(client)
        codes.append(client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "hi"},
                                 headers=headers).status_code)
    assert codes == [200, 200, 200, 200, 429]


def test_opening_chats_is_limited_per_address(app_db, rasa, configure):
    client = app_with(configure, rasa, chat_sessions_per_address="2/minute")
    codes = [client.post("/api/v1/chat/sessions", json={}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_a_wrong_token_does_not_use_up_the_sessions_allowance(app_db, rasa, configure):
    client = app_with(configure, rasa, chat_rate_per_session="2/minute")
    session_id, headers = open_chat(client)
    url = f"/api/v1/chat/sessions/{session_id}/messages"
    for _ in range(5):
        assert client.post(url, json={"text": "x"}, headers={"Authorization": "Bearer guess"}).status_code == 401
    assert [client.post(url, json={"text": "hi"}, headers=headers).status_code for _ in range(2)] == [200, 200]


def test_the_socket_is_limited_like_the_post(app_db, rasa, configure):
    client = app_with(configure, rasa, chat_rate_per_session="1/minute")
    created = client.post("/api/v1/chat/sessions", json={}).json()
    with client.websocket_connect(f"/api/v1/chat/sessions/{created['session_id']}/ws?token={created['token']}") as ws:
        assert ws.receive_json()["type"] == "state"
        ws.send_json({"type": "message", "text": "hi"})
        assert ws.receive_json()["message"]["text"] == "hi"
        ws.receive_json()  # the bot's answer
        ws.send_json({"type": "message", "text": "again"})
        error = ws.receive_json()
        assert error["type"] == "error" and "too many messages" in error["detail"]


def test_limits_are_shared_by_processes_through_redis(app_db, rasa, monkeypatch, configure, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    first = app_with(configure, rasa, chat_rate_per_session="2/minute")
    second = TestClient(create_app(rasa=rasa))
    session_id, headers = open_chat(first)
    url = f"/api/v1/chat/sessions/{session_id}/messages"
    codes = [client.post(url, json={"text": "hi"}, headers=headers).status_code for client in (first, second, first)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("rate", ["lots", "20/fortnight", ""])
def test_an_unreadable_rate_stops_the_start(rate):
    with pytest.raises(ValueError, match="is not a rate"):
        Settings(_env_file=None, chat_rate_per_session=rate)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_in_process_window_moves_with_time_and_says_how_long_to_wait():
    from api.ratelimit import MovingWindow

    clock = Clock()
    window = MovingWindow(clock=clock)
    allowed = []
    for _ in range(3):  # hits at 0, 10 and 20 s
        allowed.append(window.hit("a", 3, 60))
        clock.now += 10
    assert allowed == [None, None, None]
    assert window.hit("a", 3, 60) == 30  # at 30 s: the first hit leaves the window in 30 s
    assert window.hit("b", 3, 60) is None  # other keys are counted apart
    clock.now += 30
    assert window.hit("a", 3, 60) is None  # a moving window: one slot is free again, not all three
    assert window.hit("a", 3, 60) == 10
    clock.now += 10
    assert window.hit("a", 3, 60) is None


def test_the_in_process_window_forgets_idle_keys():
    from api.ratelimit import MovingWindow

    clock = Clock()
    window = MovingWindow(clock=clock)
    for key in range(100):
        window.hit(f"session-{key}", 20, 60)
    assert len(window) == 100
    clock.now += MovingWindow.SWEEP_EVERY + 1
    window.hit("fresh", 20, 60)
    assert len(window) == 1


def test_an_unreachable_redis_lets_customers_through_after_a_short_wait():
    from api.ratelimit import RateLimits

    rates = RateLimits(Settings(redis_url="redis://127.0.0.1:9/0"))  # the discard port: nothing listens
    rates.message(session_id="abc", address="10.0.0.1")  # no 429, no error: the customer goes on
    rates.new_session(address="10.0.0.1")
    # A Redis that takes the connection and then says nothing holds a customer this long at most.
    pool = rates._shared.storage.storage.connection_pool.connection_kwargs
    assert (pool["socket_timeout"], pool["socket_connect_timeout"]) == (1.0, 1.0)

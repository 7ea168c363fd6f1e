"""Issue 17: request bodies are limited before parsing, and text that the database cannot store (NUL,
an unpaired surrogate) is a clear 422 instead of a 500, with nothing stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from bot.conversations.models import Message
from bot.db import transaction
from tests.api.support import FakeRasa  # noqa: F401 - the `rasa` fixture gives one


@pytest.fixture
def chat(app_db, rasa, configure):
    configure(request_max_bytes=16 * 1024)
    client = TestClient(create_app(rasa=rasa), raise_server_exceptions=False)
    created = client.post("/api/v1/chat/sessions", json={}).json()
    headers = {"Authorization": f"Bearer {created['token']}", "Content-Type": "application/json"}
    return client, f"/api/v1/chat/sessions/{created['session_id']}/messages", headers


def lines() -> int:
    with transaction() as session:
        return session.scalar(select(func.count()).select_from(Message))


@pytest.mark.parametrize("raw", [b'{"text": "hi \\ud800 there"}', b'{"text": "\\udc00"}', b'{"text": "a\\u0000b"}',
                                 b'{"text": "ok", "\\ud83d": 1}', b'{"payload": "/greet\\u0000"}'])
def test_text_the_database_cannot_store_is_a_clear_422(chat, raw):
    client, url, headers = chat
    response = client.post(url, content=raw, headers=headers)
    assert response.status_code == 422, response.text
    assert "unpaired UTF-16 surrogate" in response.json()["detail"]
    assert lines() == 0


def test_a_paired_surrogate_and_a_literal_backslash_u_are_fine(chat, rasa):
    client, url, headers = chat
    assert client.post(url, content=b'{"text": "thanks \\ud83d\\ude00"}', headers=headers).status_code == 200
    assert rasa.received[-1]["message"] == "thanks \U0001F600"
    assert client.post(url, content=b'{"text": "the path C:\\\\ud800 is odd"}', headers=headers).status_code == 200
    assert rasa.received[-1]["message"] == "the path C:\\ud800 is odd"


def test_a_body_over_the_limit_is_413_before_it_is_read(chat):
    client, url, headers = chat
    big = b'{"text": "' + b"x" * (16 * 1024) + b'"}'
    response = client.post(url, content=big, headers=headers)
    assert response.status_code == 413 and "16384 bytes" in response.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"text": "'
        for _ in range(20):
            yield b"y" * 1024
        yield b'"}'

    assert client.post(url, content=chunks(), headers=headers).status_code == 413
    assert lines() == 0


def test_a_socket_frame_with_a_lone_surrogate_is_refused_and_the_socket_stays(chat):
    client, url, headers = chat
    session_id, token = url.split("/")[5], headers["Authorization"].split()[1]
    with client.websocket_connect(f"/api/v1/chat/sessions/{session_id}/ws?token={token}") as socket:
        socket.send_text('{"type": "message", "text": "hi \\ud800"}')
        for _ in range(5):
            frame = socket.receive_json()
            if frame["type"] == "error":
                break
        assert "unpaired UTF-16 surrogate" in frame["detail"]
    assert lines() == 0


def test_percent_zero_zero_in_json_is_just_text_but_nul_in_a_form_is_refused(chat, rasa):
    client, url, headers = chat
    assert client.post(url, content=b'{"text": "the link has %00 in it"}', headers=headers).status_code == 200
    assert rasa.received[-1]["message"] == "the link has %00 in it"
    refused = client.post("/api/v1/auth/token", content=b"username=a%00b%40example.com&password=x",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 422

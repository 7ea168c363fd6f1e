"""Issue 17, staff accounts: a sign-in ends with logout, a new password or role, or a disabled account,
on every device, sockets included; a one-time link sets a new password."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import bot.users.service as users
from api.main import create_app
from bot.db import transaction
from bot.users.models import User
from bot.users.schemas import UserCreate
from bot.users.service import (
    UserError,
    create_user,
    disable_user,
    enable_user,
    get_user_by_email,
    reset_link,
    set_password,
    set_role,
)

PASSWORD = "a long enough password"


@pytest.fixture
def client(app_db, configure, tmp_path):
    configure(secret_key_file=tmp_path / "secret_key", cookie_secure="false")
    with transaction() as session:
        for email, role in [("agent@example.com", "agent"), ("admin@example.com", "admin")]:
            create_user(session=session, data=UserCreate(email=email, name=role.title(), role=role, password=PASSWORD))
    return TestClient(create_app())


def token(client, email="agent@example.com", password=PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def me(client, access: str) -> int:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code


def user_id(email="agent@example.com") -> int:
    with transaction() as session:
        return get_user_by_email(session=session, email=email).id


def test_logout_ends_every_session_of_that_account_not_only_the_cookie(client):
    laptop, phone = token(client), token(client)
    other = token(client, "admin@example.com")
    assert me(client, laptop) == me(client, phone) == 200
    assert client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {laptop}"}).status_code == 204
    assert me(client, laptop) == me(client, phone) == 401  # a copied token too
    assert "sign-in has ended" in client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {phone}"}
                                             ).json()["detail"]
    assert me(client, other) == 200  # nobody else's
    assert me(client, token(client)) == 200  # signing in again works


def test_logout_without_a_token_only_forgets_the_cookie(client):
    access = token(client)
    client.cookies.clear()  # a caller that sends neither the header nor the cookie
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 204 and "support_token=" in response.headers["set-cookie"]
    assert me(client, access) == 200


@pytest.mark.parametrize("change", [
    lambda session, uid: set_password(session=session, user_id=uid, password="another long password"),
    lambda session, uid: set_role(session=session, user_id=uid, role="manager"),
    lambda session, uid: disable_user(session=session, user_id=uid),
])
def test_a_new_password_role_or_a_disabled_account_ends_the_sessions(client, change):
    access = token(client)
    with transaction() as session:
        change(session, user_id())
    assert me(client, access) == 401


def test_a_disabled_account_cannot_sign_in_until_enabled(client):
    with transaction() as session:
        disable_user(session=session, user_id=user_id())
    assert client.post("/api/v1/auth/token", data={"username": "agent@example.com", "password": PASSWORD}
                       ).status_code == 401
    with transaction() as session:
        enable_user(session=session, user_id=user_id())
    assert me(client, token(client)) == 200


def test_the_last_active_admin_cannot_be_disabled_or_demoted(client):
    admin = user_id("admin@example.com")
    with transaction() as session, pytest.raises(UserError, match="only active admin"):
        disable_user(session=session, user_id=admin)
    with transaction() as session, pytest.raises(UserError, match="only active admin"):
        set_role(session=session, user_id=admin, role="agent")
    with transaction() as session:
        set_role(session=session, user_id=user_id(), role="admin")
    with transaction() as session:
        disable_user(session=session, user_id=admin)  # another admin remains
        assert session.get(User, admin).active is False


def test_an_open_console_socket_closes_within_seconds_when_the_sign_in_ends(client):
    access = token(client)
    with client.websocket_connect(f"/api/v1/agent/ws?token={access}") as socket:
        assert socket.receive_json()["type"] == "queue"
        assert socket.receive_json()["type"] == "mine"
        began = time.monotonic()
        with transaction() as session:  # as `python -m bot users disable` does, from another process
            disable_user(session=session, user_id=user_id())
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        assert closed.value.code == 4401
        assert time.monotonic() - began < 5


def reset(client, link: str, password: str):
    return client.post("/api/v1/auth/reset", json={"token": link.split("#token=", 1)[1], "password": password})


def test_a_reset_link_sets_a_password_once_and_ends_the_old_sessions(client):
    old = token(client)
    with transaction() as session:
        link, _ = reset_link(session=session, user_id=user_id())
    assert link.startswith("http://127.0.0.1:8000/reset#token=")
    assert reset(client, link, "short").status_code == 422
    assert reset(client, link, "my brand new password").status_code == 204
    assert me(client, old) == 401
    assert me(client, token(client, password="my brand new password")) == 200
    used = reset(client, link, "yet another password")
    # The link is the credential: a spent one is 401, like a wrong password.
    assert used.status_code == 401 and "expired or has been used" in used.json()["detail"]
    assert client.get("/reset").status_code == 200


def test_a_reset_link_is_void_after_another_password_change_expiry_or_forgery(client, configure):
    uid = user_id()
    with transaction() as session:
        link, _ = reset_link(session=session, user_id=uid)
        set_password(session=session, user_id=uid, password="changed another way")
    assert reset(client, link, "my brand new password").status_code == 401
    with transaction() as session:
        link, _ = reset_link(session=session, user_id=uid)
    assert reset(client, link[:-2] + ("AA" if not link.endswith("AA") else "BB"), "my brand new password"
                 ).status_code == 401
    configure(password_reset_minutes=5)
    with transaction() as session:
        link, _ = reset_link(session=session, user_id=uid, now=datetime.now(timezone.utc) - timedelta(minutes=6))
    assert reset(client, link, "my brand new password").status_code == 401
    with transaction() as session:
        link, _ = reset_link(session=session, user_id=uid)
    assert reset(client, link, "my brand new password").status_code == 204  # a fresh link still works


def attempt(client, email: str, password: str):
    # One test client is one peer address; another address is another client.
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def test_failed_sign_ins_are_throttled_per_account_the_same_whether_it_exists(client, monkeypatch):
    answers, checked, original = {}, [], users.password_matches
    monkeypatch.setattr(users, "password_matches", lambda *a: checked.append(a) or original(*a))
    for email in ("agent@example.com", "ghost@example.com"):
        for _ in range(5):
            assert attempt(client, email, "wrong password").status_code == 401
        assert len(checked) == 5  # each failure was a real check
        checked.clear()
        throttled = attempt(client, email, PASSWORD)  # even the right password waits
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 900
        assert checked == []  # refused before any password hash was computed
        answers[email] = throttled.json()["detail"].split(";")[0]
    assert answers["agent@example.com"] == answers["ghost@example.com"] == "too many failed sign-ins"
    assert attempt(client, "admin@example.com", PASSWORD).status_code == 200  # other accounts still sign in


def test_successful_sign_ins_do_not_count(client):
    for _ in range(8):
        assert attempt(client, "agent@example.com", PASSWORD).status_code == 200


def test_the_address_limit_covers_every_e_mail_tried_from_it(client):
    for number in range(20):
        assert attempt(client, f"guess{number}@example.com", "wrong password").status_code == 401
    assert attempt(client, "admin@example.com", PASSWORD).status_code == 429
    other_address = TestClient(client.app, client=("198.51.100.9", 50000))
    assert attempt(other_address, "admin@example.com", PASSWORD).status_code == 200

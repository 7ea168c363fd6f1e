"""Staff sign-in over HTTP: tokens, cookies, 401 for no or bad token, 403 for a role too low."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.deps import TOKEN_COOKIE
from api.main import create_app
from bot.db import transaction
from bot.users.schemas import UserCreate
from bot.users.security import create_access_token
from bot.users.service import create_user

PASSWORD = "a long enough password"


@pytest.fixture
def client(app_db, configure, tmp_path):
    configure(secret_key_file=tmp_path / "secret_key", cookie_secure="false")  # the test client speaks plain HTTP
    with transaction() as session:
        for email, role in [("agent@example.com", "agent"), ("manager@example.com", "manager"),
                            ("admin@example.com", "admin")]:
            create_user(session=session, data=UserCreate(email=email, name=role.title(), role=role,
                                                         password=PASSWORD))
    return TestClient(create_app())


def sign_in(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def bearer(client, email):
    return {"Authorization": f"Bearer {sign_in(client, email).json()['access_token']}"}


def test_sign_in_returns_a_bearer_token_and_an_httponly_cookie(client):
    response = sign_in(client, "Agent@Example.com")
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["user"]["role"] == "agent"
    assert "password_hash" not in body["user"]
    cookie = response.headers["set-cookie"]
    assert f"{TOKEN_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_cookie_is_marked_secure_by_default(client, configure):
    configure(cookie_secure=None)
    assert "Secure" in sign_in(client, "agent@example.com").headers["set-cookie"]


@pytest.mark.parametrize("email,password", [("agent@example.com", "wrong password"),
                                            ("ghost@example.com", PASSWORD)])
def test_wrong_credentials_are_401_with_the_same_answer(client, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 401
    assert response.json() == {"detail": "wrong e-mail or password"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_form_fields_are_422(client):
    assert client.post("/api/v1/auth/token", data={"username": "agent@example.com"}).status_code == 422


def test_me_works_with_the_header_and_with_the_cookie(client):
    assert client.get("/api/v1/auth/me", headers=bearer(client, "agent@example.com")).json()["email"] == \
        "agent@example.com"
    sign_in(client, "manager@example.com")  # the test client keeps the cookie
    assert client.get("/api/v1/auth/me").json()["role"] == "manager"
    # A browser sends its page's Origin with every POST; the test client's host is "testserver".
    assert client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://testserver.evil.example",
                                    "http://shop.testserver", "null"])
def test_a_state_changing_request_by_cookie_must_come_from_our_own_pages(client, origin):
    """Issue 17: SameSite=Strict does not cover a sibling subdomain; the Origin check does."""
    sign_in(client, "agent@example.com")  # the cookie
    headers = {} if origin is None else {"Origin": origin}
    refused = client.put("/api/v1/auth/me/presence", json={"presence": "away"}, headers=headers)
    assert refused.status_code == 403 and "this site's own pages" in refused.json()["detail"]
    assert client.get("/api/v1/auth/me").json()["presence"] == "offline"  # reading needs no Origin
    assert client.put("/api/v1/auth/me/presence", json={"presence": "away"},
                      headers={"Origin": "http://testserver"}).status_code == 200
    # A script that sends the token itself is not a forged cross-site request: no Origin needed.
    token = sign_in(client, "agent@example.com").json()["access_token"]
    assert client.put("/api/v1/auth/me/presence", json={"presence": "online"},
                      headers={"Authorization": f"Bearer {token}", **headers}).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}])
def test_no_or_bad_token_is_401(client, headers):
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401


def test_an_expired_token_is_401(client):
    from datetime import datetime, timedelta, timezone

    token, _ = create_access_token(user_id=1, role="agent", now=datetime.now(timezone.utc) - timedelta(days=3))
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_disabled_account_loses_access_at_once(client):
    headers = bearer(client, "agent@example.com")
    with transaction() as session:
        from bot.users.service import get_user_by_email

        get_user_by_email(session=session, email="agent@example.com").active = False
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_user_list_needs_manager_or_above(client):
    assert client.get("/api/v1/users", headers=bearer(client, "agent@example.com")).status_code == 403
    for email in ("manager@example.com", "admin@example.com"):
        response = client.get("/api/v1/users", headers=bearer(client, email))
        assert response.status_code == 200
        assert [u["role"] for u in response.json()] == ["agent", "manager", "admin"]


def test_role_is_read_from_the_database_not_the_token(client):
    headers = bearer(client, "agent@example.com")
    with transaction() as session:
        from bot.users.service import get_user_by_email

        get_user_by_email(session=session, email="agent@example.com").role = "manager"
    assert client.get("/api/v1/users", headers=headers).status_code == 200


def test_presence_changes_and_is_validated(client):
    headers = bearer(client, "agent@example.com")
    response = client.put("/api/v1/auth/me/presence", json={"presence": "online"}, headers=headers)
    assert response.status_code == 200 and response.json()["presence"] == "online"
    assert client.get("/api/v1/auth/me", headers=headers).json()["presence"] == "online"
    assert client.put("/api/v1/auth/me/presence", json={"presence": "busy"}, headers=headers).status_code == 422

"""Issue 17: admins run the team over the API: invite, disable and enable, change a role, reset links."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bot.db import transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user

PASSWORD = "a long enough password"


@pytest.fixture
def client(app_db, configure, tmp_path):
    configure(secret_key_file=tmp_path / "secret_key", cookie_secure="false")
    with transaction() as session:
        for email, role in [("ada@example.com", "admin"), ("sam@example.com", "agent")]:
            create_user(session=session, data=UserCreate(email=email, name=email[:3].title(), role=role,
                                                         password=PASSWORD))
    return TestClient(create_app())


def bearer(client, email, password=PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # these tests speak with the header only
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def ids(client, admin) -> dict[str, int]:
    return {user["email"]: user["id"] for user in client.get("/api/v1/users", headers=admin).json()}


def test_an_invited_agent_chooses_a_password_through_the_link_and_signs_in(client):
    admin = bearer(client, "ada@example.com")
    invited = client.post("/api/v1/users", json={"email": " New.Agent@Example.com ", "name": " Nia ", "role": "agent"},
                          headers=admin)
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert body["user"]["email"] == "new.agent@example.com" and body["user"]["name"] == "Nia"
    assert body["user"]["active"] is True and "/reset#token=" in body["link"]
    token = body["link"].split("#token=", 1)[1]
    assert client.post("/api/v1/auth/reset", json={"token": token, "password": "nia's own password"}).status_code == 204
    bearer(client, "new.agent@example.com", "nia's own password")
    again = client.post("/api/v1/users", json={"email": "new.agent@example.com", "name": "Nia", "role": "agent"},
                        headers=admin)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    for bad in ({"email": "not an address", "name": "X", "role": "agent"},
                {"email": "x@example.com", "name": "", "role": "agent"},
                {"email": "x@example.com", "name": "X", "role": "owner"}):
        assert client.post("/api/v1/users", json=bad, headers=admin).status_code == 422, bad


def test_disable_enable_and_role_change_end_sessions_at_once(client):
    admin, sam = bearer(client, "ada@example.com"), bearer(client, "sam@example.com")
    sam_id = ids(client, admin)["sam@example.com"]
    disabled = client.patch(f"/api/v1/users/{sam_id}", json={"active": False}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert client.get("/api/v1/auth/me", headers=sam).status_code == 401
    assert client.patch(f"/api/v1/users/{sam_id}", json={"active": True}, headers=admin).json()["active"] is True
    sam = bearer(client, "sam@example.com")
    promoted = client.patch(f"/api/v1/users/{sam_id}", json={"role": "manager"}, headers=admin)
    assert promoted.json()["role"] == "manager"
    assert client.get("/api/v1/auth/me", headers=sam).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(client, "sam@example.com")).json()["role"] == "manager"


def test_refusals(client):
    admin = bearer(client, "ada@example.com")
    ada_id, sam_id = ids(client, admin)["ada@example.com"], ids(client, admin)["sam@example.com"]
    last = client.patch(f"/api/v1/users/{ada_id}", json={"active": False}, headers=admin)
    assert last.status_code == 409 and "only active admin" in last.json()["detail"]
    assert client.patch(f"/api/v1/users/{ada_id}", json={"role": "agent"}, headers=admin).status_code == 409
    assert client.patch("/api/v1/users/999999", json={"active": False}, headers=admin).status_code == 404
    assert client.patch(f"/api/v1/users/{sam_id}", json={}, headers=admin).status_code == 422
    assert client.patch("/api/v1/users/99999999999", json={"active": False}, headers=admin).status_code == 422
    client.patch(f"/api/v1/users/{sam_id}", json={"active": False}, headers=admin)
    assert client.post(f"/api/v1/users/{sam_id}/reset-link", headers=admin).status_code == 409
    client.patch(f"/api/v1/users/{sam_id}", json={"active": True}, headers=admin)
    link = client.post(f"/api/v1/users/{sam_id}/reset-link", headers=admin)
    assert link.status_code == 200 and "/reset#token=" in link.json()["link"]


def test_an_admins_disable_closes_the_agents_console_at_once(client, monkeypatch):
    """Not waiting for the socket's own periodic check (made 30 s here, so that a missing publish fails
    the test instead of hanging it): the change is published to the agent's sockets."""
    from starlette.websockets import WebSocketDisconnect

    import api.live.agent

    monkeypatch.setattr(api.live.agent, "SIGN_IN_CHECK_SECONDS", 30.0)
    admin, sam = bearer(client, "ada@example.com"), bearer(client, "sam@example.com")
    sam_id = ids(client, admin)["sam@example.com"]
    token = sam["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/agent/ws?token={token}") as socket:
        assert socket.receive_json()["type"] == "queue"
        assert socket.receive_json()["type"] == "mine"
        began = time.monotonic()
        assert client.patch(f"/api/v1/users/{sam_id}", json={"active": False}, headers=admin).status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
    assert closed.value.code == 4401 and time.monotonic() - began < 10

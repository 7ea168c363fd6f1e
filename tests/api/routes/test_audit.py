"""Issue 17: the audit log: sign-ins and their failures, exports, staff-account changes; who, when, what
and from where; admins read it and download it (which is logged too)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bot.cli import main as cli
from bot.db import transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user

PASSWORD = "a long enough password"


@pytest.fixture
def client(app_db, configure, tmp_path):
    configure(secret_key_file=tmp_path / "secret_key", cookie_secure="false")
    with transaction() as session:
        for email, role in [("ada@example.com", "admin"), ("sam@example.com", "agent"), ("meg@example.com", "manager")]:
            create_user(session=session, data=UserCreate(email=email, name=email[:3].title(), role=role,
                                                         password=PASSWORD))
    return TestClient(create_app(), client=("203.0.113.20", 40000))


def bearer(client, email) -> dict:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def log(client, admin, **params) -> list[dict]:
    response = client.get("/api/v1/audit", headers=admin, params=params)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def test_sign_ins_failures_and_throttling_are_logged_with_the_address(client):
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "Sam@Example.com", "password": "wrong password"})
    client.post("/api/v1/auth/token", data={"username": "sam@example.com", "password": PASSWORD})  # throttled now
    admin = bearer(client, "ada@example.com")
    events = log(client, admin)
    assert [e["action"] for e in events[:7]] == ["signin.succeeded", "signin.throttled"] + ["signin.failed"] * 5
    assert events[0]["actor"] == "ada@example.com" and events[0]["actor_id"] is not None
    assert all(e["actor"] == "sam@example.com" and e["address"] == "203.0.113.20" for e in events[1:7])
    assert log(client, admin, action="signin.failed", limit=2)[0]["action"] == "signin.failed"
    page = client.get("/api/v1/audit", headers=admin, params={"action": "signin.failed", "limit": 2}).json()
    assert page["total"] == 5 and len(page["events"]) == 2


def test_account_changes_by_admins_and_the_command_line_name_who(client, monkeypatch, capsys):
    admin = bearer(client, "ada@example.com")
    invited = client.post("/api/v1/users", json={"email": "nia@example.com", "name": "Nia", "role": "agent"},
                          headers=admin).json()
    nia = invited["user"]["id"]
    client.patch(f"/api/v1/users/{nia}", json={"role": "manager"}, headers=admin)
    client.patch(f"/api/v1/users/{nia}", json={"active": False}, headers=admin)
    assert cli(["users", "enable", "--email", "nia@example.com"]) == 0
    client.post(f"/api/v1/users/{nia}/reset-link", headers=admin)
    events = [e for e in reversed(log(client, admin)) if e["target"] == f"user:{nia}"]
    assert [e["action"] for e in events] == ["user.invited", "user.role_changed", "user.disabled", "user.enabled",
                                             "user.reset_link"]
    assert events[1]["details"] == {"email": "nia@example.com", "old": "agent", "new": "manager"}
    assert events[0]["actor"] == "ada@example.com" and events[0]["address"] == "203.0.113.20"
    assert events[3]["actor"].startswith("cli") and events[3]["address"] is None


def test_an_export_download_is_logged_with_its_filters_and_the_log_exports_itself(client):
    manager, admin = bearer(client, "meg@example.com"), bearer(client, "ada@example.com")
    assert client.get("/api/v1/exports/tickets", params={"format": "csv", "redact": "true"},
                      headers=manager).status_code == 200
    [export] = log(client, admin, action="export.downloaded")
    assert export["actor"] == "meg@example.com" and export["target"] == "export:tickets"
    assert export["details"]["format"] == "csv" and export["details"]["redact"] is True
    assert export["details"]["rows"] == 0

    download = client.get("/api/v1/audit/export", headers=admin)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[-1]["action"] == "audit.exported" and rows[-1]["actor"] == "ada@example.com"
    exported = next(row for row in rows if row["action"] == "export.downloaded")
    assert json.loads(exported["details"])["format"] == "csv"
    assert [row["action"] for row in rows].count("signin.succeeded") == 2


def test_admins_export_and_erase_a_customer_over_the_api_and_it_is_logged(client):
    from tests.factories import make_ticket

    with transaction() as session:
        make_ticket(session, customer_email="cara@example.com", customer_name="Cara Diaz")
    admin = bearer(client, "ada@example.com")
    exported = client.get("/api/v1/privacy/export", params={"email": "Cara@Example.com"}, headers=admin)
    assert exported.status_code == 200 and exported.json()["tickets"][0]["name"] == "Cara Diaz"
    assert client.get("/api/v1/privacy/export", params={"email": "nope"}, headers=admin).status_code == 422
    erased = client.post("/api/v1/privacy/erase", json={"email": "cara@example.com"}, headers=admin)
    assert erased.status_code == 200 and erased.json()["counts"]["tickets"] == 1
    assert client.get("/api/v1/privacy/export", params={"email": "cara@example.com"}, headers=admin
                      ).json()["tickets"] == []
    actions = [e["action"] for e in log(client, admin)]
    assert actions[:3] == ["privacy.exported", "privacy.erased", "privacy.exported"]  # newest first
    assert "cara" not in json.dumps(log(client, admin)).lower()

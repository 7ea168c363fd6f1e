"""What the API tests share: a scripted stand-in for Rasa, signing staff in, a queued customer."""

from __future__ import annotations

import json

import httpx

PASSWORD = "a long enough password"


class FakeRasa:
    def __init__(self) -> None:
        self.received: list[dict] = []
        self.triggered: list[tuple[str, dict]] = []
        self.down = False

    def answer(self, message: str) -> list[dict]:
        if message in ("hi", "/greet"):
            return [{"text": "Hello! How can I help?", "buttons": [
                {"title": "Open a ticket", "payload": "/open_ticket"}, {"title": "Talk to a person",
                                                                        "payload": "/request_human"}]}]
        if message in ("a person please", "/request_human"):
            return [{"text": "I'm connecting you with a member of our team."},
                    {"custom": {"handoff": {"reason": "requested"}}}]
        return [{"text": f"You said: {message}"}]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        body = json.loads(request.content)
        if request.url.path.endswith("/trigger_intent"):
            if request.url.params.get("token") != "rasa-secret":
                return httpx.Response(401, json={"message": "not authorised"})
            self.triggered.append((request.url.path.split("/")[2], body))
            agent = body["entities"].get("agent")
            return httpx.Response(200, json={"tracker": {}, "messages": [
                {"recipient_id": "x", "text": f"{agent} has finished helping you."},
                {"recipient_id": "x", "text": "Before you go: a few quick questions?",
                 "buttons": [{"title": "Sure", "payload": "/affirm"}]}]})
        self.received.append(body)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], **r} for r in self.answer(body["message"])])


def staff(client, name) -> dict:
    """Headers for the staff member <name>@example.com (made by the `client` fixture)."""
    token = client.post("/api/v1/auth/token", data={"username": f"{name}@example.com", "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def queued_customer(client, name="Ada") -> tuple[str, dict]:
    created = client.post("/api/v1/chat/sessions", json={"name": name, "email": f"{name.lower()}@example.com"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    reply = client.post(f"/api/v1/chat/sessions/{created['session_id']}/messages", json={"text": "a person please"},
                        headers=headers).json()
    assert reply["state"] == "queued"
    return created["session_id"], headers

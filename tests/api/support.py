"""What the API tests share: a scripted stand-in for Rasa, signing staff in, a queued customer."""

from __future__ import annotations

from api.rasa_client import RasaUnavailable

PASSWORD = "a long enough password"


class FakeRasa:
    """Stands in for the API's Rasa client (the `RasaClient` interface): records what the
    gateway tells the bot and answers as the REST channel and trigger_intent do. The client
    itself is tested against a real HTTP server in test_rasa_client.py."""

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
        if message.startswith("gibberish"):
            return [{"text": "Sorry, I'm not sure I understood. Could you say it another way?"},
                    {"custom": {"fallback": {"stage": "ask_affirmation"}}}]
        return [{"text": f"You said: {message}"}]

    async def send(self, sender: str, message: str) -> list[dict]:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.received.append({"sender": sender, "message": message})
        return [{"recipient_id": sender, **reply} for reply in self.answer(message)]

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, str]) -> list[dict]:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.triggered.append((sender, {"name": intent, "entities": entities}))
        agent = entities.get("agent")
        return [{"recipient_id": sender, "text": f"{agent} has finished helping you."},
                {"recipient_id": sender, "text": "Before you go: a few quick questions?",
                 "buttons": [{"title": "Sure", "payload": "/affirm"}]}]

    async def close(self) -> None:
        pass


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

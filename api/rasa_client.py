"""The API's line to the Rasa server's REST channel."""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with something that is not a list of messages."""


class RasaClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._token = token

    async def send(self, sender: str, message: str) -> list[dict]:
        """Deliver one customer message; the bot's replies (text, buttons, custom) in order."""
        try:
            response = await self._client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
            logger.error("Rasa did not answer for %s: %s", sender, error)
            raise RasaUnavailable(str(error)) from error
        if not isinstance(replies, list):
            raise RasaUnavailable(f"unexpected reply from Rasa: {str(replies)[:200]}")
        return [reply for reply in replies if isinstance(reply, dict)]

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, str]) -> list[dict]:
        """Tell the bot something happened outside the chat (Rasa's trigger_intent API, which needs
        the server's auth token); the bot's resulting messages, in order."""
        params = {"output_channel": "latest", **({"token": self._token} if self._token else {})}
        try:
            response = await self._client.post(f"/conversations/{sender}/trigger_intent", params=params,
                                               json={"name": intent, "entities": entities})
            response.raise_for_status()
            messages = response.json().get("messages")
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            logger.error("trigger_intent %s for %s failed: %s", intent, sender, error)
            raise RasaUnavailable(str(error)) from error
        if not isinstance(messages, list):
            raise RasaUnavailable("trigger_intent answered without a messages list")
        return [message for message in messages if isinstance(message, dict)]

    async def close(self) -> None:
        await self._client.aclose()

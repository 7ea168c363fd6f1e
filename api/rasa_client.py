"""The API's line to the Rasa server's REST channel."""

from __future__ import annotations

import logging

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with something that is not a list of messages."""


class RasaClient:
    def __init__(self, base_url: str, *, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None):
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

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

    async def close(self) -> None:
        await self._client.aclose()

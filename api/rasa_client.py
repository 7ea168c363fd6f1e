"""The API's line to the Rasa server's REST channel (aiohttp: a fraction of httpx's cost per call,
which is on every customer message's path)."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp

from bot.conversations.relay import BotUnavailable
from bot.observability import REQUEST_ID_HEADER, request_id

logger = logging.getLogger(__name__)


class RasaUnavailable(BotUnavailable):
    """Rasa did not answer, or answered with something that is not a list of messages.
    `unanswered`: the request never reached Rasa, or Rasa dropped the connection without a word
    (its process died), so it did not finish the line and another server may take it."""

    def __init__(self, message: str, *, unanswered: bool = False) -> None:
        super().__init__(message)
        self.unanswered = unanswered


def _unanswered(error: BaseException) -> bool:
    # Refused, reset or closed without a reply; a timeout or an HTTP error means Rasa got the line.
    return isinstance(error, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError))


class RasaClient:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 30.0):
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that will use it.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, raise_for_status=True)
        return self._session

    async def _post(self, path: str, body: dict, params: dict | None = None):
        # The REST channel (channels/rest.py) wants the same token as Rasa's HTTP API, as a header.
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        if (current := request_id.get()) is not None:  # Rasa's REST channel logs it (channels/rest.py)
            headers[REQUEST_ID_HEADER] = current
        async with self._http().post(self._base + path, params=params, json=body, headers=headers) as response:
            return json.loads(await response.read())

    async def send(self, sender: str, message: str, metadata: dict | None = None) -> list[dict]:
        """Deliver one customer message (with `metadata` for the actions to read, when given); the
        bot's replies (text, buttons, custom) in order."""
        body = {"sender": sender, "message": message, **({"metadata": metadata} if metadata else {})}
        try:
            replies = await self._post("/webhooks/rest/webhook", body)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.error("Rasa at %s did not answer for %s: %s", self._base, sender, error)
            raise RasaUnavailable(str(error) or type(error).__name__, unanswered=_unanswered(error)) from error
        if not isinstance(replies, list):
            raise RasaUnavailable(f"unexpected reply from Rasa: {str(replies)[:200]}")
        return [reply for reply in replies if isinstance(reply, dict)]

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, str]) -> list[dict]:
        """Tell the bot something happened outside the chat (Rasa's trigger_intent API, which needs
        the server's auth token); the bot's resulting messages, in order."""
        params = {"output_channel": "latest", **({"token": self._token} if self._token else {})}
        try:
            answer = await self._post(f"/conversations/{sender}/trigger_intent", {"name": intent, "entities": entities},
                                      params)
            messages = answer.get("messages")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, AttributeError) as error:
            logger.error("trigger_intent %s for %s at %s failed: %s", intent, sender, self._base, error)
            raise RasaUnavailable(str(error) or type(error).__name__, unanswered=_unanswered(error)) from error
        if not isinstance(messages, list):
            raise RasaUnavailable("trigger_intent answered without a messages list")
        return [message for message in messages if isinstance(message, dict)]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

"""The REST channel, with two promises added.

- A customer never gets silence. When a custom action fails (the action server is down or
  crashed), Rasa 3.6 logs the error and carries on with no reply. This channel notices that a
  message produced no reply at all and answers with a polite apology instead.
- Only the API speaks here. Rasa's REST channel takes any sender id from anyone who reaches the
  port; with RASA_TOKEN in the server's environment (the token its HTTP API already requires),
  a message without `Authorization: Bearer <RASA_TOKEN>` gets 401 and reaches no conversation.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import response
from sanic.request import Request

from channels import observe
from channels.action_results import check_schema_once

logger = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on our side and I couldn't finish that. "
    "Please try again in a moment; if it keeps happening, ask to talk to a person."
)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]):
        check_schema_once()  # the server builds this channel once, as it starts
        observe.install("rasa")

        async def never_silent(message: UserMessage) -> Any:
            # The API's request id (in the line's metadata) on every log line Rasa writes for this line.
            observe.request_id.set(observe.accepted_id((message.metadata or {}).get("request_id")))
            observe.conversation_id.set(message.sender_id)
            collector = message.output_channel
            before = len(collector.messages) if isinstance(collector, CollectingOutputChannel) else None
            logger.info("a line for %s", message.sender_id)
            with observe.LINE_SECONDS.time():
                result = await on_new_message(message)
            observe.LINES.inc()
            if before is not None and len(collector.messages) == before:
                observe.APOLOGIES.inc()
                logger.error("no reply for a message from %s; sending the apology", message.sender_id)
                await collector.send_text_message(message.sender_id, APOLOGY)
            return result

        blueprint = super().blueprint(never_silent)

        @blueprint.route("/metrics", methods=["GET"])
        async def metrics(request: Request) -> Any:
            """This Rasa server's metrics, for a scraper with METRICS_TOKEN (404 otherwise)."""
            if not observe.allowed(request.headers.get("authorization")):
                return response.json({"error": "not found"}, status=404)
            body, content_type = observe.exposition()
            return response.raw(body, content_type=content_type)

        token = os.environ.get("RASA_TOKEN")
        if not token:
            logger.warning("RASA_TOKEN is not set: the REST channel takes messages from anyone who reaches this port")
            return blueprint
        expected = f"Bearer {token}".encode()

        @blueprint.middleware("request")
        async def only_the_api(request: Request) -> Any:
            if request.path.endswith("/webhook") and not hmac.compare_digest(
                    request.headers.get("authorization", "").encode(), expected):
                return response.json({"error": "unauthorized", "detail": "only the API may send messages here"},
                                     status=401)
            return None

        return blueprint

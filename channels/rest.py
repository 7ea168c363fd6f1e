"""The REST channel, with one promise added: a customer never gets silence.

When a custom action fails (the action server is down or crashed), Rasa 3.6 logs the
error and carries on with no reply. This channel notices that a message produced no
reply at all and answers with a polite apology instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput

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
        async def never_silent(message: UserMessage) -> Any:
            collector = message.output_channel
            before = len(collector.messages) if isinstance(collector, CollectingOutputChannel) else None
            result = await on_new_message(message)
            if before is not None and len(collector.messages) == before:
                logger.error("no reply for a message from %s; sending the apology", message.sender_id)
                await collector.send_text_message(message.sender_id, APOLOGY)
            return result

        return super().blueprint(never_silent)

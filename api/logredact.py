"""Keep secrets out of the logs: uvicorn logs WebSocket paths with their query (a customer's
chat token travels there, since browsers cannot set headers on a WebSocket), and an error from
a call to Rasa's API names its URL, token included."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRET.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


LOGGERS = ("uvicorn.error", "uvicorn.access", "api.rasa_client")


def install() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())

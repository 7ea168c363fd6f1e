"""Keep secrets out of the logs: uvicorn logs WebSocket paths with their query (a customer's
chat token travels there, since browsers cannot set headers on a WebSocket), and an error from
a call to Rasa's API names its URL, token included."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)


def _redact(value: object) -> object:
    return _SECRET.sub(r"\1[redacted]", value) if isinstance(value, str) else value


# PostgreSQL's error DETAIL quotes values ("Key (email)=(ada@example.com) already exists", "Failing
# row contains (...)"); SQLAlchemy's bound parameters are hidden already (bot/db.py).
_DATABASE_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)


class RedactTokens(logging.Filter):
    """Redacts in place, keeping the record's shape: uvicorn's access formatter reads the request
    line from `record.args` (a 5-tuple), and a record flattened to a bare message made it drop the
    whole line. A logged exception's text is formatted here once, with database DETAIL lines cut."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not record.exc_text:
            record.exc_text = _DATABASE_DETAIL.sub(r"\1 [redacted]",
                                                   _redact(logging.Formatter().formatException(record.exc_info)))
        record.msg = _redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact(arg) for key, arg in record.args.items()}
        return True


LOGGERS = ("uvicorn.error", "uvicorn.access", "api.rasa_client")


def install() -> None:
    """On uvicorn's and our loggers, and on every handler already set up (a record from any of our
    modules reaches a handler, not the loggers above it)."""
    handlers = [handler for name in ("", *LOGGERS) for handler in logging.getLogger(name).handlers]
    for holder in [logging.getLogger(name) for name in LOGGERS] + handlers:
        if not any(isinstance(existing, RedactTokens) for existing in holder.filters):
            holder.addFilter(RedactTokens())

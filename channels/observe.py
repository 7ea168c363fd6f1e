"""The Rasa server's side of issue 19, inside Rasa's own environment (.venv-rasa: only the standard library
and prometheus-client here, not our bot package).

- The request id the API sends with each customer line (the X-Request-ID header, and "request_id" in the
  line's metadata, which Rasa hands on to the action server) is on every log line Rasa writes while it
  handles that line: appended as "[request <id>]" to human lines, a field of JSON lines (LOG_FORMAT=json).
- Prometheus metrics of this Rasa server (GET /webhooks/rest/metrics, for METRICS_TOKEN): lines handled,
  the time Rasa took for each, lines answered with the apology because nothing replied.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from contextvars import ContextVar
from datetime import datetime, timezone

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
conversation_id: ContextVar[str | None] = ContextVar("conversation_id", default=None)
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LINES = Counter("support_rasa_lines_total", "customer lines this Rasa server handled")
LINE_SECONDS = Histogram("support_rasa_line_seconds", "time this Rasa server took for a customer line (NLU, "
                         "policies, actions)", buckets=SECONDS)
APOLOGIES = Counter("support_rasa_apologies_total", "customer lines answered with the apology because nothing "
                    "replied (an action failed)")


def accepted_id(value: object) -> str | None:
    return value if isinstance(value, str) and _ACCEPTED_ID.match(value) else None


class _Context(logging.Filter):
    def __init__(self, process_name: str, text: bool) -> None:
        super().__init__()
        self.process_name, self.text = process_name, text

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.conversation_id = request_id.get(), conversation_id.get()
        record.process_name = self.process_name
        if self.text and record.request_id and not getattr(record, "_request_shown", False):
            record.msg = f"{record.msg} [request {record.request_id}]"
            record._request_shown = True  # one record may pass several handlers
        return True


class _Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname, "process_name": getattr(record, "process_name", None),
                "process": record.process, "logger": record.name, "message": record.getMessage(),
                "request_id": getattr(record, "request_id", None),
                "conversation_id": getattr(record, "conversation_id", None)}
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def install(process_name: str) -> None:
    """The request context on every handler of the root logger and Rasa's and Sanic's; JSON lines with
    LOG_FORMAT=json."""
    as_json = os.environ.get("LOG_FORMAT", "text").lower() == "json"
    for name in ("", "rasa", "sanic.root", "sanic.access", "sanic.error"):
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(existing, _Context) for existing in handler.filters):
                handler.addFilter(_Context(process_name, text=not as_json))
            if as_json:
                handler.setFormatter(_Json())


def allowed(authorization: str | None) -> bool:
    token = os.environ.get("METRICS_TOKEN")
    return bool(token) and hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode())


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

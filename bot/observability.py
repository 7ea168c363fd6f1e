"""What every process of ours tells operators (issue 19): one request id per request, carried from the API to
Rasa and on to the actions and written in every log line it causes; and the log lines themselves, as a
human reads them (the default) or as one JSON object each (LOG_FORMAT=json), with the process, the level,
the request id and the conversation id; our own lines never carry a customer's words or address."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What we take from a caller as their request id; anything else is replaced by one of ours.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
conversation_id: ContextVar[str | None] = ContextVar("conversation_id", default=None)


def new_request_id(given: str | None = None) -> str:
    """The caller's id when it is a sensible one (letters, digits, `._:-`, at most 64), else a new one."""
    if given and _ACCEPTED_ID.match(given):
        return given
    return uuid.uuid4().hex


class RequestContext(logging.Filter):
    """Puts the current request id and conversation id on every record (None outside a request), and
    `process_name`, so each JSON line says which of our processes wrote it. On human lines (`text`) the
    request id is appended to the message: "... [request 3f2a...]"."""

    def __init__(self, process_name: str, *, text: bool = False) -> None:
        super().__init__()
        self.process_name, self.text = process_name, text

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        if getattr(record, "conversation_id", None) is None:
            record.conversation_id = conversation_id.get()
        record.process_name = self.process_name
        if self.text and record.request_id and not getattr(record, "request_shown", False):
            record.msg = f"{record.msg} [request {record.request_id}]"
            record.request_shown = True  # one record may pass several handlers
        return True


JSON_FIELDS = ("asctime", "levelname", "process_name", "process", "name", "message", "request_id", "conversation_id")
# Libraries that say every call they make at INFO (with its URL): their warnings only.
QUIET = ("httpx", "httpcore")


def json_formatter() -> logging.Formatter:
    return JsonFormatter(" ".join(f"%({field})s" for field in JSON_FIELDS),
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z")


def configure_logging(process_name: str, log_format: str, *, loggers: tuple[str, ...] = ()) -> None:
    """Every handler of the root logger and of `loggers` (a server's own, e.g. uvicorn's) gets the request
    context, and with LOG_FORMAT=json the JSON formatter; our modules' INFO lines reach the root handler
    (one is added, to stderr, if there is none). Idempotent: an app built twice in one process (the tests)
    is configured once."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    if root.level == logging.WARNING:
        root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    for holder in [root, *(logging.getLogger(name) for name in loggers)]:
        for handler in holder.handlers:
            if not any(isinstance(existing, RequestContext) for existing in handler.filters):
                handler.addFilter(RequestContext(process_name, text=log_format != "json"))
            if log_format == "json" and not isinstance(handler.formatter, JsonFormatter):
                handler.setFormatter(json_formatter())

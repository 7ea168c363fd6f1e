"""Every request to the API, observed (issue 19): it gets a request id (the caller's X-Request-ID when it is
a sensible one, else a new one), which every log line it causes carries and the answer returns; it is
counted and timed by its route's template (never its concrete path: ids stay out of the labels); and one
access line (instead of uvicorn's) says what it was, how it ended and how long it took."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.metrics import HTTP_REQUESTS, HTTP_SECONDS
from bot.observability import REQUEST_ID_HEADER, conversation_id, new_request_id, request_id

access = logging.getLogger("api.access")


def route_of(scope: Scope) -> str:
    """The template of the route that answered ("/api/v1/tickets/{reference}"), or "unmatched"."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = new_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        rid_token, conversation_token = request_id.set(rid), conversation_id.set(None)
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                request_id.reset(rid_token)
                conversation_id.reset(conversation_token)
            return
        status = 500  # unless an answer starts
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            seconds = time.perf_counter() - started
            route, method = route_of(scope), scope["method"]
            HTTP_REQUESTS.labels(route, method, str(status)).inc()
            HTTP_SECONDS.labels(route, method).observe(seconds)
            access.info("%s %s %s %.1f ms", method, route, status, seconds * 1000, extra={
                "route": route, "method": method, "status": status, "duration_ms": round(seconds * 1000, 1)})
            request_id.reset(rid_token)
            conversation_id.reset(conversation_token)

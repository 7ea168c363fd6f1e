"""Every request body is checked before anything parses it: no larger than REQUEST_MAX_BYTES (413,
refused from Content-Length alone when it says so, else while the body arrives), and no NUL
character or unpaired UTF-16 surrogate (422): JSON may spell both (`\\u0000`, `\\ud800`), Python
reads them, and the database then refuses to store them, which was a 500. A plain ASGI
middleware: it is on every customer message's path."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NUL_FORM = re.compile(rb"\x00|%00")  # a form body spells NUL %00; in JSON, "%00" is just text
_REFUSED_TEXT = ("the request holds a NUL character or an unpaired UTF-16 surrogate (e.g. \\u0000, \\ud800); "
                 "send text without them")


class BodyRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status, self.detail = status, detail


def clean(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def clean_json(value: object) -> bool:
    """Whether every string in a parsed JSON value (keys too) is free of NUL and lone surrogates."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return all(clean(key) and clean_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(clean_json(item) for item in value)
    return True


class RequestGuard:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        try:
            body = await self._body(scope, receive)
        except BodyRefused as refused:
            await _answer(send, refused.status, refused.detail)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: a disconnect, when it comes

        await self.app(scope, replay, send)

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        too_large = BodyRefused(413, f"the request body is larger than {self.max_bytes} bytes")
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                raise too_large
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        form = any(name == b"content-type" and value.startswith(b"application/x-www-form-urlencoded")
                   for name, value in scope["headers"])
        if b"\x00" in body or (form and _NUL_FORM.search(body)):
            raise BodyRefused(422, _REFUSED_TEXT)
        if body.lstrip()[:1] in (b"{", b"["):
            try:
                parsed = json.loads(body)
            except ValueError:
                return body  # not JSON after all, or broken: the route's own parsing answers
            if not clean_json(parsed):
                raise BodyRefused(422, _REFUSED_TEXT)
        return body


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

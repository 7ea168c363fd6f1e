"""Live events for open WebSockets: the in-process broker (default).

A channel per conversation carries every new transcript line and every change of state.
Publishing is thread-safe, so synchronous routes (run in worker threads) and async
routes publish the same way; each subscriber gets its own queue on its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

QUEUE_LIMIT = 1000  # a subscriber this far behind is cut off (its client reconnects with ?after=)


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


class LocalBroker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.Queue, asyncio.AbstractEventLoop]]] = {}

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for queue, loop in subscribers:
            loop.call_soon_threadsafe(_offer, queue, event)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue]:
        entry = (asyncio.Queue(maxsize=QUEUE_LIMIT), asyncio.get_running_loop())
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(entry)
        try:
            yield entry[0]
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel, set())
                subscribers.discard(entry)
                if not subscribers:
                    self._subscribers.pop(channel, None)

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._subscribers.get(channel, ()))


def _offer(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        # Too far behind: drop what is queued and tell the reader, which closes the socket;
        # the client reconnects with ?after=<last id> and reads the rest from the database.
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait({"type": "overflow"})

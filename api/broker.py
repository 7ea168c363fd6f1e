"""Live events for open WebSockets: the in-process broker (default).

Channels: `conversation:<id>` (a line was added or the owner changed; typing), `queue` (the
waiting list changed) and `agent:<user id>` (a handoff that agent holds changed). Events are
pokes, not data: a socket that hears one reads what is new from the database, so nothing is
lost or doubled however events are delivered.

Publishing is thread-safe, so synchronous routes (run in worker threads) and async routes
publish the same way; each subscription has its own queue on its own event loop and may
listen to several channels, added and dropped while it runs."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

QUEUE_LIMIT = 1000  # a subscriber this far behind is cut off (its client reconnects with ?after=)
QUEUE_CHANNEL = "queue"


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def agent_channel(user_id: int) -> str:
    return f"agent:{user_id}"


class Subscription:
    """One listener's queue of events; each event carries the `channel` it came on."""

    def __init__(self, broker: LocalBroker) -> None:
        self._broker = broker
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.channels: set[str] = set()

    def add(self, channel: str) -> None:
        self._broker._attach(self, channel)

    def discard(self, channel: str) -> None:
        self._broker._detach(self, channel)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    def close_marker(self) -> None:
        """Wake the reader with `{"type": "closed"}`, making room if the queue is full."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait({"type": "closed"})


class LocalBroker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = {}

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for subscription in subscribers:
            subscription.loop.call_soon_threadsafe(_offer, subscription.queue, {**event, "channel": channel})

    @asynccontextmanager
    async def subscribe(self, channels: Iterable[str]) -> AsyncIterator[Subscription]:
        subscription = Subscription(self)
        for channel in channels:
            subscription.add(channel)
        try:
            yield subscription
        finally:
            for channel in list(subscription.channels):
                subscription.discard(channel)

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._subscribers.get(channel, ()))

    def _attach(self, subscription: Subscription, channel: str) -> None:
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
            subscription.channels.add(channel)

    def _detach(self, subscription: Subscription, channel: str) -> None:
        with self._lock:
            subscribers = self._subscribers.get(channel, set())
            subscribers.discard(subscription)
            subscription.channels.discard(channel)
            if not subscribers:
                self._subscribers.pop(channel, None)


def _offer(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        # Too far behind: drop what is queued and tell the reader, which closes the socket;
        # the client reconnects with ?after=<last id> and reads the rest from the database.
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait({"type": "overflow"})

"""Live events for open WebSockets: the in-process broker (default) and Redis pub/sub.

Channels: `conversation:<id>` (a line was added or the owner changed; typing), `queue` (the
waiting list changed) and `agent:<user id>` (a handoff that agent holds changed). Events are
pokes, not data: a socket that hears one reads what is new from the database, so nothing is
lost or doubled however events are delivered.

Publishing is thread-safe, so synchronous routes (run in worker threads) and async routes
publish the same way; each subscription has its own queue on its own event loop and may
listen to several channels, added and dropped while it runs."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from bot.metrics import REDIS_ERRORS

logger = logging.getLogger(__name__)

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

    def close_marker(self, kind: str = "closed") -> None:
        """Wake the reader with `{"type": kind}` ("closed" by default), dropping what it has not read."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait({"type": kind})


class LocalBroker:
    """Events for the sockets of this process only."""

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

    async def start(self) -> None:
        """Nothing to start in-process; the Redis broker subscribes here."""

    async def stop(self) -> None:
        """Nothing to stop in-process."""

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


class RedisBroker(LocalBroker):
    """Live events shared by every API process through Redis pub/sub (REDIS_URL set).

    Publishing goes to Redis only; each process reads everything under its prefix with one
    pattern subscription, started before the process serves anything, and hands it to its own
    sockets as the in-process broker does. Redis down means late pokes, never lost lines: the
    lines are in SQL, and sockets read them at their next poke or reconnect."""

    RETRY_SECONDS = 1.0
    # How long the start waits for the subscription before going on without it.
    START_WAIT_SECONDS = 5.0

    def __init__(self, url: str, prefix: str = "support:") -> None:
        super().__init__()
        import redis

        self._url, self._prefix = url, prefix
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._reader: asyncio.Task | None = None
        self._ready: asyncio.Event | None = None
        # Publishing never waits on Redis: events queue here and one thread sends them, in order.
        self._outbox: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=self.OUTBOX)
        self._sender = threading.Thread(target=self._send_forever, name="redis publisher", daemon=True)
        self._sender.start()

    OUTBOX = 10_000  # events waiting for Redis; beyond it new ones are dropped (and logged)

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        """Queue the event for Redis and return at once, from the event loop or any thread."""
        try:
            self._outbox.put_nowait((self._prefix + channel, json.dumps(event)))
        except queue.Full:
            logger.warning("Redis is not keeping up; dropped an event (sockets catch up at their next one)")

    def _send_forever(self) -> None:
        import redis

        while True:
            batch = [self._outbox.get()]
            while len(batch) < 500 and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            stop = None in batch
            try:
                pipeline = self._client.pipeline(transaction=False)
                for channel, data in (item for item in batch if item is not None):
                    pipeline.publish(channel, data)
                pipeline.execute()
            except redis.RedisError:
                REDIS_ERRORS.inc()
                logger.warning("could not publish to Redis; sockets catch up at their next event", exc_info=True)
            if stop:
                return

    async def start(self) -> None:
        """Subscribe before returning, so nothing published after start is missed. A Redis that does
        not answer does not stop the API from starting: events then reach only this process's
        sockets (others catch up when they reconnect or at their next event) until the subscription,
        retried every few seconds, is made."""
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read_forever(), name="redis broker")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=self.START_WAIT_SECONDS)
        except asyncio.TimeoutError:
            logger.error("Redis at %s is not answering: live events stay in this process until it does "
                         "(retrying every %s s)", _without_password(self._url), self.RETRY_SECONDS)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
        if self._sender.is_alive():
            self._outbox.put(None)  # what is queued goes first
            await asyncio.to_thread(self._sender.join, 5)
        self._client.close()

    async def _read_forever(self) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self._url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(self._prefix + "*")
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "pmessage":
                            continue
                        channel = message["channel"].decode().removeprefix(self._prefix)
                        LocalBroker.publish(self, channel, json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis restarted or unreachable: try again shortly
                REDIS_ERRORS.inc()
                logger.warning("lost the Redis subscription; retrying", exc_info=True)
                await asyncio.sleep(self.RETRY_SECONDS)
            finally:
                await client.aclose()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")).geturl() \
        if parts.password and parts.hostname else url


def make_broker(redis_url: str | None) -> LocalBroker:
    return RedisBroker(redis_url) if redis_url else LocalBroker()

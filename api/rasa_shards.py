"""Several Rasa servers (shards) behind the gateway, as one bot.

Every conversation has a home shard, chosen by rendezvous hashing of its id and each shard's URL:
the same conversation always goes to the same shard, and adding a shard moves only the
conversations the new shard wins (about 1/N of them). A conversation's next choices are its
next-highest scores, so when its shard is down it moves to one healthy shard, not a random one,
and comes back when its shard is healthy again. The shards share one tracker store
(RASA_TRACKER_STORE), so whichever shard answers reads the conversation where it stood.

One line per conversation reaches Rasa at a time (`Turns`): Rasa Open Source cannot safely let two
servers work on one conversation, and with this, a conversation whose shard changes can never be
worked on by two shards at once.

A shard is taken for down when a call to it fails or when its health check does (checked every
`check_seconds` in the background). A line that never reached Rasa, or whose connection Rasa
dropped without an answer (its process died), is sent to the conversation's next healthy shard:
Rasa stores a conversation's events only after it has answered a line, so the next shard reads
the conversation as it was before that line. A shard that timed out or answered nonsense may still
be working on the line, so that line is not sent again (the customer is told their message is
saved and to try again in a moment), and the shard gets no new lines until its health check
passes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

import aiohttp

from api.rasa_client import RasaClient, RasaUnavailable
from bot.metrics import BOT_REPLY_SECONDS, REDIS_ERRORS, SHARD_UP
from bot.observability import request_id

logger = logging.getLogger(__name__)

T = TypeVar("T")


def score(shard_url: str, conversation_id: str) -> int:
    """Rendezvous-hashing weight of `conversation_id` on the shard at `shard_url` (stable across
    processes and restarts, unlike Python's own hash())."""
    digest = hashlib.blake2b(f"{shard_url}\n{conversation_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def preference(shard_urls: list[str], conversation_id: str) -> list[int]:
    """Shard indexes in the order a conversation tries them: its home shard first."""
    return sorted(range(len(shard_urls)), key=lambda i: score(shard_urls[i], conversation_id), reverse=True)


class Turns(Protocol):
    """Lets one line per conversation through at a time."""

    def turn(self, conversation_id: str) -> AsyncIterator[None]: ...


class LocalTurns:
    """One line per conversation at a time within this process (one asyncio lock per
    conversation with a line in flight; forgotten when none is)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users <= 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class RedisTurns:
    """One line per conversation at a time across every API process (REDIS_URL): this process's
    own lock first, then a Redis lock (redis-py's, set with NX and released by a token check) that
    expires by itself after `hold_seconds` if its process dies with it. While Redis is down, lines
    only wait for this process's own lines, and a warning says so: a degraded mode, not a failure."""

    def __init__(self, url: str, *, hold_seconds: float, wait_seconds: float) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._local = LocalTurns()
        self.hold_seconds = hold_seconds
        self.wait_seconds = wait_seconds

    @asynccontextmanager
    async def turn(self, conversation_id: str) -> AsyncIterator[None]:
        from redis.exceptions import LockError, RedisError

        async with self._local.turn(conversation_id):
            lock = self._redis.lock(f"support:turn:{conversation_id}", timeout=self.hold_seconds, sleep=0.02,
                                    blocking_timeout=self.wait_seconds)
            try:
                held = await lock.acquire()
            except RedisError as error:
                REDIS_ERRORS.inc()
                logger.warning("Redis is not answering (%s): conversation %s is kept to one line at a time "
                               "in this process only", error, conversation_id)
                held = None
            if held is False:
                raise RasaUnavailable(f"another line of conversation {conversation_id} is still with the bot")
            try:
                yield
            finally:
                if held:
                    try:
                        await lock.release()
                    except (LockError, RedisError) as error:  # expired, or Redis went away: it expires anyway
                        if not isinstance(error, LockError):
                            REDIS_ERRORS.inc()
                        logger.warning("could not release the turn of %s: %s", conversation_id, error)

    def __len__(self) -> int:
        return len(self._local)

    async def close(self) -> None:
        await self._redis.aclose()


class RasaShards:
    """The `RasaClient` interface over one or more Rasa servers."""

    def __init__(self, urls: list[str], *, token: str | None = None, timeout: float = 30.0,
                 check_seconds: float = 1.0, turns: Turns | None = None,
                 client: Callable[..., RasaClient] = RasaClient) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.urls = [url.rstrip("/") for url in urls]
        self.clients = [client(url, token=token, timeout=timeout) for url in self.urls]
        self.up = [True] * len(self.urls)
        for index in range(len(self.urls)):
            SHARD_UP.labels(str(index)).set(1)
        self.check_seconds = check_seconds
        self.turns: Turns = turns if turns is not None else LocalTurns()  # (an idle one has len 0)
        self._checks: aiohttp.ClientSession | None = None

    def candidates(self, conversation_id: str) -> list[int]:
        """The shards a line of `conversation_id` tries, in turn: the healthy ones in the
        conversation's order, then the others (a health check may not have seen a recovery yet)."""
        order = preference(self.urls, conversation_id)
        return [i for i in order if self.up[i]] + [i for i in order if not self.up[i]]

    def home(self, conversation_id: str) -> int:
        """The shard that answers `conversation_id` now."""
        return self.candidates(conversation_id)[0]

    def _mark(self, index: int, up: bool, why: str = "") -> None:
        if self.up[index] != up:
            if up:
                logger.warning("Rasa shard %s is healthy again", self.urls[index])
            else:
                logger.error("Rasa shard %s is down: %s", self.urls[index], why)
        self.up[index] = up
        SHARD_UP.labels(str(index)).set(1 if up else 0)

    async def _call(self, conversation_id: str, call: Callable[[RasaClient], Awaitable[T]]) -> T:
        error: RasaUnavailable | None = None
        async with self.turns.turn(conversation_id):
            for index in self.candidates(conversation_id):
                started = time.perf_counter()
                try:
                    answer = await call(self.clients[index])
                except RasaUnavailable as failure:
                    self._mark(index, False, str(failure))
                    error = failure
                    if not failure.unanswered:
                        break
                else:  # the shard's answer time, as the gateway saw it (answers only)
                    BOT_REPLY_SECONDS.labels(str(index)).observe(time.perf_counter() - started)
                    if not self.up[index]:  # it answers again (with one shard nothing else would say so)
                        self._mark(index, True)
                    return answer
        assert error is not None
        raise error

    async def send(self, sender: str, message: str) -> list[dict]:
        """Deliver one customer message to the conversation's shard; the bot's replies in order.
        Every attempt carries the same key for the line (metadata "line"), so an action that makes
        something (a ticket) makes it once however many shards the line reaches; and the request's id
        (metadata "request_id"), which the actions write in their log lines."""
        metadata = {"line": uuid.uuid4().hex, "request_id": request_id.get()}
        return await self._call(sender, lambda client: client.send(sender, message, metadata))

    async def trigger_intent(self, sender: str, intent: str, entities: dict[str, str]) -> list[dict]:
        return await self._call(sender, lambda client: client.trigger_intent(sender, intent, entities))

    async def check(self) -> list[bool]:
        """Ask every shard whether it is up (Rasa's root answers "Hello from Rasa: <version>")."""
        if self._checks is None or self._checks.closed:
            self._checks = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=max(1.0, self.check_seconds * 2)))

        async def one(index: int) -> None:
            try:
                async with self._checks.get(self.urls[index] + "/") as response:
                    body = await response.text()
                healthy = response.status == 200 and body.startswith("Hello from Rasa")
                why = f"health check answered {response.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, UnicodeDecodeError) as failure:
                healthy, why = False, f"health check failed: {failure or type(failure).__name__}"
            self._mark(index, healthy, why)

        await asyncio.gather(*(one(i) for i in range(len(self.urls))))
        return list(self.up)

    async def check_forever(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.check_seconds)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        if self._checks is not None:
            await self._checks.close()
        if isinstance(self.turns, RedisTurns):
            await self.turns.close()

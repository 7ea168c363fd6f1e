"""Rate limits on the customer gateway: per chat session and per client address, in memory
or, with REDIS_URL, shared by every API process. Over a limit: 429 with Retry-After, and the
message is not stored (the widget keeps the typed text for a retry).

Both keep a moving window (at most N hits in any span of the period). With Redis this is the
`limits` library. In one process it is `MovingWindow` below rather than `limits`' memory
storage, which starts a thread to expire old hits each time one is recorded after a quiet
10 ms: measured on the gateway, that was 1.5 ms on every customer message."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque

import limits
from fastapi import HTTPException, status
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.metrics import REDIS_ERRORS
from bot.settings import Settings

logger = logging.getLogger(__name__)


class MovingWindow:
    """Per key, the times of the last hits (no more than the limit). No background work: a key's
    old hits go when it is used again, idle keys once a minute on a later hit."""

    SWEEP_EVERY = 60.0

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, tuple[float, deque[float]]] = {}  # key -> (period, hit times)
        self._swept = clock()

    def hit(self, key: str, limit: int, period: float, *, count: bool = True) -> float | None:
        """Count a hit and return None if it is within `limit` per `period` seconds; otherwise
        count nothing and return the seconds until the next hit would be allowed. With
        `count=False`, only tell (a check before the work whose failure is what counts)."""
        now = self._clock()
        with self._lock:
            if now - self._swept >= self.SWEEP_EVERY:
                self._sweep(now)
            _, hits = self._hits.setdefault(key, (period, deque(maxlen=limit)))
            while hits and hits[0] <= now - period:
                hits.popleft()
            if len(hits) >= limit:
                return hits[0] + period - now
            if count:
                hits.append(now)
            return None

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key, (period, hits) in list(self._hits.items()):
            if not hits or hits[-1] <= now - period:
                del self._hits[key]

    def __len__(self) -> int:
        return len(self._hits)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        # A Redis that stops answering costs a customer at most these seconds, then lets them through.
        self._shared = (MovingWindowRateLimiter(storage_from_string(settings.redis_url, socket_timeout=1.0,
                                                                    socket_connect_timeout=1.0))
                        if settings.redis_url else None)
        self._memory = MovingWindow()
        self.per_session = limits.parse(settings.chat_rate_per_session)
        self.per_address = limits.parse(settings.chat_rate_per_address)
        self.sessions_per_address = limits.parse(settings.chat_sessions_per_address)
        self.signin_per_account = limits.parse(settings.signin_failures_per_account)
        self.signin_per_address = limits.parse(settings.signin_failures_per_address)

    def _wait(self, item: limits.RateLimitItem, *key: str, count: bool = True) -> float | None:
        """None if the hit is allowed (and counted, unless `count` is false), else the seconds to wait."""
        if self._shared is None:
            return self._memory.hit("/".join((item.key_for(), *key)), item.amount, item.get_expiry(), count=count)
        try:
            if (self._shared.hit if count else self._shared.test)(item, "chat", *key):
                return None
            return self._shared.get_window_stats(item, "chat", *key).reset_time - time.time()
        except Exception:  # a broken limiter store must not stop customers from chatting
            REDIS_ERRORS.inc()
            logger.warning("rate limit store unavailable; letting the request through", exc_info=True)
            return None

    def _hit(self, item: limits.RateLimitItem, *key: str, what: str, count: bool = True) -> None:
        wait = self._wait(item, *key, count=count)
        if wait is None:
            return
        seconds = max(1, math.ceil(wait))
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(seconds)},
                            detail=f"too many {what}; please wait {seconds} s and try again")

    # Both are called in worker threads, never on the event loop: with Redis they wait on the network.
    def message(self, *, session_id: str, address: str | None) -> None:
        """Raise 429 when this session, or this address over all its sessions, sends too fast."""
        self._hit(self.per_session, "session", session_id, what="messages in this chat")
        if address:
            self._hit(self.per_address, "address", address, what="messages from your network")

    def may_sign_in(self, *, email: str, address: str | None) -> None:
        """429 while this e-mail (whether or not it is an account) or this address has used up its
        failed sign-ins; counts nothing."""
        self._hit(self.signin_per_account, "signin-account", email, what="failed sign-ins", count=False)
        if address:
            self._hit(self.signin_per_address, "signin-address", address, what="failed sign-ins", count=False)

    def failed_sign_in(self, *, email: str, address: str | None) -> None:
        """Count a failed sign-in against the e-mail and the address."""
        self._wait(self.signin_per_account, "signin-account", email)
        if address:
            self._wait(self.signin_per_address, "signin-address", address)

    def new_session(self, *, address: str | None) -> None:
        if address:
            self._hit(self.sessions_per_address, "new-session", address, what="new chats from your network")

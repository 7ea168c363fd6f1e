"""Rate limits on the customer gateway: per chat session and per client address, in memory
or, with REDIS_URL, shared by every API process. Over a limit: 429 with Retry-After, and the
message is not stored (the widget keeps the typed text for a retry)."""

from __future__ import annotations

import logging
import math
import time

import limits
from fastapi import HTTPException, status
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.settings import Settings

logger = logging.getLogger(__name__)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        storage = storage_from_string(settings.redis_url or "memory://")
        self._limiter = MovingWindowRateLimiter(storage)
        self.per_session = limits.parse(settings.chat_rate_per_session)
        self.per_address = limits.parse(settings.chat_rate_per_address)
        self.sessions_per_address = limits.parse(settings.chat_sessions_per_address)

    def _hit(self, item: limits.RateLimitItem, *key: str, what: str) -> None:
        try:
            allowed = self._limiter.hit(item, "chat", *key)
        except Exception:  # a broken limiter store must not stop customers from chatting
            logger.warning("rate limit store unavailable; letting the request through", exc_info=True)
            return
        if allowed:
            return
        reset = self._limiter.get_window_stats(item, "chat", *key).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)},
                            detail=f"too many {what}; please wait {wait} s and try again")

    def message(self, *, session_id: str, address: str | None) -> None:
        """Raise 429 when this session, or this address over all its sessions, sends too fast."""
        self._hit(self.per_session, "session", session_id, what="messages in this chat")
        if address:
            self._hit(self.per_address, "address", address, what="messages from your network")

    def new_session(self, *, address: str | None) -> None:
        if address:
            self._hit(self.sessions_per_address, "new-session", address, what="new chats from your network")

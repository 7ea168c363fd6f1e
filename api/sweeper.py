"""The queue sweep: customers who waited longer than the queue timeout get a ticket and the
bot back. Every API process runs one; the expiry is race-safe, so each handoff ends once."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from api.broker import conversation_channel
from bot.conversations.handoffs import expire_if_waiting, overdue_handoffs
from bot.db import transaction, utcnow
from bot.settings import get_settings

logger = logging.getLogger(__name__)


def expire_overdue() -> list[str]:
    """Expire every overdue handoff, each in its own transaction; the conversations changed."""
    now = utcnow()
    with transaction() as session:
        overdue = overdue_handoffs(session=session, now=now)
    changed = []
    for handoff_id in overdue:
        try:
            with transaction() as session:
                handoff = expire_if_waiting(session=session, handoff_id=handoff_id, now=now)
                if handoff is not None:
                    changed.append(handoff.conversation_id)
        except Exception:  # one bad row must not stop the others; it is retried next sweep
            logger.exception("could not expire handoff %s", handoff_id)
    return changed


async def sweep_forever(app: FastAPI) -> None:
    interval = get_settings().handoff_sweep_seconds
    while True:
        try:
            for conversation_id in await asyncio.to_thread(expire_overdue):
                app.state.broker.publish(conversation_channel(conversation_id), {"type": "changed"})
        except Exception:  # the database may be down for a while; keep sweeping
            logger.exception("queue sweep failed")
        await asyncio.sleep(interval)

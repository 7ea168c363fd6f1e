"""The sweep each API process runs every HANDOFF_SWEEP_SECONDS:

- customers queued longer than the queue timeout get a ticket and the bot back;
- agents whose console went silent (its process died) show as offline;
- chats of agents gone for longer than the reconnect grace go back to the queue;
- chats left idle with the bot for CHAT_IDLE_CLOSE_MINUTES are closed.

Every change is race-safe (conditional UPDATEs), so however many processes sweep, each
handoff changes once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from api.live.frames import announce
from bot.conversations.handoffs import back_to_queue, chats_of_vanished_agents, close_if_idle, idle_conversations
from bot.conversations.queue import expire_if_waiting, overdue_handoffs
from bot.db import transaction, utcnow
from bot.mail.inbound import poll_once
from bot.mail.sender import send_due
from bot.privacy.run import retention_run
from bot.settings import get_settings
from bot.trackers import purge_old_events
from bot.users.service import mark_silent_consoles_offline

logger = logging.getLogger(__name__)
# A console that missed this many heartbeats in a row is taken for gone.
MISSED_HEARTBEATS = 3
# How often Rasa's old conversation events are deleted (bot.trackers).
TRACKER_PURGE_SECONDS = 3600


def _each(ids: list, change: Callable, what: str) -> list:
    """Apply `change` to each id in its own transaction; one failure does not stop the rest."""
    done = []
    for one in ids:
        try:
            with transaction() as session:
                result = change(session, one)
                if result is not None:
                    done.append(result)
        except Exception:  # retried at the next sweep
            logger.exception("could not %s %s", what, one)
    return done


def expire_overdue() -> list[str]:
    """Expire every overdue handoff; the conversations changed."""
    now = utcnow()
    with transaction() as session:
        overdue = overdue_handoffs(session=session, now=now)
    expired = _each(overdue, lambda session, i: expire_if_waiting(session=session, handoff_id=i, now=now),
                    "expire handoff")
    return [handoff.conversation_id for handoff in expired]


def return_vanished_chats() -> tuple[list[int], list[tuple[str, int]]]:
    """Silent consoles offline; chats of agents gone too long back in the queue. The agents
    marked offline, and (conversation, agent) for each chat returned."""
    settings, now = get_settings(), utcnow()
    with transaction() as session:
        silent = mark_silent_consoles_offline(
            session=session, silent_since=now - timedelta(seconds=settings.agent_heartbeat_seconds * MISSED_HEARTBEATS))
        vanished = chats_of_vanished_agents(session=session, now=now)
    returned = _each(vanished, lambda session, i: back_to_queue(session=session, handoff_id=i, now=now),
                     "requeue handoff")
    return silent, [(handoff.conversation_id, agent_id) for handoff, agent_id in returned]


def close_idle_chats() -> list[str]:
    """Close the chats left idle with the bot; the conversations closed."""
    now = utcnow()
    with transaction() as session:
        idle = idle_conversations(session=session, now=now)
    return _each(idle, lambda session, i: close_if_idle(session=session, conversation_id=i, now=now),
                 "close idle conversation")


def sweep_once(app: FastAPI) -> None:
    for conversation_id in expire_overdue():
        announce(app, conversation_id, queue=True)
    silent, returned = return_vanished_chats()
    if silent:
        announce(app, None, queue=True, agents=silent)
    for conversation_id, agent_id in returned:
        announce(app, conversation_id, queue=True, agents=[agent_id])
    for conversation_id in close_idle_chats():
        announce(app, conversation_id)


async def sweep_forever(app: FastAPI) -> None:
    interval = get_settings().handoff_sweep_seconds
    while True:
        try:
            await asyncio.to_thread(sweep_once, app)
        except Exception:  # the database may be down for a while; keep sweeping
            logger.exception("queue sweep failed")
        await asyncio.sleep(interval)


async def check_alerts_forever() -> None:
    """Evaluate the alert rules every ALERT_CHECK_SECONDS; send new ones to the webhook in a
    task of its own, so a slow or broken webhook never delays the next evaluation."""
    from bot.alerts.service import deliver_pending, evaluate

    interval = get_settings().alert_check_seconds
    if not interval:
        return
    sending: asyncio.Task | None = None
    while True:
        try:
            await asyncio.to_thread(evaluate)
            if sending is None or sending.done():
                sending = asyncio.create_task(asyncio.to_thread(deliver_pending), name="alert webhook")
        except Exception:  # the database may be down for a while; keep checking
            logger.exception("alert check failed")
        await asyncio.sleep(interval)


async def purge_trackers_forever() -> None:
    """Every hour, delete Rasa's events older than RASA_TRACKER_KEEP_DAYS (bot.trackers) and, with
    RETENTION_DAYS set, anonymise the chats untouched for that long (bot.privacy)."""
    settings = get_settings()
    while True:
        try:
            before = datetime.now(UTC) - timedelta(days=settings.rasa_tracker_keep_days)
            await asyncio.to_thread(purge_old_events, settings.rasa_tracker_store, before)
        except Exception:  # the tracker database may be down for a while; try again later
            logger.exception("tracker purge failed")
        if settings.retention_days:
            try:
                await asyncio.to_thread(retention_run, datetime.now(UTC) - timedelta(days=settings.retention_days))
            except Exception:  # the database may be down for a while; the next hour catches up
                logger.exception("retention run failed")
        await asyncio.sleep(TRACKER_PURGE_SECONDS)


async def send_mail_forever() -> None:
    """Send the outbox every MAIL_SEND_SECONDS (bot.mail.sender: several processes share it safely)."""
    settings = get_settings()
    if not settings.mail_send_seconds:
        return
    if settings.smtp_url is None:
        logger.info("no SMTP_URL: e-mails to customers are written to %s as .eml files", settings.mail_outbox_dir)
    while True:
        try:
            await asyncio.to_thread(send_due)
        except Exception:  # the next round tries again
            logger.exception("sending e-mail failed")
        await asyncio.sleep(settings.mail_send_seconds)


async def poll_mailbox_forever() -> None:
    """Read the support mailbox every IMAP_POLL_SECONDS (bot.mail.inbound: several processes share it safely)."""
    settings = get_settings()
    if settings.imap_url is None or not settings.imap_poll_seconds:
        return
    while True:
        try:
            await asyncio.to_thread(poll_once)
        except Exception as error:  # the mailbox unreachable: the next round tries again
            logger.warning("could not read the support mailbox: %s: %s", type(error).__name__, error)
        await asyncio.sleep(settings.imap_poll_seconds)

"""Writing and reading the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.audit.models import ACTIONS, AuditEvent
from bot.db import transaction, utcnow


def cli_actor() -> str:
    """How the command line is named in the log: the operating-system login that ran it."""
    try:
        return f"cli:{getpass.getuser()}"[:254]
    except (KeyError, OSError):
        return "cli"


def record(session: Session, action: str, *, actor: str, actor_id: int | None = None, target: str | None = None,
           address: str | None = None, details: dict[str, Any] | None = None,
           now: datetime | None = None) -> AuditEvent:
    """One audit row, in the caller's transaction (so it is kept exactly when the change is)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(at=now or utcnow(), action=action, actor=actor[:254], actor_id=actor_id,
                       target=target[:200] if target else None, address=address[:64] if address else None,
                       details=details or {})
    session.add(event)
    return event


def record_now(action: str, **fields: Any) -> None:
    """One audit row in a transaction of its own (a sign-in, which has none)."""
    with transaction() as session:
        record(session, action, **fields)


def events(session: Session, *, action: str | None = None, actor_id: int | None = None,
           since: datetime | None = None, offset: int = 0, limit: int = 100) -> tuple[int, list[AuditEvent]]:
    """The matching count and one page of events, newest first."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = session.scalars(query.order_by(AuditEvent.id.desc()).offset(offset).limit(limit))
    return total, list(page)


def every_event(session: Session) -> Iterator[AuditEvent]:
    """All events, oldest first, read in batches (an export)."""
    yield from session.scalars(select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500))

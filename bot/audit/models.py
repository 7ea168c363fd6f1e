"""audit_events: one row per sign-in (or failure), export, staff-account change, erasure and retention run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow

ACTIONS = (
    "signin.succeeded", "signin.failed", "signin.throttled", "signout", "password.reset",
    "user.invited", "user.disabled", "user.enabled", "user.role_changed", "user.reset_link",
    "export.downloaded", "audit.exported", "privacy.exported", "privacy.erased", "retention.run",
)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    # Who: a staff member's id (None for the system, the command line, or a failed sign-in) and how
    # they are named here: their e-mail, "cli:<login>", "system", or the e-mail typed at a failed sign-in.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(254))
    # What it was done to, e.g. "user:7", "export:tickets", "customer:<e-mail hash>".
    target: Mapped[str | None] = mapped_column(String(200))
    # From where: the client address (None from the command line or the system).
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

"""Alerts: a warning threshold crossed, from when it fired to when it cleared."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow

WEBHOOK_STATES = ("none", "pending", "sending", "sent", "failed")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # At most one active alert per rule, however many processes evaluate the rules.
        Index("uq_alerts_active_rule", "rule_key", unique=True, sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(40), index=True)
    metric: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    threshold: Mapped[float]
    # The metric's value when it fired, and its latest value while active.
    fired_value: Mapped[float]
    value: Mapped[float]
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook_status: Mapped[str] = mapped_column(String(16), default="none")
    webhook_attempts: Mapped[int] = mapped_column(default=0)
    webhook_error: Mapped[str | None] = mapped_column(Text)

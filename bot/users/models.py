"""The users table: staff who sign in to the agent console and the manager pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UTCDateTime, utcnow

ROLES = ("agent", "manager", "admin")
PRESENCE = ("online", "away", "offline")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # An Argon2id hash in PHC string format; never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Every sign-in token carries the value it was issued under; raising it (logout, a new password,
    # disabling the account, a new role) ends every session the staff member has, sockets included.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    presence: Mapped[str] = mapped_column(String(16), default="offline")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the agent console last showed signs of life (its WebSocket); None if never used.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

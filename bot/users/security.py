"""Password hashing (Argon2id via pwdlib) and signed, expiring sign-in tokens (JWT, HS256)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import jwt
from pwdlib import PasswordHash

from bot.settings import get_settings

ALGORITHM = "HS256"


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher().verify(password, password_hash)


def burn_a_verification() -> None:
    """As slow as a real check, so an unknown e-mail takes as long as a wrong password."""
    _hasher().verify("not the password", _dummy_hash())


@lru_cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def secret_key() -> str:
    """SECRET_KEY when set; else a random key kept in var/secret_key (created once, mode 0600),
    so every process on this machine signs and checks tokens with the same key."""
    settings = get_settings()
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return _key_from_file(settings.secret_key_file)


def _key_from_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first; read theirs
        else:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(48))
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds a key shorter than 32 characters; delete it or set SECRET_KEY")
    return key


class InvalidToken(Exception):
    """The token is malformed, forged, expired or not one of ours."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    expires_at: datetime


def create_access_token(*, user_id: int, role: str, now: datetime | None = None) -> tuple[str, datetime]:
    now = now or datetime.now(timezone.utc)
    expires_at = now + timedelta(minutes=get_settings().access_token_minutes)
    payload = {"sub": str(user_id), "role": role, "iat": now, "exp": expires_at, "typ": "access"}
    return jwt.encode(payload, secret_key(), algorithm=ALGORITHM), expires_at


def decode_access_token(token: str) -> TokenClaims:
    try:
        payload = jwt.decode(token, secret_key(), algorithms=[ALGORITHM],
                             options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if payload.get("typ") != "access" or not str(payload["sub"]).isdigit():
        raise InvalidToken("not an access token")
    return TokenClaims(user_id=int(payload["sub"]), role=str(payload.get("role")),
                       expires_at=datetime.fromtimestamp(payload["exp"], timezone.utc))

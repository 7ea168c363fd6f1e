"""Password hashing (Argon2id via pwdlib) and signed, expiring sign-in tokens (JWT, HS256)."""

from __future__ import annotations

import hashlib
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
    # The account's session_version when the token was issued; a token from before a raise is void.
    version: int = 0


def create_access_token(*, user_id: int, role: str, version: int = 0,
                        now: datetime | None = None) -> tuple[str, datetime]:
    now = now or datetime.now(timezone.utc)
    expires_at = now + timedelta(minutes=get_settings().access_token_minutes)
    payload = {"sub": str(user_id), "role": role, "ver": version, "iat": now, "exp": expires_at, "typ": "access"}
    return jwt.encode(payload, secret_key(), algorithm=ALGORITHM), expires_at


def decode_access_token(token: str) -> TokenClaims:
    try:
        payload = jwt.decode(token, secret_key(), algorithms=[ALGORITHM],
                             options={"require": ["sub", "exp", "iat"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if payload.get("typ") != "access" or not str(payload["sub"]).isdigit():
        raise InvalidToken("not an access token")
    version = payload.get("ver", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidToken("not an access token")
    return TokenClaims(user_id=int(payload["sub"]), role=str(payload.get("role")),
                       expires_at=datetime.fromtimestamp(payload["exp"], timezone.utc), version=version)


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the stored hash: a reset link names it, so the link is void once the
    password has changed (used once, or replaced in another way)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


def create_reset_token(*, user_id: int, password_hash: str, now: datetime | None = None) -> tuple[str, datetime]:
    now = now or datetime.now(timezone.utc)
    expires_at = now + timedelta(minutes=get_settings().password_reset_minutes)
    payload = {"sub": str(user_id), "pwd": password_fingerprint(password_hash), "iat": now, "exp": expires_at,
               "typ": "reset"}
    return jwt.encode(payload, secret_key(), algorithm=ALGORITHM), expires_at


def decode_reset_token(token: str) -> tuple[int, str]:
    """The user id and password fingerprint a reset link was made for, or InvalidToken."""
    try:
        payload = jwt.decode(token, secret_key(), algorithms=[ALGORITHM], options={"require": ["sub", "exp", "pwd"]})
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if payload.get("typ") != "reset" or not str(payload["sub"]).isdigit():
        raise InvalidToken("not a reset token")
    return int(payload["sub"]), str(payload["pwd"])

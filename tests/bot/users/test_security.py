"""Sign-in tokens: signed, expiring, tied to our key; the key file is made once and kept."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from bot.settings import get_settings
from bot.users.security import (
    InvalidToken,
    create_access_token,
    decode_access_token,
    hash_password,
    secret_key,
    verify_password,
)


@pytest.fixture(autouse=True)
def key_file(tmp_path, configure):
    configure(secret_key=None, secret_key_file=tmp_path / "var" / "secret_key")
    return tmp_path / "var" / "secret_key"


def test_token_round_trip_carries_user_role_and_expiry():
    now = datetime.now(timezone.utc)
    token, expires_at = create_access_token(user_id=7, role="agent", now=now)
    claims = decode_access_token(token)
    assert (claims.user_id, claims.role) == (7, "agent")
    assert expires_at - now == timedelta(minutes=get_settings().access_token_minutes)
    assert abs((claims.expires_at - expires_at).total_seconds()) < 1


def test_an_expired_token_is_refused():
    token, _ = create_access_token(user_id=7, role="agent", now=datetime.now(timezone.utc) - timedelta(days=2))
    with pytest.raises(InvalidToken):
        decode_access_token(token)


def test_a_token_signed_with_another_key_or_altered_is_refused():
    forged = jwt.encode({"sub": "1", "role": "admin", "typ": "access", "iat": datetime.now(timezone.utc),
                         "exp": datetime.now(timezone.utc) + timedelta(hours=1)}, "x" * 48, algorithm="HS256")
    with pytest.raises(InvalidToken):
        decode_access_token(forged)
    token, _ = create_access_token(user_id=1, role="agent")
    header, payload, signature = token.split(".")
    with pytest.raises(InvalidToken):
        decode_access_token(f"{header}.{payload}.{signature[::-1]}")
    with pytest.raises(InvalidToken):
        decode_access_token("not a token")


def test_an_unsigned_token_is_refused():
    unsigned = jwt.encode({"sub": "1", "typ": "access", "iat": 1, "exp": 4102444800}, None, algorithm="none")
    with pytest.raises(InvalidToken):
        decode_access_token(unsigned)


def test_the_key_file_is_created_once_private_and_reused(key_file):
    first = secret_key()
    assert key_file.exists() and len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_key() == first


def test_secret_key_setting_wins_over_the_file(configure, key_file):
    configure(secret_key="k" * 40)
    assert secret_key() == "k" * 40
    assert not key_file.exists()


def test_a_too_short_key_in_the_file_is_an_error(key_file):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("short")
    with pytest.raises(RuntimeError, match="shorter than 32"):
        secret_key()


def test_password_hashes_are_salted_and_verify():
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second
    assert verify_password("same password", first) and not verify_password("other password", first)

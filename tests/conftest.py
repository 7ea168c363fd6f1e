"""Fixtures: a fresh database per test (SQLite file, or PostgreSQL), settings pointed at it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bot import db as bot_db
from bot import migrate
from bot.settings import get_settings
from harness.pgserver import PostgresServer, PostgresUnavailable
from harness.redisserver import RedisServer, RedisUnavailable


def _clear_caches() -> None:
    get_settings.cache_clear()
    bot_db.get_engine.cache_clear()
    bot_db.get_sessionmaker.cache_clear()


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory) -> Path:
    """One SQLite file migrated to head; each test copies it (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(url=f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        server = PostgresServer()
        url = server.start()
    except PostgresUnavailable as reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        migrate.upgrade(url=url)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server for the multi-process tests (skipped with the reason without one)."""
    try:
        server = RedisServer()
    except RedisUnavailable as reason:
        pytest.skip(f"Redis tests skipped: {reason}")
    try:
        url = server.wait_ready()
    except RedisUnavailable as reason:
        server.stop()
        pytest.skip(f"Redis tests skipped: {reason}")
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def configure(monkeypatch) -> Iterator[Callable[..., None]]:
    """The one way tests change settings: `configure(chat_max_message_chars=5)` sets them as the
    environment would (None removes one) and makes the next `get_settings()` read them. Undone
    when the test ends."""

    def apply(**values: object) -> None:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name.upper(), raising=False)
            else:
                monkeypatch.setenv(name.upper(), str(value))
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


@pytest.fixture
def sqlite_url(migrated_sqlite_template, tmp_path) -> str:
    path = tmp_path / "support.db"
    shutil.copy(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_db(sqlite_url, monkeypatch) -> Iterator[Engine]:
    """Point the settings (and so every service, action and route) at a fresh database."""
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    _clear_caches()
    yield bot_db.get_engine()
    bot_db.get_engine().dispose()
    _clear_caches()


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request, tmp_path, migrated_sqlite_template) -> Iterator[Session]:
    """A session on a fresh database, on SQLite and on PostgreSQL. On PostgreSQL the
    test runs inside a transaction that is rolled back afterwards."""
    if request.param == "sqlite":
        path = tmp_path / "support.db"
        shutil.copy(migrated_sqlite_template, path)
        engine = bot_db.make_engine(f"sqlite:///{path}")
        with Session(engine, expire_on_commit=False) as sqlite_session:
            yield sqlite_session
        engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    engine = bot_db.make_engine(url)
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, expire_on_commit=False,
                     join_transaction_mode="create_savepoint") as pg_session:
            yield pg_session
        transaction.rollback()
    engine.dispose()


@pytest.fixture
def dialect(session) -> str:
    return session.get_bind().dialect.name


def table_count(session: Session, table: str) -> int:
    return session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()

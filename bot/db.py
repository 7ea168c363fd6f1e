"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import ColumnElement, Connection, DateTime, Engine, MetaData, create_engine, event, func
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from bot.errors import Invalid
from bot.settings import get_settings

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


# The longest text search accepted (tickets, the feedback inbox).
MAX_SEARCH_CHARS = 200


def contains_text(column: ColumnElement, words: str) -> ColumnElement[bool]:
    """`column` contains `words`, case-insensitively and taken literally (% and _ are not
    wildcards): the same on SQLite and PostgreSQL."""
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def refuse_naive_time(moment: datetime | None, field: str) -> None:
    """A time staff set (a due date) must say its offset: refused with Invalid otherwise."""
    if moment is not None and moment.tzinfo is None:
        raise Invalid(f"{field} needs a time zone offset")


READ_ONLY = "support_read_only"  # execution option: this transaction only reads


def _configure_sqlite(dbapi_connection, connection_record) -> None:
    # pysqlite opens transactions on its own (only before a write), so a SAVEPOINT
    # became the outermost transaction and its RELEASE committed mid unit of work.
    # Turn that off; `_begin_sqlite` emits BEGIN IMMEDIATE whenever SQLAlchemy begins.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection) -> None:
    # IMMEDIATE: take the write lock at the start (waiting up to busy_timeout for it). A plain
    # BEGIN that reads and then writes fails at once with "database is locked" when another
    # connection committed in between (SQLite cannot upgrade a stale read snapshot), which
    # concurrent chat writes made happen. Transactions are short, so serialising them is cheap.
    # A read-only transaction (`read_transaction`, e.g. a long export) takes no lock: in WAL mode
    # it reads a snapshot while others write.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """Build an engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    import bot.reports.rollups  # noqa: F401 - the reports' kept counts follow every write from here on

    # hide_parameters: a database error names the statement, never the values bound to it (customer
    # text, e-mail addresses), so logs and error reports carry none of them.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        database = engine.url.database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().effective_database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session] | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    factory = factory or get_sessionmaker()
    with factory.begin() as session:
        yield session


@contextmanager
def connection_transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """One unit of work on a bare connection, for the few hot paths that need no ORM (a chat
    message's writes): commit on success, roll back on any error."""
    with (engine or get_engine()).begin() as connection:
        yield connection


@contextmanager
def read_transaction(engine: Engine | None = None) -> Iterator[Connection]:
    """A transaction that only reads, for long reads (exports): on SQLite it holds no write
    lock; on PostgreSQL rows are streamed from a server-side cursor. Always rolled back."""
    with (engine or get_engine()).connect() as connection:
        connection = connection.execution_options(**{READ_ONLY: True}, stream_results=True, max_row_buffer=2000)
        with connection.begin() as work:
            yield connection
            work.rollback()


def import_all_models() -> None:
    """Register every table on `Base.metadata` (for migrations and test set-up)."""
    import bot.alerts.models  # noqa: F401
    import bot.audit.models  # noqa: F401
    import bot.conversations.models  # noqa: F401
    import bot.feedback.models  # noqa: F401
    import bot.mail.models  # noqa: F401
    import bot.recovery.models  # noqa: F401
    import bot.surveys.models  # noqa: F401
    import bot.tickets.models  # noqa: F401
    import bot.users.models  # noqa: F401

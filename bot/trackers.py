"""Rasa's conversation state (its tracker store, RASA_TRACKER_STORE) kept small.

Rasa starts a new session after SESSION expiry (domain.yml, 60 minutes) and reads only the events
of the current session, but keeps every event ever written. Events older than
RASA_TRACKER_KEEP_DAYS are deleted here: from Rasa's `events` table in an SQL store (the API's
sweep does it every hour; a DELETE by age changes nothing when several processes run it), and a
Redis store is told to let a conversation's key expire that long after its last write
(harness.stack.tracker_store_section). Rasa's tables are Rasa's: they live in a database of its
own and are only read and pruned here, never migrated by us."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, bindparam, create_engine, inspect, text

from bot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

DEFAULT_TRACKER_STORE = f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-trackers.db'}"


def tracker_store_url(setting: str | None) -> str:
    """RASA_TRACKER_STORE, or the SQLite file Rasa gets when it is unset."""
    return setting or DEFAULT_TRACKER_STORE


def sqlite_path(url: str) -> str:
    """The file of a sqlite:/// URL (SQLAlchemy's spelling: four slashes for an absolute path,
    three for one relative to the project)."""
    return str(PROJECT_ROOT / unquote(urlsplit(url).path[1:]))


def sql_url(setting: str | None) -> str | None:
    """An SQLAlchemy URL for an SQL tracker store, in this environment's drivers; None for Redis."""
    url = tracker_store_url(setting)
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return f"sqlite:///{sqlite_path(url)}"
    if scheme == "postgresql":
        return "postgresql+psycopg" + url[len("postgresql"):]
    return None


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True)


def purge_old_events(setting: str | None, before: datetime) -> int:
    """Delete the tracker store's events written before `before`; how many were deleted (0 for a
    Redis store, whose keys expire by themselves, or before Rasa has made its table)."""
    url = sql_url(setting)
    if url is None:
        return 0
    engine = _engine(url)
    with engine.begin() as connection:
        if not inspect(connection).has_table("events"):
            return 0
        deleted = connection.execute(text("DELETE FROM events WHERE timestamp < :cutoff"),
                                     {"cutoff": before.timestamp()}).rowcount
    if deleted:
        logger.info("deleted %d tracker events from before %s", deleted, before.isoformat(timespec="seconds"))
    return deleted


def forget_conversations(setting: str | None, sender_ids: list[str]) -> int:
    """Delete Rasa's state of these conversations (a customer's erasure): their events from an SQL
    store, their keys from a Redis store. How many events or keys went."""
    if not sender_ids:
        return 0
    url = sql_url(setting)
    if url is not None:
        with _engine(url).begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            return connection.execute(text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": sender_ids}).rowcount
    import redis

    parsed = urlsplit(tracker_store_url(setting))
    client = redis.Redis.from_url(tracker_store_url(setting)) if parsed.scheme == "redis" else None
    if client is None:
        return 0
    try:
        # harness.stack.tracker_store_section gives Rasa the key prefix "tracker", to which Rasa 3.6
        # adds its own "tracker:" (RedisTrackerStore._set_key_prefix).
        return int(client.delete(*[f"tracker:tracker:{sender}" for sender in sender_ids]))
    finally:
        client.close()


def _without(value: object, words: list[str], instead: str) -> object:
    """`value` (parsed JSON) with every string that holds one of `words` replaced by `instead`."""
    if isinstance(value, str):
        return instead if any(word in value for word in words) else value
    if isinstance(value, dict):
        return {key: _without(item, words, instead) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, words, instead) for item in value]
    return value


def forget_words(setting: str | None, sender_id: str, words: list[str], instead: str) -> int:
    """Replace, in Rasa's state of one conversation, every text that holds one of `words` (the customer's
    line, what the NLU read from it, the slot the form kept it in) by `instead`: feedback given
    anonymously must not stay beside the chat's name and e-mail until RASA_TRACKER_KEEP_DAYS. Rasa
    reads a conversation's events from the store on every message, so the change holds. How many
    events (SQL) or conversations (Redis) changed."""
    words = [word for word in (word.strip() for word in words) if word]
    if not words:
        return 0
    url = sql_url(setting)
    if url is not None:
        changed = 0
        with _engine(url).begin() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            rows = connection.execute(text("SELECT id, data FROM events WHERE sender_id = :sender"),
                                      {"sender": sender_id}).all()
            for row_id, data in rows:
                if not data or not any(word in data or json.dumps(word)[1:-1] in data for word in words):
                    continue
                connection.execute(text("UPDATE events SET data = :data WHERE id = :id"),
                                   {"data": json.dumps(_without(json.loads(data), words, instead)), "id": row_id})
                changed += 1
        return changed
    parsed = urlsplit(tracker_store_url(setting))
    if parsed.scheme != "redis":
        return 0
    import redis

    client = redis.Redis.from_url(tracker_store_url(setting))
    key = f"tracker:tracker:{sender_id}"  # as in forget_conversations
    try:
        stored = client.get(key)
        if stored is None:
            return 0
        tracker = json.loads(stored)
        cleaned = _without(tracker, words, instead)
        if cleaned == tracker:
            return 0
        client.set(key, json.dumps(cleaned), keepttl=True)
        return 1
    finally:
        client.close()

"""`make bench`, the managers' part: the KPI summary over 1,000,000 survey responses and 200,000
tickets, on SQLite and on PostgreSQL, and exporting the million responses to CSV and NDJSON
(rows per second, and the exporting process's peak resident memory).

The data is synthetic and spread evenly over the last 365 days, each table's ids in time order
as the product writes them: every response has a headline score,
most have the other ratings, one in ten a comment; every ticket has a chat (200,000
conversations with a bot greeting and two customer lines, one in ten handed to a person);
responses beyond those chats refer to chats not stored. Written in bulk (executemany on SQLite,
COPY on PostgreSQL), the answers' day counts rebuilt as the migration builds them, then timed the
way the API calls it: the summary with the previous period."""

from __future__ import annotations

import multiprocessing
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine

RESPONSES = 1_000_000
TICKETS = 200_000
DAYS = 365
SCALE_KEYS = ("solved", "speed", "solution", "courtesy")
CATEGORIES = ("orders_shipping", "returns_refunds", "billing_payments", "account_login", "product_technical", "other")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
CLASSIFICATIONS = {"low": "routine", "normal": "routine", "high": "complex", "urgent": "urgent"}
COMMENTS = ("The delivery was late", "Refund took too long", "Great help, thanks", "Nobody answered my emails",
            "Quick and friendly", "Still waiting for my parcel")


def _stamp(moment: datetime, sqlite: bool):
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment


def _rows(now: datetime, sqlite: bool, seed: int = 7) -> dict[str, Iterator[tuple]]:
    """Each table's rows, made lazily (so memory stays small while writing millions)."""
    start = now - timedelta(days=DAYS)
    span = DAYS * 86400

    def in_turn(number: int, total: int) -> datetime:
        """The time of the number-th of `total` rows spread evenly over the year: rows are written
        as things happen, so ids and times go up together (as in the product)."""
        return start + timedelta(seconds=round((number - 0.5) * span / total, 3))

    def responses() -> Iterator[tuple]:
        rng = random.Random(seed)
        for number in range(1, RESPONSES + 1):
            offered = in_turn(number, RESPONSES)
            completed = rng.random() < 0.7
            yield (number, f"c{number}", "default", 1, "chat", None, None, _stamp(offered, sqlite),
                   _stamp(offered + timedelta(minutes=2), sqlite) if completed else None, completed, None)

    def answers() -> Iterator[tuple]:
        rng, answer_id = random.Random(seed + 1), 0
        for number in range(1, RESPONSES + 1):
            offered = _stamp(in_turn(number, RESPONSES) + timedelta(minutes=1), sqlite)
            answer_id += 1
            yield (answer_id, number, "csat", "rating_1_5", "csat?", 0, rng.choice((1, 2, 3, 4, 4, 5, 5)), None,
                   offered)
            for position, key in enumerate(SCALE_KEYS, start=1):
                if rng.random() < 0.7:
                    answer_id += 1
                    score = rng.randint(0, 1) if key == "solved" else rng.randint(1, 5)
                    yield (answer_id, number, key, "yes_no" if key == "solved" else "rating_1_5", f"{key}?",
                           position, score, None, offered)
            if rng.random() < 0.1:
                answer_id += 1
                yield (answer_id, number, "comment", "text", "comment?", 5, None, rng.choice(COMMENTS), offered)

    def tickets() -> Iterator[tuple]:
        rng = random.Random(seed + 2)
        for number in range(1, TICKETS + 1):
            opened = in_turn(number, TICKETS) + timedelta(minutes=5)
            priority = rng.choice(PRIORITIES)
            reply = rng.randint(5, 3000) * 60 if rng.random() < 0.9 else None
            resolve = rng.randint(60, 9000) * 60 if rng.random() < 0.8 else None
            answered = opened + timedelta(seconds=reply) if reply is not None else None
            resolved = opened + timedelta(seconds=resolve) if resolve is not None else None
            status = "resolved" if resolved else rng.choice(("new", "open", "pending"))
            yield (number, f"TCK-B{number:06d}", "Synthetic", "Synthetic ticket", rng.choice(CATEGORIES), priority,
                   CLASSIFICATIONS[priority], "", status, None, f"customer{number}@example.com", None, f"c{number}",
                   "chat", _stamp(opened, sqlite), _stamp(opened, sqlite),
                   _stamp(opened + timedelta(hours=4), sqlite), _stamp(opened + timedelta(hours=48), sqlite),
                   _stamp(answered, sqlite) if answered else None, _stamp(resolved, sqlite) if resolved else None,
                   reply, resolve)

    def conversations() -> Iterator[tuple]:
        for number in range(1, TICKETS + 1):
            opened = in_turn(number, TICKETS)
            # Two customer lines, a ticket each, every tenth handed to a person (as written below).
            yield (f"c{number}", "x" * 64, "closed", "web", None, None, None, "{}", None, _stamp(opened, sqlite),
                   _stamp(opened, sqlite), _stamp(opened + timedelta(minutes=30), sqlite), 2, number % 10 == 0, True)

    def messages() -> Iterator[tuple]:
        for number in range(1, TICKETS + 1):
            for offset, sender in enumerate(("bot", "customer", "customer")):
                yield (number * 3 + offset, f"c{number}", sender, "hello" if sender == "bot" else "my parcel",
                       None, None, None, _stamp(in_turn(number, TICKETS) + timedelta(minutes=offset), sqlite),
                       offset == 2 and number % 20 == 0)

    def handoffs() -> Iterator[tuple]:
        for number in range(10, TICKETS + 1, 10):
            asked = in_turn(number, TICKETS) + timedelta(minutes=2)
            yield (number // 10, f"c{number}", "resolved", "requested", None, _stamp(asked, sqlite), None,
                   _stamp(asked + timedelta(seconds=30 + number % 600), sqlite),
                   _stamp(asked + timedelta(minutes=20), sqlite))

    def events() -> Iterator[tuple]:
        for number in range(10, TICKETS + 1, 10):
            yield (number // 10, f"c{number}", number // 10, "queued", "agent", "agent:1", "",
                   _stamp(in_turn(number, TICKETS) + timedelta(minutes=3), sqlite))

    return {"survey_responses": responses(), "survey_answers": answers(), "tickets": tickets(),
            "conversations": conversations(), "messages": messages(), "handoffs": handoffs(),
            "conversation_events": events()}


COLUMNS = {
    "survey_responses": ("id", "conversation_id", "survey_key", "survey_version", "channel", "agent",
                         "customer_email", "started_at", "completed_at", "completed", "recovery_ticket_id"),
    "survey_answers": ("id", "response_id", "question_key", "question_type", "question_text", "position", "score",
                       "text", "answered_at"),
    "tickets": ("id", "reference", "subject", "description", "category", "priority", "classification",
                "classification_reason", "status", "customer_name", "customer_email", "assignee_id",
                "conversation_id", "channel", "created_at", "updated_at", "first_response_due", "resolution_due",
                "first_responded_at", "resolved_at", "first_response_seconds", "resolution_seconds"),
    "conversations": ("id", "token_hash", "state", "channel", "customer_name", "customer_email", "locale", "meta",
                      "agent_id", "created_at", "updated_at", "closed_at", "customer_lines", "asked_for_person",
                      "has_ticket"),
    "messages": ("id", "conversation_id", "sender", "text", "buttons", "payload", "agent_id", "created_at",
                 "fallback"),
    "handoffs": ("id", "conversation_id", "status", "reason", "agent_id", "requested_at", "queued_at", "claimed_at",
                 "ended_at"),
    "conversation_events": ("id", "conversation_id", "handoff_id", "from_state", "to_state", "actor", "reason",
                            "created_at"),
}


def fill(engine: Engine, now: datetime) -> float:
    """Write the synthetic data; the seconds it took."""
    from bot.reports.rollups import rebuild_answer_summaries

    sqlite = engine.dialect.name == "sqlite"
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, rows in _rows(now, sqlite).items():
            columns = COLUMNS[table]
            if sqlite:
                statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                batch: list[tuple] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == 50_000:
                        cursor.executemany(statement, batch)
                        batch.clear()
                cursor.executemany(statement, batch)
            else:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        # Bulk rows bypass the ORM events that keep the answers' day counts: count them as the
        # migration does.
        with engine.begin() as connection:
            rebuild_answer_summaries(connection)
        if sqlite:
            cursor.execute("ANALYZE")
            raw.commit()
        else:
            driver = raw.driver_connection
            driver.autocommit = True  # VACUUM runs outside a transaction
            driver.execute("VACUUM ANALYZE")
            driver.autocommit = False
    finally:
        raw.close()
    return time.perf_counter() - began


def time_summary(engine: Engine, now: datetime, runs: int = 3) -> list[float]:
    """Seconds for the API's summary call (with the previous period) over the whole year."""
    from sqlalchemy.orm import Session

    from bot.reports.kpis import summary
    from bot.reports.period import Period

    today = now.date()
    period = Period(today - timedelta(days=DAYS - 1), today, "UTC")
    times = []
    for _ in range(runs):
        with Session(engine) as session:
            began = time.perf_counter()
            figures = summary(session=session, period=period, now=now, with_previous=True)
            times.append(time.perf_counter() - began)
    assert figures.satisfaction.surveys_offered > 0.99 * RESPONSES, figures.satisfaction.surveys_offered
    assert figures.volume.tickets > 0.99 * TICKETS, figures.volume.tickets
    return times


def _export_in_child(url: str, file_format: str, first: date, last: date, target: str) -> tuple[int, float, int]:
    """In a fresh process: export the responses; rows, seconds, peak resident memory (KiB)."""
    from bot.db import make_engine, read_transaction
    from bot.reports.exports import build_export, csv_chunks, ndjson_chunks
    from bot.reports.period import Period

    engine = make_engine(url)
    began = time.perf_counter()
    with read_transaction(engine) as connection, open(target, "wb") as handle:
        export = build_export(connection, "survey_responses", Period(first, last, "UTC"))
        chunks = csv_chunks if file_format == "csv" else ndjson_chunks
        rows = 0

        def counted():
            nonlocal rows
            for row in export.rows:
                rows += 1
                yield row

        for chunk in chunks(export.columns, counted()):
            handle.write(chunk)
    elapsed = time.perf_counter() - began
    engine.dispose()
    return rows, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def time_export(url: str, now: datetime, file_format: str, folder: Path) -> tuple[int, float, int]:
    from concurrent.futures import ProcessPoolExecutor

    today = now.date()
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_export_in_child, url, file_format, today - timedelta(days=DAYS - 1), today,
                           str(folder / f"responses.{file_format}")).result()


def reports_lines() -> list[str]:
    from bot import migrate
    from bot.db import make_engine
    from harness.pgserver import PostgresServer, PostgresUnavailable

    lines: list[str] = []
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        databases = [("SQLite", f"sqlite:///{folder / 'reports.db'}", None)]
        try:
            server = PostgresServer()
            databases.append(("PostgreSQL", server.start(), server))
        except PostgresUnavailable as why:
            print(f"PostgreSQL left out: {why}", flush=True)
        try:
            for name, url, _ in databases:
                migrate.upgrade(url=url)
                engine = make_engine(url)
                print(f"{name}: writing {RESPONSES:,} responses and {TICKETS:,} tickets...", flush=True)
                filled = fill(engine, now)
                times = time_summary(engine, now)
                engine.dispose()
                lines.append(f"| KPI summary (with the previous period), {name}: 1,000,000 responses, 200,000 "
                             f"tickets | first {times[0] * 1000:.0f} ms, median of {len(times)} "
                             f"{statistics.median(times) * 1000:.0f} ms (data written in {filled:.0f} s) | < 1 s |")
                print(lines[-1], flush=True)
                if name == "SQLite":
                    for file_format in ("csv", "ndjson"):
                        rows, seconds, peak = time_export(url, now, file_format, folder)
                        lines.append(f"| export of 1,000,000 survey responses, {file_format.upper()} (SQLite) | "
                                     f"{rows / seconds:,.0f} rows/s ({rows:,} rows in {seconds:.1f} s), peak "
                                     f"resident memory {peak / 1024:.0f} MB | \u2265 50,000 rows/s, < 250 MB |")
                        print(lines[-1], flush=True)
        finally:
            for _, _, server in databases:
                if server is not None:
                    server.stop()
    return lines

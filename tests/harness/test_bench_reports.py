"""The managers' benchmark, scaled down: its synthetic data loads on SQLite and PostgreSQL, the
summary it times reads it, and its export runs in a child process."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from bot import migrate
from bot.conversations.models import Conversation
from bot.db import make_engine
from bot.reports.rollups import recount_conversation_facts, time_tickets
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.tickets.models import Ticket
from harness.bench import reports as bench_reports


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bench.db'}"
    from sqlalchemy import create_engine, text

    url = request.getfixturevalue("postgres_url")
    name = f"bench_{datetime.now().strftime('%H%M%S%f')}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


def test_the_synthetic_data_loads_and_is_summarised(empty_url, monkeypatch, tmp_path):
    monkeypatch.setattr(bench_reports, "RESPONSES", 400)
    monkeypatch.setattr(bench_reports, "TICKETS", 100)
    migrate.upgrade(url=empty_url)
    engine = make_engine(empty_url)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    bench_reports.fill(engine, now)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(SurveyResponse)) == 400
        assert connection.scalar(select(func.count()).select_from(Ticket)) == 100
        assert connection.scalar(select(func.count()).select_from(SurveyAnswer)) > 400
    # The conversations' facts the bench writes by hand are what the product would have kept.
    facts = select(Conversation.id, Conversation.customer_lines, Conversation.asked_for_person,
                   Conversation.has_ticket).order_by(Conversation.id)
    with engine.begin() as connection:
        written = connection.execute(facts).all()
        recount_conversation_facts(connection)
        assert connection.execute(facts).all() == written and len(written) == 100
    timings = select(Ticket.id, Ticket.first_response_seconds, Ticket.resolution_seconds).order_by(Ticket.id)
    with engine.begin() as connection:
        written = connection.execute(timings).all()
        time_tickets(connection)
        assert connection.execute(timings).all() == written
    assert len(bench_reports.time_summary(engine, now, runs=1)) == 1
    engine.dispose()
    if empty_url.startswith("sqlite"):
        rows, seconds, peak = bench_reports.time_export(empty_url, now, "csv", tmp_path)
        assert rows >= 396 and seconds > 0 and peak > 0

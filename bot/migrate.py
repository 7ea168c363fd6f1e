"""Schema migrations, run from code so no alembic.ini has to sit at the project root."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.attributes["url"] = url
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def make_revision(message: str, url: str | None = None) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


def recount(url: str | None = None) -> None:
    """Work out the figures the reports keep alongside the rows (per-day survey counts, the
    questions each survey version asked, each chat's facts, each ticket's timings) again from
    the rows themselves: after rows were written around the application, e.g. an import."""
    from bot.db import get_engine, make_engine
    from bot.reports.rollups import rebuild_answer_summaries, recount_conversation_facts, time_tickets

    engine = make_engine(url) if url else get_engine()
    with engine.begin() as connection:
        rebuild_answer_summaries(connection)
        recount_conversation_facts(connection)
        time_tickets(connection)

"""Migrations: up from nothing, down to nothing, up again, and in step with the models."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from bot import migrate
from bot.db import Base, import_all_models, make_engine

APP_TABLES = {"audit_events", "tickets", "ticket_events", "feedback", "survey_responses", "survey_answers", "users",
              "conversations", "messages", "handoffs", "conversation_events", "handoff_notes", "recovery_items",
              "alerts", "inbox_reviews", "outbox_mails", "ticket_links", "inbound_mails", "survey_score_days",
              "survey_questions_seen", "survey_offer_days", "ticket_attachments", "mail_preferences"}
HEAD = "0024"


@pytest.fixture
def sqlite_empty_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def postgresql_empty_url(postgres_url) -> Iterator[str]:
    """A database of its own on the test server, so the shared one is left alone."""
    name = f"mig_test_{secrets.token_hex(4)}"
    admin = make_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_empty_url")


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def schema_differences(url: str) -> list:
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_empty_database_upgrades_to_head_downgrades_to_base_and_upgrades_again(empty_url):
    assert table_names(empty_url) == set()

    migrate.upgrade(url=empty_url)
    assert table_names(empty_url) == APP_TABLES | {"alembic_version"}
    assert current_revision(empty_url) == HEAD

    migrate.downgrade(url=empty_url)
    assert table_names(empty_url) == {"alembic_version"}
    assert current_revision(empty_url) is None

    migrate.upgrade(url=empty_url)
    assert table_names(empty_url) == APP_TABLES | {"alembic_version"}
    assert current_revision(empty_url) == HEAD


def test_migrated_schema_matches_the_models(empty_url):
    migrate.upgrade(url=empty_url)

    assert schema_differences(empty_url) == []


def test_every_model_table_is_created_by_the_migrations():
    import_all_models()

    assert set(Base.metadata.tables) == APP_TABLES


def test_free_text_assignee_becomes_the_matching_user_and_back(empty_url):
    migrate.upgrade(url=empty_url, revision="0004")
    engine = make_engine(empty_url)
    ticket_row = ("INSERT INTO tickets (reference, subject, description, category, priority, classification,"
                  " classification_reason, status, assignee, channel, created_at, updated_at,"
                  " first_response_due, resolution_due) VALUES (:ref, 's', 'd', 'other', 'normal', 'routine',"
                  " '', 'new', :assignee, 'chat', :t, :t, :t, :t)")
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO users (id, email, name, role, password_hash, active, presence, created_at)"
                " VALUES (7, 'sam@example.com', 'Sam Lee', 'agent', '!', true, 'offline', '2026-03-02 09:00:00')"))
            for ref, assignee in [("TCK-AAAAA2", "SAM@example.com"), ("TCK-AAAAA3", "Sam Lee"),
                                  ("TCK-AAAAA4", "someone who left"), ("TCK-AAAAA5", None)]:
                connection.execute(text(ticket_row), {"ref": ref, "assignee": assignee,
                                                      "t": "2026-03-02 09:00:00"})

        migrate.upgrade(url=empty_url, revision="0005")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT reference, assignee_id FROM tickets ORDER BY reference")).all()
        assert [tuple(row) for row in rows] == [("TCK-AAAAA2", 7), ("TCK-AAAAA3", 7), ("TCK-AAAAA4", None),
                                                ("TCK-AAAAA5", None)]

        migrate.downgrade(url=empty_url, revision="0004")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT reference, assignee FROM tickets ORDER BY reference")).all()
        assert [tuple(row) for row in rows] == [("TCK-AAAAA2", "sam@example.com"), ("TCK-AAAAA3", "sam@example.com"),
                                                ("TCK-AAAAA4", None), ("TCK-AAAAA5", None)]
    finally:
        engine.dispose()


def test_surveys_answered_on_a_tickets_page_get_the_page_channel_and_back(empty_url):
    migrate.upgrade(url=empty_url, revision="0020")
    engine = make_engine(empty_url)
    response_row = ("INSERT INTO survey_responses (conversation_id, survey_key, survey_version, channel, started_at,"
                    " completed) VALUES (:conversation, 'default', 1, :channel, '2026-12-01 09:00:00', false)")
    try:
        with engine.begin() as connection:
            for conversation, channel in [("ticket:TCK-AAAAA2", "web"), ("c0ffee", "web"), ("c0ffee2", "chat")]:
                connection.execute(text(response_row), {"conversation": conversation, "channel": channel})

        def channels() -> list[tuple[str, str]]:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(
                    "SELECT conversation_id, channel FROM survey_responses ORDER BY conversation_id"))]

        migrate.upgrade(url=empty_url, revision="0021")
        assert channels() == [("c0ffee", "web"), ("c0ffee2", "chat"), ("ticket:TCK-AAAAA2", "page")]
        migrate.downgrade(url=empty_url, revision="0020")
        assert channels() == [("c0ffee", "web"), ("c0ffee2", "chat"), ("ticket:TCK-AAAAA2", "web")]
    finally:
        engine.dispose()

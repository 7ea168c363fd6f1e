"""Settings: documented defaults, and what the environment may change or may not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import PROJECT_ROOT, Settings

ENV_NAMES = (
    "COMPANY_NAME", "DATABASE_URL", "SQLITE_PATH", "TICKET_CATEGORIES", "SLA_POLICY", "SURVEY_FILE",
    "MAX_LOOKUP_ATTEMPTS", "REPEAT_CONTACT_DAYS", "RECOVERY_SCORE_THRESHOLD",
)

SLA = {
    "low": {"first_response_hours": 72, "resolution_hours": 240},
    "normal": {"first_response_hours": 8, "resolution_hours": 24},
    "high": {"first_response_hours": 2, "resolution_hours": 8},
    "urgent": {"first_response_hours": 0.5, "resolution_hours": 4},
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def settings() -> Settings:
    # No `.env`: only the defaults and the (monkeypatched) environment count.
    return Settings(_env_file=None)


def test_defaults_name_the_company_and_list_the_ticket_categories():
    current = settings()

    assert current.company_name == "Brightside"
    assert [c.key for c in current.ticket_categories] == [
        "orders_shipping", "returns_refunds", "billing_payments", "account_login", "product_technical", "other",
    ]
    assert current.category_label("returns_refunds") == "Returns & refunds"
    assert current.category_label("unknown") == "unknown"
    assert "never arrived" in current.ticket_categories[0].keywords
    assert current.repeat_contact_days == 30
    assert current.recovery_score_threshold == 2
    assert current.max_lookup_attempts == 3


def test_default_sla_policy_has_a_target_for_every_priority():
    policy = {
        priority: (target.first_response_hours, target.resolution_hours)
        for priority, target in settings().sla_policy.items()
    }

    assert policy == {"urgent": (1, 8), "high": (4, 24), "normal": (24, 48), "low": (48, 120)}


def test_default_database_is_a_sqlite_file_in_var():
    current = settings()

    assert current.database_url is None
    assert current.effective_database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'support.db'}"
    assert current.survey_file == PROJECT_ROOT / "bot" / "surveys" / "default_survey.yml"


def test_company_name_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMPANY_NAME", "Acme Kettles")

    assert settings().company_name == "Acme Kettles"


def test_sla_policy_comes_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("SLA_POLICY", json.dumps(SLA))

    policy = settings().sla_policy

    assert policy["urgent"].first_response_hours == 0.5
    assert policy["low"].resolution_hours == 240
    assert set(policy) == {"low", "normal", "high", "urgent"}


def test_sla_policy_missing_a_priority_is_refused(monkeypatch):
    incomplete = {key: value for key, value in SLA.items() if key != "urgent"}
    monkeypatch.setenv("SLA_POLICY", json.dumps(incomplete))

    with pytest.raises(ValidationError, match="SLA policy lacks targets for: urgent"):
        settings()


def test_ticket_categories_come_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv(
        "TICKET_CATEGORIES",
        json.dumps([
            {"key": "garden", "label": "Garden tools", "keywords": ["lawnmower"]},
            {"key": "other", "label": "Other"},
        ]),
    )

    current = settings()

    assert [(c.key, c.label, c.keywords) for c in current.ticket_categories] == [
        ("garden", "Garden tools", ["lawnmower"]),
        ("other", "Other", []),
    ]
    assert current.category_label("garden") == "Garden tools"


def test_duplicate_category_keys_are_refused(monkeypatch):
    monkeypatch.setenv(
        "TICKET_CATEGORIES",
        json.dumps([{"key": "other", "label": "Other"}, {"key": "other", "label": "Misc"}]),
    )

    with pytest.raises(ValidationError, match="unique keys"):
        settings()


def test_empty_category_list_is_refused(monkeypatch):
    monkeypatch.setenv("TICKET_CATEGORIES", "[]")

    with pytest.raises(ValidationError, match="at least one entry"):
        settings()


def test_database_url_overrides_the_sqlite_path(monkeypatch):
    monkeypatch.setenv("SQLITE_PATH", "/tmp/ignored.db")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://support@db.internal:5432/support")

    assert settings().effective_database_url == "postgresql+psycopg://support@db.internal:5432/support"


def test_sqlite_path_from_the_environment_is_used_without_a_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "here.db"))

    current = settings()

    assert current.sqlite_path == Path(tmp_path / "here.db")
    assert current.effective_database_url == f"sqlite:///{tmp_path / 'here.db'}"


def test_numbers_from_the_environment_are_parsed(monkeypatch):
    monkeypatch.setenv("REPEAT_CONTACT_DAYS", "14")
    monkeypatch.setenv("RECOVERY_SCORE_THRESHOLD", "3")

    current = settings()

    assert (current.repeat_contact_days, current.recovery_score_threshold) == (14, 3)


def test_non_numeric_threshold_is_refused(monkeypatch):
    monkeypatch.setenv("RECOVERY_SCORE_THRESHOLD", "low")

    with pytest.raises(ValidationError):
        settings()


@pytest.mark.parametrize("name", ["SECRET_KEY", "RASA_TOKEN", "ACTION_SERVER_TOKEN"])
def test_a_short_secret_is_refused(monkeypatch, name):
    monkeypatch.setenv(name, "x" * 31)
    with pytest.raises(ValidationError, match=f"{name} must be at least 32 characters"):
        Settings()
    monkeypatch.setenv(name, "x" * 32)
    assert getattr(Settings(), name.lower()).get_secret_value() == "x" * 32


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "support.example.com"])
def test_a_public_api_needs_its_secrets_set(monkeypatch, host):
    monkeypatch.setenv("API_HOST", host)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("RASA_TOKEN", "r" * 32)
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings()
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.delenv("RASA_TOKEN")
    with pytest.raises(ValidationError, match="RASA_TOKEN must be set"):
        Settings()
    monkeypatch.setenv("RASA_TOKEN", "r" * 32)
    assert Settings().api_host == host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost", "::1"])
def test_a_loopback_api_makes_do_without_them(monkeypatch, host):
    monkeypatch.setenv("API_HOST", host)
    for name in ("SECRET_KEY", "RASA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().api_host == host

"""The alert metrics are listed once (bot/alerts/metrics.py): settings accept exactly those, and
the service can measure every one of them."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from bot.alerts.metrics import ALERT_METRICS
from bot.alerts.service import COMPUTE, describe, metric_value
from bot.settings import PROJECT_ROOT, AlertRule

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)


def test_every_listed_metric_has_a_computation_and_nothing_else_does():
    assert list(COMPUTE) == list(ALERT_METRICS)


@pytest.mark.parametrize("metric", list(ALERT_METRICS))
def test_every_listed_metric_is_accepted_in_a_rule_and_measured(session, metric):
    rule = AlertRule(key="rule", metric=metric, above=0, days=7)
    value = metric_value(session, rule, NOW, "Europe/Paris")
    assert value is None or isinstance(value, float)
    message = describe(rule, 0.0 if value is None else value)
    assert message.startswith(ALERT_METRICS[metric].label)
    assert message.endswith("now" if ALERT_METRICS[metric].point_in_time else "over the last 7 days")


def test_a_metric_not_listed_is_refused_in_settings():
    with pytest.raises(ValidationError, match="metric"):
        AlertRule(key="rule", metric="csat_mean", above=0)


def test_settings_load_without_the_database_code():
    """bot/settings.py imports the metric list, not the service: no SQLAlchemy (nor a cycle)."""
    check = "import sys, bot.settings\nassert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported'\n"
    done = subprocess.run([sys.executable, "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1500:]

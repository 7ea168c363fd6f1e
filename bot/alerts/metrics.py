"""The alert metrics: each one's name, label and whether it is measured now or over the rule's
days, listed once. Settings validate alert rules against it and the alert messages read it; the
computations are in bot/alerts/service.py (COMPUTE), keyed by the same names. No database
imports here, so bot/settings.py can use it."""

from __future__ import annotations

from typing import Literal, NamedTuple


class AlertMetricInfo(NamedTuple):
    label: str
    # True: measured right now (what is open at the moment), not over the rule's last `days` days.
    point_in_time: bool = False


ALERT_METRICS: dict[str, AlertMetricInfo] = {
    "csat_satisfied_pct": AlertMetricInfo("% satisfied (4-5)"),
    "response_rate_pct": AlertMetricInfo("survey response rate %"),
    "first_response_met_pct": AlertMetricInfo("% of first responses on time"),
    "resolution_met_pct": AlertMetricInfo("% of resolutions on time"),
    "containment_rate_pct": AlertMetricInfo("bot containment %"),
    "fallback_rate_pct": AlertMetricInfo("% of lines not understood"),
    "handoff_wait_p90_minutes": AlertMetricInfo("wait for a person, p90 minutes"),
    "first_response_p90_minutes": AlertMetricInfo("ticket first response, p90 minutes"),
    "sla_breaching": AlertMetricInfo("tickets breaching an SLA", point_in_time=True),
    "recovery_overdue": AlertMetricInfo("overdue recovery items", point_in_time=True),
    "complaints": AlertMetricInfo("complaints"),
    "emails_failed": AlertMetricInfo("e-mails to customers not delivered"),
}

# For validating settings: one of the names above.
AlertMetric = Literal[tuple(ALERT_METRICS)]  # type: ignore[valid-type]

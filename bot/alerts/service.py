"""Warning thresholds on the KPIs: evaluated every minute (by each API process, or by
`python -m bot alerts check` from cron), recorded from when they fire to when they clear, and
sent once per firing to ALERT_WEBHOOK_URL. Sending is a separate step with its own retries and
timeout, so a broken webhook never holds up the evaluation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.alerts.metrics import ALERT_METRICS
from bot.alerts.models import Alert
from bot.db import transaction, utcnow
from bot.mail.models import OutboxMail
from bot.recovery.models import RecoveryItem
from bot.reports.kpis import bot_figures, satisfaction, sla, speed, volume
from bot.reports.period import Period, ReportFilters
from bot.settings import AlertRule, Settings, get_settings

logger = logging.getLogger(__name__)
WEBHOOK_ATTEMPTS = 3

EVERYTHING = ReportFilters()


def _percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _recovery_overdue(session: Session, now: datetime) -> float:
    return float(session.scalar(select(func.count()).select_from(RecoveryItem).where(
        RecoveryItem.is_overdue(now))) or 0)


def _emails_failed(session: Session, period: Period) -> float:
    """E-mails to customers written in the period that were given up (refused, failed too often, bounced)."""
    return float(session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.status == "failed", OutboxMail.created_at >= period.start, OutboxMail.created_at < period.end))
        or 0)


# How each metric of bot/alerts/metrics.py is measured, from the session, the rule's period and now
# (a test checks that the two list the same names).
COMPUTE: dict[str, Callable[[Session, Period, datetime], float | None]] = {
    "csat_satisfied_pct": lambda session, period, now: _percent(
        satisfaction(session, period, EVERYTHING).csat_satisfied),
    "response_rate_pct": lambda session, period, now: _percent(
        satisfaction(session, period, EVERYTHING).response_rate),
    "first_response_met_pct": lambda session, period, now: _percent(
        sla(session, period, EVERYTHING, now).first_response_met),
    "resolution_met_pct": lambda session, period, now: _percent(sla(session, period, EVERYTHING, now).resolution_met),
    "containment_rate_pct": lambda session, period, now: _percent(
        bot_figures(session, period, EVERYTHING).containment_rate),
    "fallback_rate_pct": lambda session, period, now: _percent(bot_figures(session, period, EVERYTHING).fallback_rate),
    "handoff_wait_p90_minutes": lambda session, period, now: _minutes(
        speed(session, period, EVERYTHING).handoff_wait.p90),
    "first_response_p90_minutes": lambda session, period, now: _minutes(
        speed(session, period, EVERYTHING).first_response.p90),
    "sla_breaching": lambda session, period, now: float(sla(session, period, EVERYTHING, now).breaching_now),
    "recovery_overdue": lambda session, period, now: _recovery_overdue(session, now),
    "complaints": lambda session, period, now: float(volume(session, period, EVERYTHING, 0).complaints),
    "emails_failed": lambda session, period, now: _emails_failed(session, period),
}


def metric_value(session: Session, rule: AlertRule, now: datetime, zone: str) -> float | None:
    """The rule's metric over its last `days` days (today included), or now; None when there is
    nothing to measure (an alert never fires on no data)."""
    compute = COMPUTE.get(rule.metric)
    if compute is None:
        raise ValueError(f"unknown metric {rule.metric!r}")
    today = now.astimezone(ZoneInfo(zone)).date()
    return compute(session, Period(today - timedelta(days=rule.days - 1), today, zone), now)


def describe(rule: AlertRule, value: float) -> str:
    side, threshold = ("above", rule.above) if rule.above is not None else ("below", rule.below)
    metric = ALERT_METRICS[rule.metric]
    when = "now" if metric.point_in_time else "over the last day" if rule.days == 1 else \
        f"over the last {rule.days} days"
    return f"{metric.label} is {value:g} ({side} {threshold:g}) {when}"


def evaluate(*, now: datetime | None = None, settings: Settings | None = None) -> list[Alert]:
    """Check every rule once: fire, update or clear its alert. Each rule in its own
    transaction: one that fails (logged) does not stop the others. The alerts active after."""
    settings, now = settings or get_settings(), now or utcnow()
    zone = settings.report_zone
    for rule in settings.alert_rules:
        try:
            with transaction() as session:
                _evaluate_rule(session, rule, now, zone, webhook=bool(settings.alert_webhook_url))
        except IntegrityError:  # another process fired the same alert at the same moment
            logger.info("alert %s fired elsewhere first", rule.key)
        except Exception:
            logger.exception("could not evaluate alert rule %s", rule.key)
    with transaction() as session:
        return active_alerts(session=session)


def _evaluate_rule(session: Session, rule: AlertRule, now: datetime, zone: str, *, webhook: bool) -> None:
    value = metric_value(session, rule, now, zone)
    firing = value is not None and (value > rule.above if rule.above is not None else value < rule.below)
    active = session.scalar(select(Alert).where(Alert.rule_key == rule.key, Alert.cleared_at.is_(None)))
    if firing and active is None:
        session.add(Alert(rule_key=rule.key, metric=rule.metric, message=describe(rule, value),
                          threshold=rule.above if rule.above is not None else rule.below, fired_value=value,
                          value=value, fired_at=now, checked_at=now,
                          webhook_status="pending" if webhook else "none"))
        session.flush()
        logger.warning("alert %s fired: %s", rule.key, describe(rule, value))
    elif firing:
        active.value, active.checked_at, active.message = value, now, describe(rule, value)
    elif active is not None:
        active.cleared_at, active.checked_at = now, now
        if value is not None:
            active.value = value
        logger.info("alert %s cleared", rule.key)


def active_alerts(*, session: Session) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.cleared_at.is_(None)).order_by(Alert.fired_at)))


def recent_alerts(*, session: Session, limit: int = 100) -> list[Alert]:
    """Active ones first, then the latest cleared."""
    return list(session.scalars(select(Alert).order_by(Alert.cleared_at.is_not(None), Alert.fired_at.desc())
                                .limit(limit)))


def payload(alert: Alert) -> dict:
    return {"alert": alert.rule_key, "metric": alert.metric, "message": alert.message, "value": alert.fired_value,
            "threshold": alert.threshold, "fired_at": alert.fired_at.isoformat()}


def deliver_pending(*, settings: Settings | None = None, client: httpx.Client | None = None) -> int:
    """POST each alert not sent yet to the webhook, once: an alert is claimed (pending ->
    sending) before it is sent, so several processes never send it twice. Retried with
    backoff; after the last failure it is marked failed with the error. How many were sent."""
    settings = settings or get_settings()
    if not settings.alert_webhook_url:
        return 0
    with transaction() as session:
        waiting = list(session.scalars(select(Alert.id).where(Alert.webhook_status == "pending")))
    sent = 0
    own_client = client is None
    client = client or httpx.Client(timeout=settings.alert_webhook_timeout_seconds)
    try:
        for alert_id in waiting:
            with transaction() as session:
                claimed = session.execute(update(Alert).where(Alert.id == alert_id, Alert.webhook_status == "pending")
                                          .values(webhook_status="sending")).rowcount
                body = payload(session.get(Alert, alert_id)) if claimed else None
            if body is None:
                continue
            status, attempts, error = _post(client, settings.alert_webhook_url, body)
            with transaction() as session:
                session.execute(update(Alert).where(Alert.id == alert_id).values(
                    webhook_status=status, webhook_attempts=attempts, webhook_error=error))
            sent += status == "sent"
    finally:
        if own_client:
            client.close()
    return sent


def _post(client: httpx.Client, url: str, body: dict) -> tuple[str, int, str | None]:
    attempts = 0
    try:
        for attempt in Retrying(stop=stop_after_attempt(WEBHOOK_ATTEMPTS), reraise=True,
                                wait=wait_exponential(multiplier=0.5, max=4),
                                retry=retry_if_exception_type(httpx.HTTPError)):
            with attempt:
                attempts += 1
                client.post(url, json=body).raise_for_status()
    except httpx.HTTPError as error:
        logger.warning("alert webhook failed after %d attempts: %s", attempts, error)
        return "failed", attempts, f"{type(error).__name__}: {error}"[:500]
    return "sent", attempts, None

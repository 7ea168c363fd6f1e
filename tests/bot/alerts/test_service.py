"""Alerts: fire on a threshold, stay one per rule while active, clear, fire again; the webhook
gets each firing once, with retries and a timeout, and a broken one never stops evaluation."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.alerts import service
from bot.alerts.models import Alert
from bot.alerts.service import deliver_pending, evaluate
from bot.db import transaction
from bot.settings import AlertRule
from bot.surveys.models import SurveyAnswer, SurveyResponse
from tests.factories import plain_settings

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)
CSAT_RULE = AlertRule(key="csat-low", metric="csat_satisfied_pct", below=80, days=7)


_numbers = itertools.count(1)


def scores(*values: int, when: datetime = NOW - timedelta(days=1)) -> None:
    with transaction() as session:
        for value in values:
            response = SurveyResponse(conversation_id=f"c-{next(_numbers)}", survey_key="default",
                                      survey_version=1, started_at=when, completed=True)
            session.add(response)
            session.flush()
            session.add(SurveyAnswer(response_id=response.id, question_key="csat", question_type="rating_1_5",
                                     question_text="?", position=0, score=value, answered_at=when))


def settings(**overrides):
    return plain_settings(alert_rules=[CSAT_RULE], **overrides)


def alerts() -> list[Alert]:
    with transaction() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def test_an_alert_fires_stays_single_clears_and_fires_again(app_db):
    assert evaluate(now=NOW, settings=settings()) == []  # no answers: nothing to measure, no alert
    scores(5, 2)                                           # 50% satisfied
    [active] = evaluate(now=NOW, settings=settings())
    assert (active.rule_key, active.fired_value, active.threshold, active.webhook_status) == ("csat-low", 50, 80,
                                                                                               "none")
    assert active.message == "% satisfied (4-5) is 50 (below 80) over the last 7 days"
    scores(2)                                              # 33%: still the same alert, its value updated
    evaluate(now=NOW + timedelta(minutes=1), settings=settings())
    [still] = alerts()
    assert still.cleared_at is None and round(still.value, 1) == 33.3 and still.fired_value == 50
    scores(5, 5, 5, 5, 5, 5, 5, 5, 5)                      # 10 of 12: 83%
    assert evaluate(now=NOW + timedelta(minutes=2), settings=settings()) == []
    [cleared] = alerts()
    assert cleared.cleared_at == NOW + timedelta(minutes=2)
    scores(1, 1, 1, 1)                                     # 10 of 16: fires again, a new record
    evaluate(now=NOW + timedelta(minutes=3), settings=settings())
    assert [(a.fired_at, a.cleared_at is None) for a in alerts()] == [
        (NOW, False), (NOW + timedelta(minutes=3), True)]


def test_a_second_active_alert_for_one_rule_is_refused_by_the_database(app_db):
    scores(1)
    evaluate(now=NOW, settings=settings())
    with pytest.raises(IntegrityError), transaction() as session:
        session.add(Alert(rule_key="csat-low", metric="csat_satisfied_pct", message="x", threshold=80,
                          fired_value=0, value=0, fired_at=NOW, checked_at=NOW))


def test_a_failing_rule_does_not_stop_the_others(app_db, monkeypatch):
    scores(1)
    real = service.metric_value

    def broken(session, rule, now, zone):
        if rule.key == "breaks":
            raise RuntimeError("metric exploded")
        return real(session, rule, now, zone)

    monkeypatch.setattr(service, "metric_value", broken)
    rules = [AlertRule(key="breaks", metric="complaints", above=0), CSAT_RULE]
    assert [a.rule_key for a in evaluate(now=NOW, settings=plain_settings(alert_rules=rules))] == ["csat-low"]


def test_point_in_time_rules(app_db):
    from tests.factories import make_feedback

    with transaction() as session:
        make_feedback(session, category="complaint", now=NOW - timedelta(days=2))  # its recovery item is overdue
    rules = [AlertRule(key="recovery-overdue", metric="recovery_overdue", above=0)]
    [active] = evaluate(now=NOW, settings=plain_settings(alert_rules=rules))
    assert active.message == "overdue recovery items is 1 (above 0) now"


def test_e_mails_given_up_today_raise_the_default_alert(app_db):
    from bot.mail.models import OutboxMail
    from bot.settings import DEFAULT_ALERT_RULES

    rules = [rule for rule in DEFAULT_ALERT_RULES if rule.metric == "emails_failed"]
    assert evaluate(now=NOW, settings=plain_settings(alert_rules=rules)) == []
    with transaction() as session:
        for number, (status, written) in enumerate([("failed", NOW - timedelta(hours=2)), ("sent", NOW),
                                                    ("failed", NOW - timedelta(days=3))]):
            session.add(OutboxMail(kind="agent_reply", to_address="ada@example.com", subject="s", text_body="t",
                                   html_body="h", message_id=f"<m{number}@example.com>", status=status,
                                   created_at=written, next_attempt_at=written))
    [active] = evaluate(now=NOW, settings=plain_settings(alert_rules=rules))
    assert active.message == "e-mails to customers not delivered is 1 (above 0) over the last day"


class Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server name
        length = int(self.headers["Content-Length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    Hook.received, Hook.status = [], 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts"
    server.shutdown()


def test_each_firing_is_posted_once(app_db, webhook):
    config = settings(alert_webhook_url=webhook)
    scores(1)
    evaluate(now=NOW, settings=config)
    assert deliver_pending(settings=config) == 1
    evaluate(now=NOW + timedelta(minutes=1), settings=config)  # still firing: nothing new to send
    assert deliver_pending(settings=config) == 0
    assert Hook.received == [{"alert": "csat-low", "metric": "csat_satisfied_pct", "value": 0.0, "threshold": 80.0,
                              "message": "% satisfied (4-5) is 0 (below 80) over the last 7 days",
                              "fired_at": NOW.isoformat()}]
    [sent] = alerts()
    assert (sent.webhook_status, sent.webhook_attempts) == ("sent", 1)


def test_a_broken_webhook_is_retried_then_marked_failed_and_evaluation_goes_on(app_db, webhook):
    Hook.status = 500
    config = settings(alert_webhook_url=webhook)
    scores(1)
    evaluate(now=NOW, settings=config)
    assert deliver_pending(settings=config) == 0
    [failed] = alerts()
    assert (failed.webhook_status, failed.webhook_attempts) == ("failed", 3) and "500" in failed.webhook_error
    assert len(Hook.received) == 3
    scores(5, 5, 5, 5, 5, 5, 5, 5, 5)
    assert evaluate(now=NOW + timedelta(minutes=1), settings=config) == []  # cleared as usual


def test_an_unreachable_webhook_fails_within_the_timeout(app_db):
    config = settings(alert_webhook_url="http://127.0.0.1:9/alerts", alert_webhook_timeout_seconds=1)
    scores(1)
    evaluate(now=NOW, settings=config)
    began = datetime.now(timezone.utc)
    deliver_pending(settings=config)
    assert (datetime.now(timezone.utc) - began).total_seconds() < 20
    assert alerts()[0].webhook_status == "failed"

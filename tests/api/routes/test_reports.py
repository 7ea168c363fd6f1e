"""The reporting API: the same numbers as the KPI service, ranges and filters checked, and
recovery items moved on by managers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.db import transaction
from bot.recovery.models import RecoveryItem
from bot.reports.kpis import summary
from bot.reports.period import Period
from tests.api.support import staff
from tests.factories import make_feedback, make_ticket


def test_the_summary_is_the_services_numbers_with_the_previous_period(client):
    today = datetime.now(timezone.utc).date()
    with transaction() as session:
        make_ticket(session, now=datetime.now(timezone.utc) - timedelta(hours=1))
        make_ticket(session, now=datetime.now(timezone.utc) - timedelta(days=10), category="billing_payments",
                    description="I was charged twice")
    meg = staff(client, "meg")
    answer = client.get("/api/v1/reports/summary", params={"from": (today - timedelta(days=6)).isoformat(),
                                                           "to": today.isoformat()}, headers=meg)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["volume"]["tickets"] == 1 and body["previous"]["volume"]["tickets"] == 1
    assert body["previous"]["first"] == (today - timedelta(days=13)).isoformat()
    with transaction() as session:
        expected = summary(session=session, period=Period(today - timedelta(days=6), today, "UTC"),
                           with_previous=True, now=datetime.fromisoformat(body["generated_at"]))
    assert body == expected.model_dump(mode="json")
    billing = client.get("/api/v1/reports/summary", params={"category": "billing_payments", "to": today.isoformat()},
                         headers=meg).json()
    assert billing["volume"]["tickets"] == 1 and billing["filters"]["category"] == "billing_payments"
    assert billing["first"] == (today - timedelta(days=29)).isoformat()  # 30 days by default


def test_ranges_and_filters_are_checked_with_clear_errors(client):
    meg = staff(client, "meg")

    def detail(**params):
        answer = client.get("/api/v1/reports/summary", params=params, headers=meg)
        assert answer.status_code == 422, answer.text
        return str(answer.json()["detail"])

    assert "is after 'to'" in detail(**{"from": "2026-03-09", "to": "2026-03-01"})
    assert "at most 366 days" in detail(**{"from": "2024-01-01", "to": "2026-03-01"})
    assert "one of: orders_shipping, returns_refunds" in detail(category="nonsense")
    assert "priority" in detail(priority="whenever")
    assert "owner" in detail(owner="robot")
    assert "from" in detail(**{"from": "last tuesday"})
    assert "agent_id" in detail(agent_id="1 OR 1=1")


def test_agents_get_403_on_every_report(client):
    ann = staff(client, "ann")
    for path in ("/api/v1/reports/summary", "/api/v1/reports/breaches", "/api/v1/reports/timeseries",
                 "/api/v1/reports/themes", "/api/v1/inbox", "/api/v1/alerts", "/api/v1/exports/tickets"):
        assert client.get(path, headers=ann).status_code == 403, path
    # Recovery items: an agent sees and moves on only the ones they own (test_authorization.py).
    assert client.get("/api/v1/recovery-items", headers=ann).json() == []


def test_a_manager_follows_a_complaint_up_to_the_end(client):
    meg, ann = staff(client, "meg"), staff(client, "ann")
    ann_id = client.get("/api/v1/auth/me", headers=ann).json()["id"]
    with transaction() as session:
        complaint = make_feedback(session, category="complaint", text="Nobody called back.")
        item_id = session.scalar(select(RecoveryItem.id).where(RecoveryItem.feedback_id == complaint.id))
    [listed] = client.get("/api/v1/recovery-items", headers=meg).json()
    assert (listed["id"], listed["status"], listed["owner_id"]) == (item_id, "open", None)
    assert listed["overdue"] is True  # the factory's complaint is from March 2026, due 24 h later
    breaches = client.get("/api/v1/reports/breaches", headers=meg).json()
    assert [item["id"] for item in breaches["recovery"]] == [item_id]

    url = f"/api/v1/recovery-items/{item_id}"
    moved = client.patch(url, json={"status": "contacted", "owner_id": ann_id,
                                    "due_at": "2030-01-01T09:00:00+01:00"}, headers=meg)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["owner_name"], moved.json()["overdue"]) == ("contacted", "Ann", False)
    refused = client.patch(url, json={"status": "closed"}, headers=meg)
    assert refused.status_code == 409 and "outcome" in refused.json()["detail"]
    assert client.patch(url, json={"due_at": "2030-01-01T09:00:00"}, headers=meg).status_code == 422
    closed = client.patch(url, json={"status": "closed", "outcome": "Called; apologised; refunded."}, headers=meg)
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"] is not None
    assert client.get("/api/v1/recovery-items", headers=meg).json() == []
    assert len(client.get("/api/v1/recovery-items", params={"status": "all"}, headers=meg).json()) == 1
    assert client.patch("/api/v1/recovery-items/999", json={"status": "closed"}, headers=meg).status_code == 404


def test_the_owner_e_mails_the_unhappy_customer_from_the_item(client):
    meg = staff(client, "meg")
    with transaction() as session:
        complaint = make_feedback(session, category="complaint", text="Nobody called back.",
                                  customer_email="bo@example.com")
        anonymous = make_feedback(session, category="complaint", text="Awful.", anonymous=True)
        item_id, anonymous_id = (session.scalar(select(RecoveryItem.id).where(RecoveryItem.feedback_id == one.id))
                                 for one in (complaint, anonymous))
    url = f"/api/v1/recovery-items/{item_id}/follow-up"
    sent = client.post(url, json={"message": "I am sorry nobody called. I will ring you at 3 pm."}, headers=meg)
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "contacted" and body["contacted_at"] is not None
    [mail] = body["follow_ups"]
    assert (mail["to_address"], mail["status"], mail["subject"]) == ("bo@example.com", "pending",
                                                                     "Following up on your feedback")
    assert client.get("/api/v1/recovery-items", headers=meg).json()[0]["follow_ups"] == body["follow_ups"]
    assert client.post(url, json={"message": "   "}, headers=meg).status_code == 422
    no_address = client.post(f"/api/v1/recovery-items/{anonymous_id}/follow-up", json={"message": "Sorry"},
                             headers=meg)
    assert no_address.status_code == 409 and "no e-mail address" in no_address.json()["detail"]
    assert client.post("/api/v1/recovery-items/999/follow-up", json={"message": "Hi"}, headers=meg).status_code == 404


def test_the_breaches_list_shows_late_tickets(client):
    meg = staff(client, "meg")
    with transaction() as session:
        late = make_ticket(session, now=datetime.now(timezone.utc) - timedelta(days=3)).reference
        make_ticket(session, now=datetime.now(timezone.utc))  # just opened: not due yet
    tickets = client.get("/api/v1/reports/breaches", headers=meg).json()["tickets"]
    assert [(t["reference"], t["missed"]) for t in tickets] == [(late, ["first_response", "resolution"])]


def test_a_daily_series_per_metric(client):
    today = datetime.now(timezone.utc).date()
    with transaction() as session:
        make_ticket(session, now=datetime.now(timezone.utc) - timedelta(days=1))
        make_ticket(session, now=datetime.now(timezone.utc) - timedelta(days=1, minutes=5))
    meg = staff(client, "meg")
    series = client.get("/api/v1/reports/timeseries", params={"metric": "tickets", "from": (
        today - timedelta(days=2)).isoformat(), "to": today.isoformat()}, headers=meg).json()
    assert series["interval"] == "day" and series["description"] == "tickets opened"
    by_day = {point["day"]: point["value"] for point in series["points"]}
    assert sum(by_day.values()) == 2 and len(by_day) == 3
    unknown = client.get("/api/v1/reports/timeseries", params={"metric": "happiness"}, headers=meg)
    assert unknown.status_code == 422 and "csat_mean" in unknown.text
    assert client.get("/api/v1/reports/timeseries", params={"metric": "tickets", "interval": "week"},
                      headers=meg).status_code == 422


def test_alerts_active_first_then_cleared(client):
    from bot.alerts.service import evaluate
    from bot.settings import AlertRule
    from tests.factories import plain_settings

    with transaction() as session:
        make_feedback(session, category="complaint", now=datetime.now(timezone.utc) - timedelta(days=2))
    evaluate(settings=plain_settings(alert_rules=[AlertRule(key="recovery-overdue", metric="recovery_overdue",
                                                            above=0)]))
    meg = staff(client, "meg")
    [active] = client.get("/api/v1/alerts", params={"active": "true"}, headers=meg).json()
    assert (active["rule_key"], active["value"], active["cleared_at"]) == ("recovery-overdue", 1.0, None)
    assert client.get("/api/v1/alerts", headers=staff(client, "ann")).status_code == 403


def test_themes_of_unhappy_comments(client):
    from bot.surveys.models import SurveyAnswer, SurveyResponse

    now = datetime.now(timezone.utc)
    with transaction() as session:
        for number, (score, text) in enumerate([(1, "Refund never arrived"), (2, "Still waiting for my refund"),
                                                (5, "refund was quick")]):
            response = SurveyResponse(conversation_id=f"th{number}", survey_key="default", survey_version=1,
                                      started_at=now, completed=True)
            session.add(response)
            session.flush()
            session.add_all([SurveyAnswer(response_id=response.id, question_key="csat", question_type="rating_1_5",
                                          question_text="?", position=0, score=score, answered_at=now),
                             SurveyAnswer(response_id=response.id, question_key="comment", question_type="text",
                                          question_text="?", position=1, text=text, answered_at=now)])
    found = client.get("/api/v1/reports/themes", headers=staff(client, "meg")).json()
    assert found["max_score"] == 2 and len(found["comments"]) == 2
    assert found["themes"][0]["term"] == "refund" and found["themes"][0]["comments"] == 2


def test_the_inbox_over_http(client):
    meg = staff(client, "meg")
    with transaction() as session:
        item = make_feedback(session, category="suggestion", text="Add dark mode",
                             now=datetime.now(timezone.utc)).id
    page = client.get("/api/v1/inbox", params={"q": "dark"}, headers=meg).json()
    assert page["total"] == 1 and page["items"][0]["status"] == "new" and page["items"][0]["channel"] == "chat"
    assert client.get("/api/v1/inbox", params={"q": "dark", "channel": "page"}, headers=meg).json()["total"] == 0
    assert client.get("/api/v1/inbox", params={"channel": "fax"}, headers=meg).status_code == 422
    done = client.patch(f"/api/v1/inbox/feedback/{item}", json={"action_note": "Added to the roadmap"}, headers=meg)
    assert done.status_code == 200 and done.json()["status"] == "actioned"
    assert client.get("/api/v1/inbox", params={"category": "praise"}, headers=meg).status_code == 422
    assert client.patch("/api/v1/inbox/feedback/9999", json={"reviewed": True}, headers=meg).status_code == 404
    assert client.patch("/api/v1/inbox/tweets/1", json={"reviewed": True}, headers=meg).status_code == 422
    naive = client.patch(f"/api/v1/inbox/feedback/{item}", json={"due_at": "2030-01-01T09:00:00"}, headers=meg)
    assert naive.status_code == 422
    assert naive.json()["detail"] == "due_at: a time is written as in RFC 3339, with its offset: 2026-12-07T14:02:00Z"
    # Nor a number, which pydantic alone reads as a Unix time.
    assert client.patch(f"/api/v1/inbox/feedback/{item}", json={"due_at": 1.5}, headers=meg).status_code == 422
    assert client.get("/api/v1/inbox", headers=staff(client, "ann")).status_code == 403

"""Every KPI against a small world whose answers were worked out by hand (in the comments),
on SQLite and PostgreSQL. The period is Mon 2 - Sun 8 March 2026 (UTC); "now" is Mon 9 March
12:00 UTC. Rows are written directly, with exact times, so each figure is known."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.conversations.models import Conversation, ConversationEvent, Handoff, Message
from bot.feedback.models import Feedback
from bot.reports.kpis import sla_watch, summary
from bot.reports.period import Period, PeriodError, ReportFilters, make_period
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.tickets.models import Ticket
from tests.factories import make_user


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=timezone.utc)


NOW = at(9, 12)
WEEK = Period(date(2026, 3, 2), date(2026, 3, 8), "UTC")


def chat(session, cid: str, created: datetime, *lines: tuple[str, bool], agent=None, held=False) -> None:
    session.add(Conversation(id=cid, token_hash="x" * 64, created_at=created, updated_at=created,
                             agent_id=agent.id if agent else None))
    session.add(Message(conversation_id=cid, sender="bot", text="Hello!", created_at=created))
    for n, (text, fallback) in enumerate(lines, start=1):
        session.add(Message(conversation_id=cid, sender="customer", text=text, fallback=fallback,
                            created_at=created + timedelta(minutes=n)))
    if held:
        session.add(ConversationEvent(conversation_id=cid, from_state="queued", to_state="agent",
                                      actor=f"agent:{agent.id}", created_at=created + timedelta(minutes=5)))
    session.flush()


def handoff(session, cid: str, reason: str, status: str, requested: datetime, wait: int | None = None,
            agent=None) -> None:
    session.add(Handoff(conversation_id=cid, reason=reason, status=status, requested_at=requested,
                        agent_id=agent.id if agent else None,
                        claimed_at=requested + timedelta(seconds=wait) if wait is not None else None))
    session.flush()


def ticket(session, reference: str, created: datetime, *, category: str, priority: str, classification: str,
           status: str = "open", reply: int | None = None, resolve: int | None = None, reply_due: int = 3600,
           resolve_due: int = 86400, conversation: str | None = None, assignee=None) -> None:
    """`reply`/`resolve`: seconds after opening; `*_due`: seconds after opening."""
    session.add(Ticket(
        reference=reference, subject=reference, description="x", category=category, priority=priority,
        classification=classification, status=status, created_at=created, updated_at=created,
        first_response_due=created + timedelta(seconds=reply_due),
        resolution_due=created + timedelta(seconds=resolve_due),
        first_responded_at=created + timedelta(seconds=reply) if reply is not None else None,
        resolved_at=created + timedelta(seconds=resolve) if resolve is not None else None,
        conversation_id=conversation, assignee_id=assignee.id if assignee else None))
    session.flush()


def survey(session, cid: str, started: datetime, completed: bool, **scores: int) -> None:
    types = {"csat": "rating_1_5", "solved": "yes_no", "speed": "rating_1_5", "solution": "rating_1_5",
             "courtesy": "rating_1_5", "recommend": "nps_0_10"}
    response = SurveyResponse(conversation_id=cid, survey_key="default", survey_version=1, started_at=started,
                              completed=completed)
    session.add(response)
    session.flush()
    for position, (key, score) in enumerate(scores.items()):
        session.add(SurveyAnswer(response_id=response.id, question_key=key, question_type=types[key],
                                 question_text=key, position=position, score=score, answered_at=started))
    session.flush()


def feedback(session, reference: str, category: str, created: datetime, conversation: str | None = None) -> None:
    session.add(Feedback(reference=reference, category=category, text="x", anonymous=conversation is None,
                         conversation_id=conversation, created_at=created))
    session.flush()


@pytest.fixture
def world(session):
    ann, ben = make_user(session, name="Ann"), make_user(session, name="Ben")
    # Chats (customer lines: text, not understood?).
    chat(session, "c1", at(2), ("hello", False), ("where is my order", False))                 # contained
    chat(session, "c2", at(2, 11), ("asdf", True), ("ASDF ", True), ("what?", False))          # contained
    chat(session, "c3", at(3), ("a person please", False), agent=ann, held=True)
    chat(session, "c4", at(4), ("blorp", True), agent=ben, held=True)
    chat(session, "c5", at(5), ("a person", False))                                             # left the queue
    chat(session, "c6", at(6), ("a person", False))                                             # nobody online
    chat(session, "c7", at(6, 12))                                                              # greeting only
    chat(session, "c8", at(1), ("too early", True))                                             # before the period
    chat(session, "c9", at(7), ("I rated you 1", False), agent=ann, held=True)
    handoff(session, "c3", "requested", "resolved", at(3, 10, 2), wait=120, agent=ann)
    handoff(session, "c4", "fallback", "resolved", at(4, 10, 2), wait=300, agent=ben)
    handoff(session, "c5", "requested", "cancelled", at(5, 10, 2))
    handoff(session, "c6", "requested", "unavailable", at(6, 10, 2))
    handoff(session, "c9", "recovery", "resolved", at(7, 10, 2), wait=60, agent=ann)
    handoff(session, "c8", "requested", "cancelled", at(1, 10, 2))                              # before the period
    # Tickets (due and done times in seconds after opening).
    ticket(session, "T0", at(1), category="billing", priority="normal", classification="routine")  # old, breaching
    ticket(session, "T1", at(3), category="billing", priority="high", classification="urgent", status="resolved",
           reply=1800, resolve=7200, reply_due=3600, resolve_due=8 * 3600, conversation="c3", assignee=ann)
    ticket(session, "T2", at(6), category="orders_shipping", priority="normal", classification="routine",
           reply_due=4 * 3600, resolve_due=3 * 86400, conversation="c6")
    ticket(session, "T3", at(3, 9), category="account", priority="low", classification="complex",
           status="resolved", reply=7200, resolve=18000, reply_due=3600, resolve_due=86400, assignee=ben)
    ticket(session, "T4", at(8, 12), category="billing", priority="normal", classification="routine", status="new",
           reply_due=int((NOW + timedelta(minutes=30) - at(8, 12)).total_seconds()), resolve_due=2 * 86400)
    ticket(session, "T5", at(4), category="billing", priority="normal", classification="routine", status="closed",
           resolve=3600, reply_due=4 * 3600, resolve_due=86400)
    # Surveys.
    survey(session, "c3", at(3, 11), True, csat=5, solved=1, speed=4, solution=5, courtesy=5, recommend=10)
    survey(session, "c4", at(4, 11), True, csat=2, solved=0, speed=2, solution=1, courtesy=4, recommend=3)
    survey(session, "c1", at(2, 10, 30), False, csat=4)
    survey(session, "c2", at(2, 11, 30), False)                                                 # declined
    survey(session, "c9", at(7, 11), True, csat=3, solved=1, speed=3, solution=3, courtesy=3, recommend=9)
    survey(session, "c8", at(1, 11), True, csat=1)                                              # before the period
    # Feedback.
    feedback(session, "FB-1", "complaint", at(4, 12), conversation="c4")
    feedback(session, "FB-2", "suggestion", at(5, 12))
    feedback(session, "FB-3", "complaint", at(6, 12))
    feedback(session, "FB-4", "service_quality", at(2, 12), conversation="c1")
    feedback(session, "FB-0", "complaint", at(1, 12))                                           # before the period
    return {"ann": ann, "ben": ben}


def test_every_figure_for_the_week(session, world):
    figures = summary(session=session, period=WEEK, now=NOW)

    s = figures.satisfaction
    assert (s.surveys_offered, s.surveys_completed) == (5, 3)                     # c1, c2, c3, c4, c9; c3 c4 c9
    assert s.response_rate == pytest.approx(3 / 5)
    assert s.csat_answers == 4 and s.csat_mean == pytest.approx((5 + 2 + 4 + 3) / 4)
    assert s.csat_satisfied == pytest.approx(2 / 4)                               # 5 and 4
    assert s.dimensions == pytest.approx({"courtesy": (5 + 4 + 3) / 3, "solution": (5 + 1 + 3) / 3,
                                          "speed": (4 + 2 + 3) / 3})
    assert s.nps_answers == 3 and s.nps == pytest.approx(100 * (2 - 1) / 3)       # 10, 9 promoters; 3 detractor
    assert s.solved_answers == 3 and s.solved_rate == pytest.approx(2 / 3)

    p = figures.speed
    assert (p.first_response.count, p.first_response.median, p.first_response.p90) == (2, 1800, 7200)  # T1, T3
    assert (p.resolution.count, p.resolution.median, p.resolution.p90) == (3, 7200, 18000)  # 3600 7200 18000
    assert (p.handoff_wait.count, p.handoff_wait.median, p.handoff_wait.p90) == (3, 120, 300)  # 60 120 300
    assert p.queue_abandonment_rate == pytest.approx(1 / 4)                       # c5 of c3 c4 c5 c9

    a = figures.sla
    assert a.first_response_met == pytest.approx(2 / 4)   # T1 yes, T2 no, T3 no (late), T5 yes (resolved); T4 not due
    assert a.resolution_met == pytest.approx(3 / 4)       # T1 yes, T2 no, T3 yes, T5 yes; T4 not due
    assert (a.breaching_now, a.due_next_hour) == (2, 1)   # T0, T2; T4 (reply due at 12:30)

    b = figures.bot
    assert b.conversations == 7                           # c1-c6 and c9: c7 never wrote, c8 is too early
    assert b.containment_rate == pytest.approx(2 / 7)     # c1, c2
    assert b.handoff_rate == pytest.approx(5 / 7)         # c3 c4 c5 c6 c9
    assert b.handoffs_by_reason == {"fallback": 1, "recovery": 1, "requested": 3}
    assert b.fallback_rate == pytest.approx(3 / 10)       # asdf, ASDF, blorp of 10 customer lines
    assert b.top_unrecognised == [("asdf", 2), ("blorp", 1)]

    v = figures.volume
    assert (v.conversations, v.tickets) == (7, 5)
    assert v.tickets_by_category == {"account": 1, "billing": 3, "orders_shipping": 1}
    assert v.tickets_by_priority == {"high": 1, "low": 1, "normal": 3}
    assert v.tickets_by_classification == {"complex": 1, "routine": 3, "urgent": 1}
    assert (v.feedback, v.complaints) == (4, 2)
    assert v.feedback_by_category == {"complaint": 2, "service_quality": 1, "suggestion": 1}


def test_chats_a_person_held(session, world):
    figures = summary(session=session, period=WEEK, filters=ReportFilters(owner="human"), now=NOW)
    assert figures.bot.conversations == 3 and figures.bot.containment_rate == 0     # c3 c4 c9
    assert figures.satisfaction.surveys_offered == 3                                # c3 c4 c9
    assert figures.satisfaction.csat_mean == pytest.approx((5 + 2 + 3) / 3)
    assert figures.volume.tickets == 1                                              # T1 (c3); T3-T5 have no chat
    assert figures.volume.feedback_by_category == {"complaint": 1}                  # FB-1 (c4)
    assert figures.bot.fallback_rate == pytest.approx(1 / 3)                        # blorp of c3 c4 c9's lines
    bot_only = summary(session=session, period=WEEK, filters=ReportFilters(owner="bot"), now=NOW)
    assert bot_only.bot.conversations == 4 and bot_only.bot.containment_rate == pytest.approx(2 / 4)  # c1 c2 c5 c6
    assert bot_only.volume.tickets == 1                                             # T2 (c6)
    assert bot_only.sla.breaching_now == 1                                          # T2; T0 has no chat


def test_one_agent(session, world):
    ann = world["ann"]
    figures = summary(session=session, period=WEEK, filters=ReportFilters(agent_id=ann.id), now=NOW)
    assert figures.bot.conversations == 2                                           # c3 c9
    assert figures.satisfaction.csat_answers == 2 and figures.satisfaction.csat_mean == pytest.approx(4)
    assert (figures.speed.handoff_wait.median, figures.speed.handoff_wait.p90) == (60, 120)
    assert figures.volume.tickets == 1 and figures.speed.first_response.median == 1800   # T1, assigned to Ann
    assert figures.bot.handoffs_by_reason == {"recovery": 1, "requested": 1}


def test_one_ticket_category(session, world):
    figures = summary(session=session, period=WEEK, filters=ReportFilters(category="billing"), now=NOW)
    assert figures.volume.tickets == 3                                              # T1 T4 T5
    assert figures.bot.conversations == 1 and figures.satisfaction.surveys_offered == 1  # c3 (T1)
    assert figures.sla.first_response_met == pytest.approx(2 / 2)                   # T1, T5; T4 not due
    urgent = summary(session=session, period=WEEK, filters=ReportFilters(classification="urgent",
                                                                          priority="high"), now=NOW)
    assert urgent.volume.tickets_by_classification == {"urgent": 1}


def test_an_empty_period_has_counts_of_zero_and_no_rates(session, world):
    figures = summary(session=session, period=Period(date(2025, 1, 1), date(2025, 1, 31), "UTC"), now=NOW)
    assert figures.satisfaction.surveys_offered == 0 and figures.satisfaction.response_rate is None
    assert figures.satisfaction.csat_mean is None and figures.satisfaction.nps is None
    assert figures.speed.first_response.median is None and figures.speed.queue_abandonment_rate is None
    assert figures.bot.containment_rate is None and figures.bot.top_unrecognised == []
    assert figures.volume.tickets_by_category == {}
    assert figures.sla.breaching_now == 2  # point-in-time: whatever the period


def test_days_are_counted_in_the_report_time_zone():
    berlin = Period(date(2026, 3, 2), date(2026, 3, 8), "Europe/Berlin")
    assert berlin.start == datetime(2026, 3, 1, 23, 0, tzinfo=timezone.utc)
    assert berlin.end == datetime(2026, 3, 8, 23, 0, tzinfo=timezone.utc)
    summer = Period(date(2026, 3, 28), date(2026, 3, 29), "Europe/Berlin")  # clocks go forward on the 29th
    assert summer.day_starts()[-1] - summer.day_starts()[-2] == timedelta(hours=23)
    assert WEEK.previous() == Period(date(2026, 2, 23), date(2026, 3, 1), "UTC")


def test_ranges_are_checked():
    today = date(2026, 3, 9)
    assert make_period(None, None, zone="UTC", max_days=366, today=today) == Period(date(2026, 2, 8), today, "UTC")
    with pytest.raises(PeriodError, match="after"):
        make_period(date(2026, 3, 9), date(2026, 3, 1), zone="UTC", max_days=366, today=today)
    with pytest.raises(PeriodError, match="at most 31 days"):
        make_period(date(2026, 1, 1), date(2026, 3, 1), zone="UTC", max_days=31, today=today)


def test_the_previous_period_is_as_many_days_just_before(session, world):
    figures = summary(session=session, period=WEEK, now=NOW, with_previous=True)
    before = figures.previous
    assert (before.first, before.last, before.previous) == (date(2026, 2, 23), date(2026, 3, 1), None)
    assert before.bot.conversations == 1 and before.bot.fallback_rate == 1          # c8: "too early"
    assert before.satisfaction.csat_mean == 1 and before.speed.queue_abandonment_rate == 1
    assert before.volume.complaints == 1                                            # FB-0


def test_the_sla_watch_lists_breaches_first_then_what_is_due_within_the_hour(session, world):
    watch = sla_watch(session=session, now=NOW)
    assert [(t.reference, t.missed, t.due_soon, t.next_due) for t in watch] == [
        ("T0", ["first_response", "resolution"], None, at(1, 11)),
        ("T2", ["first_response", "resolution"], None, at(6, 14)),
        ("T4", [], "first_response", NOW + timedelta(minutes=30))]
    assert [t.reference for t in sla_watch(session=session, filters=ReportFilters(owner="bot"), now=NOW)] == ["T2"]

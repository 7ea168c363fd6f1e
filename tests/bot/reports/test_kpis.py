"""Every KPI against a small world whose answers were worked out by hand (in the comments; the
world is in world.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.reports.kpis import sla_watch, summary
from bot.reports.period import Period, PeriodError, ReportFilters, make_period
from tests.bot.reports.world import NOW, WEEK, at, survey, ticket


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
    assert v.tickets_by_channel == {"chat": 5}
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


def test_each_channel(session, world):
    # Add to the world: a ticket that came in by e-mail (T6, resolved in 2 h), and its survey answered on
    # the ticket's page.
    ticket(session, "T6", at(5), category="billing", priority="normal", classification="routine", status="resolved",
           reply=3600, resolve=7200, channel="email")
    survey(session, "ticket:T6", at(5, 13), True, channel="page", csat=1, solved=0)

    everything = summary(session=session, period=WEEK, now=NOW)
    assert everything.volume.tickets_by_channel == {"chat": 5, "email": 1}
    assert everything.satisfaction.surveys_offered == 6 and everything.satisfaction.csat_answers == 5

    email = summary(session=session, period=WEEK, filters=ReportFilters(channel="email"), now=NOW)
    assert email.volume.tickets == 1 and email.volume.tickets_by_channel == {"email": 1}
    assert email.speed.resolution.median == 7200 and email.sla.breaching_now == 0
    assert (email.bot.conversations, email.speed.handoff_wait.count, email.volume.feedback) == (0, 0, 0)
    assert email.satisfaction.surveys_offered == 0     # its survey was answered on the page

    page = summary(session=session, period=WEEK, filters=ReportFilters(channel="page"), now=NOW)
    assert (page.satisfaction.surveys_offered, page.satisfaction.csat_mean) == (1, 1)
    assert page.satisfaction.solved_rate == 0 and page.volume.tickets == 0 and page.bot.conversations == 0

    chat = summary(session=session, period=WEEK, filters=ReportFilters(channel="chat"), now=NOW)
    assert (chat.volume.tickets, chat.bot.conversations, chat.volume.feedback) == (5, 7, 4)
    assert chat.satisfaction.surveys_offered == 5 and chat.satisfaction.csat_mean == pytest.approx(14 / 4)
    assert chat.speed.handoff_wait.count == 3 and chat.sla.breaching_now == 2
    assert chat.bot.fallback_rate == pytest.approx(3 / 10)


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


def test_daily_series_are_the_summary_over_each_day(session, world):
    from bot.reports.kpis import timeseries

    chats = timeseries(session=session, metric="conversations", period=WEEK, now=NOW)
    assert chats == [(date(2026, 3, day), n) for day, n in zip(range(2, 9), [2, 1, 1, 1, 1, 1, 0], strict=True)]
    csat = [value for _, value in timeseries(session=session, metric="csat_mean", period=WEEK, now=NOW)]
    assert csat == [4, 5, 2, None, None, 3, None]  # c1 on Monday, c3, c4, then c9 on Saturday
    waits = [value for _, value in timeseries(session=session, metric="handoff_wait_median", period=WEEK, now=NOW)]
    assert waits == [None, 120, 300, None, None, 60, None]

"""Themes in low-score comments: lemmas and two-word phrases, stop words out, counted by the
comments that use them, each pointing back to those comments (SQLite and PostgreSQL)."""

from __future__ import annotations

from bot.reports.period import ReportFilters
from bot.reports.themes import find_themes, terms
from tests.bot.reports.world import WEEK, comment


def test_lemmas_without_stop_words():
    assert terms("The deliveries were LATE!") == {"delivery", "late", "delivery late"}


def test_the_commonest_themes_of_unhappy_comments(session, world):
    one = comment(session, "t1", 1, "The delivery was late again")
    two = comment(session, "t2", 2, "Late deliveries every time, and nobody answered")
    three = comment(session, "t3", 1, "Your agent was rude. Delivery late.")
    comment(session, "t4", 5, "Great service, delivery late but fine")  # a happy customer: left out
    five = comment(session, "t5", 2, "nobody answered my emails")
    comment(session, "t6", 1, "late delivery", day=20)  # outside the period
    found = find_themes(session=session, period=WEEK, max_score=2)
    assert [(theme.term, theme.comments, theme.response_ids) for theme in found.themes[:4]] == [
        ("delivery", 3, sorted([one, two, three])), ("late", 3, sorted([one, two, three])),
        ("delivery late", 2, sorted([one, three])), ("answer", 2, sorted([two, five]))]
    assert sorted(c.response_id for c in found.comments) == sorted([one, two, three, five])
    assert all(theme.comments >= 2 for theme in found.themes)
    assert find_themes(session=session, period=WEEK, max_score=2, filters=ReportFilters(owner="human")).themes == []

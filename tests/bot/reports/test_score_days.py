"""survey_score_days: scored answers counted per UTC day of the offer, which the unfiltered
summary reads instead of every answer; survey_questions_seen: the export's answer columns. Both
kept by the ORM on every answer change. A report day in another time zone takes the whole UTC
days from survey_score_days and the edges from the answers."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import select

from bot.reports.kpis import score_counts, split_utc_days, summary
from bot.reports.period import Period, ReportFilters
from bot.reports.rollups import rebuild_answer_summaries
from bot.surveys.models import (
    SurveyAnswer,
    SurveyOfferDay,
    SurveyQuestionSeen,
    SurveyResponse,
    SurveyScoreDay,
)
from bot.surveys.service import complete_survey, record_answer, start_survey
from tests.bot.reports.world import NOW, at, survey
from tests.factories import make_survey_definition


def stored_days(session) -> Counter:
    rows = session.execute(select(SurveyScoreDay.day, SurveyScoreDay.question_key, SurveyScoreDay.question_type,
                                  SurveyScoreDay.position, SurveyScoreDay.score, SurveyScoreDay.answers))
    return Counter({tuple(row[:5]): row[5] for row in rows if row[5]})


def offer_days(session) -> dict:
    rows = session.execute(select(SurveyOfferDay.day, SurveyOfferDay.offered, SurveyOfferDay.completed))
    return {day: (offered, completed) for day, offered, completed in rows if offered}


def questions_seen(session) -> set:
    return set(session.execute(select(SurveyQuestionSeen.survey_key, SurveyQuestionSeen.survey_version,
                                      SurveyQuestionSeen.question_key, SurveyQuestionSeen.question_type,
                                      SurveyQuestionSeen.position)).all())


def counted_from_answers(session, start: datetime, end: datetime) -> Counter:
    """What score_counts should say, worked out from the answers one by one."""
    counts: Counter = Counter()
    for answer in session.scalars(select(SurveyAnswer).join(SurveyResponse)):
        if answer.score is not None and start <= answer.response.started_at < end:
            counts[(answer.question_key, answer.question_type, answer.position, answer.score)] += 1
    return counts


def test_whole_utc_days_and_the_edges_left_over():
    assert split_utc_days(at(2, 0), at(9, 0)) == ([], (date(2026, 3, 2), date(2026, 3, 9)))
    # Berlin's 2-8 March: 23:00 on the 1st to 23:00 on the 8th, UTC.
    assert split_utc_days(at(1, 23), at(8, 23)) == ([(at(1, 23), at(2, 0)), (at(8, 0), at(8, 23))],
                                                    (date(2026, 3, 2), date(2026, 3, 8)))
    # Less than a whole UTC day: all from the answers.
    assert split_utc_days(at(1, 23), at(2, 23)) == ([(at(1, 23), at(2, 23))], None)
    assert split_utc_days(at(2, 5), at(2, 6)) == ([(at(2, 5), at(2, 6))], None)


def test_the_day_counts_follow_every_answer_written_changed_or_deleted(session):
    definition = make_survey_definition()
    questions = definition.questions
    first = start_survey(session=session, conversation_id="d1", definition=definition, now=at(3, 23, 59))
    record_answer(session=session, response=first, question=questions[0], position=0, value=2)
    record_answer(session=session, response=first, question=questions[0], position=0, value=5)  # changed mind
    second = start_survey(session=session, conversation_id="d2", definition=definition, now=at(4, 0, 1))
    record_answer(session=session, response=second, question=questions[0], position=0, value=5)
    gone = start_survey(session=session, conversation_id="d3", definition=definition, now=at(4, 9))
    record_answer(session=session, response=gone, question=questions[0], position=0, value=1)
    survey(session, "d4", at(4, 10), True, csat=4, solved=1, speed=3)
    text_question = next(q for q in questions if q.type == "text")
    record_answer(session=session, response=second, question=text_question, position=5, value="fine")
    complete_survey(session=session, response=second)
    session.delete(gone)
    session.flush()

    headline = (questions[0].key, questions[0].type, 0)
    kept = stored_days(session)
    assert kept[(date(2026, 3, 3), *headline, 5)] == 1       # 2 then 5: counted once, as 5
    assert kept[(date(2026, 3, 3), *headline, 2)] == 0
    assert kept[(date(2026, 3, 4), *headline, 5)] == 1       # the offer's UTC day, not the answer's
    assert kept[(date(2026, 3, 4), *headline, 1)] == 0       # its response was deleted
    assert sum(kept.values()) == 2 + 3                       # no text answers
    offers = offer_days(session)
    assert offers == {date(2026, 3, 3): (1, 0), date(2026, 3, 4): (2, 2)}  # d1; d2 and d4 complete; d3 gone
    seen = questions_seen(session)
    assert seen == {("test", 3, "csat", "rating_1_5", 0), ("test", 3, "comment", "text", 5),
                    ("default", 1, "csat", "rating_1_5", 0), ("default", 1, "solved", "yes_no", 1),
                    ("default", 1, "speed", "rating_1_5", 2)}
    rebuild_answer_summaries(session.connection())
    assert stored_days(session) == kept
    assert questions_seen(session) == seen
    assert offer_days(session) == offers


def test_a_report_day_in_another_time_zone_adds_the_edges_to_whole_days(session, world):
    # Kolkata (+05:30): 2-8 March is 18:30 UTC on the 1st to 18:30 UTC on the 8th.
    kolkata = Period(date(2026, 3, 2), date(2026, 3, 8), "Asia/Kolkata")
    survey(session, "e1", at(1, 18, 29), True, csat=1)          # before the period
    survey(session, "e2", at(1, 18, 30), True, csat=2, speed=2)  # its first instant, a left edge
    survey(session, "e3", at(8, 18, 29), True, csat=3)           # its last minute, a right edge
    survey(session, "e4", at(8, 18, 30), True, csat=4)           # after it
    expected = counted_from_answers(session, kolkata.start, kolkata.end)
    assert expected[("csat", "rating_1_5", 0, 2)] >= 1 and expected[("csat", "rating_1_5", 0, 1)] == 0
    assert score_counts(session, kolkata, ReportFilters()) == expected
    figures = summary(session=session, period=kolkata, now=NOW).satisfaction
    responses = [r for r in session.scalars(select(SurveyResponse)) if kolkata.start <= r.started_at < kolkata.end]
    assert (figures.surveys_offered, figures.surveys_completed) == (len(responses),
                                                                    sum(r.completed for r in responses))
    headline = {score: n for (key, _, position, score), n in expected.items() if position == 0}
    assert figures.csat_answers == sum(headline.values())
    assert figures.csat_mean == sum(score * n for score, n in headline.items()) / sum(headline.values())

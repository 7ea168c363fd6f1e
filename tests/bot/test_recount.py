"""`python -m bot db recount`: rows written around the application (an import, a bulk load) get
the figures the reports keep alongside them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, text

from bot import migrate
from bot.cli import build_parser
from bot.conversations.models import Conversation
from bot.db import make_engine
from bot.surveys.models import SurveyOfferDay, SurveyQuestionSeen, SurveyScoreDay
from bot.tickets.models import Ticket


def test_recount_fills_what_rows_loaded_in_bulk_lack(tmp_path):
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    migrate.upgrade(url=url)
    engine = make_engine(url)
    with engine.begin() as connection:  # as an import would: plain SQL, no application code
        connection.execute(text(
            "INSERT INTO conversations (id, token_hash, state, channel, meta, created_at, updated_at) "
            "VALUES ('c1', 'x', 'closed', 'web', '{}', '2026-03-02 10:00:00', '2026-03-02 10:30:00')"))
        connection.execute(text(
            "INSERT INTO messages (conversation_id, sender, text, created_at) VALUES "
            "('c1', 'bot', 'Hello', '2026-03-02 10:00:00'), ('c1', 'customer', 'hi', '2026-03-02 10:01:00'), "
            "('c1', 'customer', 'a person', '2026-03-02 10:02:00')"))
        connection.execute(text(
            "INSERT INTO handoffs (conversation_id, status, reason, requested_at) "
            "VALUES ('c1', 'cancelled', 'requested', '2026-03-02 10:03:00')"))
        connection.execute(text(
            "INSERT INTO tickets (reference, subject, description, category, priority, classification, "
            "classification_reason, status, conversation_id, channel, created_at, updated_at, first_response_due, "
            "resolution_due, first_responded_at, resolved_at) VALUES ('TCK-AAAAAA', 's', 'd', 'other', 'normal', "
            "'routine', '', 'resolved', 'c1', 'chat', '2026-03-02 10:05:00', '2026-03-02 12:05:00', "
            "'2026-03-02 14:05:00', '2026-03-04 10:05:00', '2026-03-02 10:35:00', '2026-03-02 12:05:00')"))
        connection.execute(text(
            "INSERT INTO survey_responses (id, conversation_id, survey_key, survey_version, channel, started_at, "
            "completed) VALUES (1, 'c1', 'default', 2, 'chat', '2026-03-02 23:59:00', 1)"))
        connection.execute(text(
            "INSERT INTO survey_answers (response_id, question_key, question_type, question_text, position, score, "
            "text, answered_at) VALUES (1, 'csat', 'rating_1_5', 'q', 0, 4, NULL, '2026-03-03 00:01:00'), "
            "(1, 'comment', 'text', 'q', 1, NULL, 'fine', '2026-03-03 00:02:00')"))

    migrate.recount(url)

    with engine.connect() as connection:
        assert connection.execute(select(Conversation.customer_lines, Conversation.asked_for_person,
                                         Conversation.has_ticket)).one() == (2, True, True)
        assert connection.execute(select(Ticket.first_response_seconds, Ticket.resolution_seconds)).one() == (
            1800, 7200)
        assert [tuple(row) for row in connection.execute(select(SurveyOfferDay.day, SurveyOfferDay.offered,
                                                                SurveyOfferDay.completed))] == [
            (date(2026, 3, 2), 1, 1)]
        assert connection.execute(select(SurveyScoreDay.question_key, SurveyScoreDay.score,
                                         SurveyScoreDay.answers)).all() == [("csat", 4, 1)]
        assert set(connection.execute(select(SurveyQuestionSeen.question_key, SurveyQuestionSeen.position))) == {
            ("csat", 0), ("comment", 1)}
    engine.dispose()


def test_the_command_line_knows_recount():
    assert build_parser().parse_args(["db", "recount"]).action == "recount"

"""Survey service: one response per conversation, answers stored as they come, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.surveys.service import (
    SurveyError,
    complete_survey,
    get_response,
    headline_score,
    open_recovery_ticket,
    record_answer,
    start_survey,
)
from bot.tickets.models import Ticket
from tests.factories import NOW, make_survey_definition, make_survey_response, plain_settings

DEFINITION = make_survey_definition()
CSAT, SOLVED, COMMENT = DEFINITION.questions


def answer(session, response, question, value, *, position=None, now=NOW):
    position = DEFINITION.questions.index(question) if position is None else position
    return record_answer(session=session, response=response, question=question, position=position,
                         value=value, now=now)


def stored_answers(session, response) -> list[tuple[str, int | None, str | None]]:
    rows = session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.response_id == response.id).order_by(SurveyAnswer.position)
    )
    return [(row.question_key, row.score, row.text) for row in rows]


def ticket_count(session) -> int:
    return session.scalar(select(func.count(Ticket.id)))


# --- one response per conversation --------------------------------------------------------


def test_survey_starts_incomplete_with_the_definition_it_was_started_from(session):
    response = make_survey_response(
        session, conversation_id="conv-1", customer_email="ada@example.com", agent="sam", channel="web"
    )
    session.expire_all()

    stored = get_response(session=session, conversation_id="conv-1")

    assert stored.id == response.id
    assert (stored.survey_key, stored.survey_version) == ("test", 3)
    assert (stored.customer_email, stored.agent, stored.channel) == ("ada@example.com", "sam", "web")
    assert stored.completed is False
    assert stored.completed_at is None
    assert stored.started_at == NOW


def test_second_survey_in_the_same_conversation_is_refused(session):
    make_survey_response(session, conversation_id="conv-1")

    with pytest.raises(SurveyError, match="already has a survey response"):
        start_survey(session=session, conversation_id="conv-1", definition=DEFINITION, now=NOW)

    assert session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_database_refuses_a_second_response_for_the_same_conversation(session):
    make_survey_response(session, conversation_id="conv-1")

    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(SurveyResponse(conversation_id="conv-1", survey_key="test", survey_version=3, started_at=NOW))
        session.flush()

    assert session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_other_conversations_get_their_own_survey(session):
    make_survey_response(session, conversation_id="conv-1")
    make_survey_response(session, conversation_id="conv-2")

    assert session.scalar(select(func.count(SurveyResponse.id))) == 2


# --- answers ------------------------------------------------------------------------------


def test_each_answer_is_stored_at_once_and_the_survey_stays_incomplete(session):
    response = make_survey_response(session)

    answer(session, response, CSAT, 4)
    assert stored_answers(session, response) == [("csat", 4, None)]
    answer(session, response, SOLVED, 1)
    answer(session, response, COMMENT, "Quick and kind.")

    session.expire_all()
    assert stored_answers(session, response) == [
        ("csat", 4, None),
        ("solved", 1, None),
        ("comment", None, "Quick and kind."),
    ]
    assert session.get(SurveyResponse, response.id).completed is False


def test_completing_the_survey_marks_it_complete_and_closes_it_to_answers(session):
    response = make_survey_response(session)
    answer(session, response, CSAT, 5)

    complete_survey(session=session, response=response, now=NOW + timedelta(minutes=2))
    session.expire_all()

    stored = session.get(SurveyResponse, response.id)
    assert stored.completed is True
    assert stored.completed_at == NOW + timedelta(minutes=2)
    with pytest.raises(SurveyError, match="already complete"):
        answer(session, stored, SOLVED, 1)
    assert stored_answers(session, stored) == [("csat", 5, None)]


def test_answering_a_question_again_replaces_the_answer(session):
    response = make_survey_response(session)
    answer(session, response, CSAT, 2, now=NOW)

    answer(session, response, CSAT, 4, now=NOW + timedelta(minutes=1))
    session.expire_all()

    rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id)).all()
    assert [(row.question_key, row.score, row.answered_at) for row in rows] == [
        ("csat", 4, NOW + timedelta(minutes=1))
    ]
    assert headline_score(session=session, response=response) == 4


def test_answer_keeps_the_question_wording_and_type_as_asked(session):
    response = make_survey_response(session)

    answer(session, response, SOLVED, 0)
    session.expire_all()

    row = session.scalar(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
    assert row.question_key == "solved"
    assert row.question_type == "yes_no"
    assert row.question_text == "Did we solve your problem?"
    assert row.position == 1
    assert row.score == 0


def test_customer_who_leaves_mid_survey_keeps_the_answers_given(session):
    response = make_survey_response(session, conversation_id="conv-left")
    answer(session, response, CSAT, 3)
    answer(session, response, SOLVED, 0)
    session.commit()  # the conversation ends here; nothing else happens
    session.expire_all()

    stored = get_response(session=session, conversation_id="conv-left")

    assert stored.completed is False
    assert [(a.question_key, a.score) for a in stored.answers] == [("csat", 3), ("solved", 0)]


# --- service recovery -----------------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 2])
def test_low_first_score_opens_one_high_priority_recovery_ticket(session, score):
    response = make_survey_response(session, conversation_id="conv-sad", customer_email="ada@example.com")
    answer(session, response, CSAT, score)
    answer(session, response, COMMENT, "Nobody listened.")

    ticket = open_recovery_ticket(session=session, response=response, customer_name="Ada Lovelace",
                                  settings=plain_settings(), now=NOW)

    assert ticket is not None
    assert ticket.priority == "high"
    assert ticket.first_response_due == NOW + timedelta(hours=4)
    assert ticket.subject == f"Service recovery: satisfaction score {score}"
    assert ticket.customer_email == "ada@example.com"
    assert ticket.customer_name == "Ada Lovelace"
    assert ticket.conversation_id == "conv-sad"
    assert ticket.category == "other"
    assert "Nobody listened." in ticket.description
    assert session.get(SurveyResponse, response.id).recovery_ticket_id == ticket.id
    assert ticket_count(session) == 1


@pytest.mark.parametrize("score", [3, 4, 5])
def test_first_score_of_three_or_more_opens_no_ticket(session, score):
    response = make_survey_response(session)
    answer(session, response, CSAT, score)

    assert open_recovery_ticket(session=session, response=response, settings=plain_settings(), now=NOW) is None
    assert response.recovery_ticket_id is None
    assert ticket_count(session) == 0


def test_unanswered_survey_opens_no_recovery_ticket(session):
    response = make_survey_response(session)

    assert open_recovery_ticket(session=session, response=response, settings=plain_settings(), now=NOW) is None
    assert ticket_count(session) == 0


def test_low_score_on_a_later_question_opens_no_ticket(session):
    response = make_survey_response(session)
    answer(session, response, CSAT, 5)
    answer(session, response, SOLVED, 0)

    assert open_recovery_ticket(session=session, response=response, settings=plain_settings(), now=NOW) is None


def test_recovery_threshold_comes_from_the_settings(session):
    response = make_survey_response(session)
    answer(session, response, CSAT, 3)

    ticket = open_recovery_ticket(
        session=session, response=response, settings=plain_settings(recovery_score_threshold=3), now=NOW
    )

    assert ticket is not None
    assert ticket.priority == "high"


def test_recovery_ticket_is_opened_only_once(session):
    response = make_survey_response(session)
    answer(session, response, CSAT, 1)

    first = open_recovery_ticket(session=session, response=response, settings=plain_settings(), now=NOW)
    again = open_recovery_ticket(session=session, response=response, settings=plain_settings(),
                                 now=NOW + timedelta(minutes=5))

    assert again.id == first.id
    assert ticket_count(session) == 1

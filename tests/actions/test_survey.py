"""Survey actions: questions from the survey file, each answer stored as it is given."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.survey import ActionAskSurveyAnswer, ActionStopSurvey, ActionSubmitSurvey, ValidateSurveyForm
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.tickets.models import Ticket
from tests.actions.conftest import make_tracker, slot_events, texts


async def _answer(domain, text, index, intent="inform", confidence=0.9, entities=None, slots=None):
    tracker = make_tracker(text, intent=intent, confidence=confidence, entities=entities,
                           active_loop="survey_form", requested_slot="survey_answer",
                           slots={"survey_question_index": float(index), **(slots or {})})
    dispatcher = CollectingDispatcher()
    events = await ValidateSurveyForm().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def test_first_question_opens_the_response_and_offers_rating_buttons(app_db, domain):
    dispatcher = CollectingDispatcher()
    await ActionAskSurveyAnswer().run(dispatcher, make_tracker(slots={"survey_question_index": 0.0}), domain)
    assert texts(dispatcher)[0].startswith("(1/6) Overall, how satisfied")
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]][0] == "1 - very poor"
    with Session(app_db) as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert response.conversation_id == "conversation-1" and not response.completed


async def test_typed_answers_are_understood_and_stored_at_once(app_db, domain):
    for index, text in enumerate(["five", "yes it did", "very good", "4/5", "3"]):
        _, slots = await _answer(domain, text, index)
        assert slots["survey_question_index"] == index + 1
    with Session(app_db) as session:
        answers = session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.position)).all()
        assert [(a.question_key, a.score) for a in answers] == [
            ("csat", 5), ("solved", 1), ("speed", 5), ("solution", 4), ("courtesy", 3)]
        assert not session.scalars(select(SurveyResponse)).one().completed


async def test_button_answer_is_taken_from_the_entity(app_db, domain):
    _, slots = await _answer(domain, '/inform{"survey_answer":"2"}', 0,
                             entities=[{"entity": "survey_answer", "value": "2"}])
    assert slots["survey_question_index"] == 1


async def test_unclear_answer_is_asked_again_with_a_hint(app_db, domain):
    dispatcher, slots = await _answer(domain, "banana", 0, intent="out_of_scope")
    assert "survey_question_index" not in slots
    assert "number from 1" in texts(dispatcher)[0]


async def test_faq_during_the_survey_is_left_to_the_faq_rule(app_db, domain):
    _, slots = await _answer(domain, "what is your return policy?", 2, intent="faq", confidence=0.95)
    assert "survey_answer" not in slots


async def test_no_is_an_answer_not_a_refusal(app_db, domain):
    _, slots = await _answer(domain, "no", 1, intent="deny")
    assert slots["survey_question_index"] == 2


async def test_optional_comment_can_be_skipped(app_db, domain):
    _, slots = await _answer(domain, "skip", 5, intent="stop", confidence=0.8)
    assert slots["survey_question_index"] == 6


async def test_low_first_score_opens_one_high_priority_recovery_ticket(app_db, domain):
    await _answer(domain, "1", 0)
    tracker = make_tracker(slots={"customer_email": "dana@example.com", "customer_name": "Dana"})
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitSurvey().run(dispatcher, tracker, domain)
    with Session(app_db) as session:
        ticket = session.scalars(select(Ticket)).one()
        response = session.scalars(select(SurveyResponse)).one()
        assert ticket.priority == "high" and ticket.customer_email == "dana@example.com"
        assert response.recovery_ticket_id == ticket.id and response.completed
        assert response.customer_email == "dana@example.com"  # given after the survey was offered
    assert ticket.reference in texts(dispatcher)[0] and "sorry" in texts(dispatcher)[0].lower()
    # The unhappy customer may talk to a person at once; the ticket is remembered for that.
    assert dispatcher.messages[0]["buttons"] == [{"title": "Talk to someone now", "payload": "/request_human"}]
    assert slot_events(events)["last_ticket_ref"] == ticket.reference


async def test_good_score_opens_no_ticket(app_db, domain):
    await _answer(domain, "4", 0)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitSurvey().run(dispatcher, make_tracker(), domain)
    with Session(app_db) as session:
        assert session.scalars(select(Ticket)).first() is None
    assert "Thank you" in texts(dispatcher)[0]
    assert not dispatcher.messages[0].get("buttons") and "last_ticket_ref" not in slot_events(events)


async def test_leaving_mid_survey_keeps_answers_marked_incomplete(app_db, domain):
    await _answer(domain, "2", 0)
    await _answer(domain, "yes", 1)
    dispatcher = CollectingDispatcher()
    await ActionStopSurvey().run(dispatcher, make_tracker("stop", intent="stop"), domain)
    with Session(app_db) as session:
        response = session.scalars(select(SurveyResponse)).one()
        assert not response.completed and len(response.answers) == 2
        assert response.recovery_ticket_id is not None  # 2 is a low score
    assert "stopped the survey" in texts(dispatcher)[0]


async def test_comment_that_reads_like_an_faq_is_kept_as_the_comment(app_db, domain):
    _, slots = await _answer(domain, "You never answered my emails.", 5, intent="faq", confidence=0.9)
    assert slots["survey_question_index"] == 6
    with Session(app_db) as session:
        assert session.scalars(select(SurveyAnswer.text)).one() == "You never answered my emails."


async def test_low_score_without_known_email_asks_for_one_at_the_end(app_db, domain):
    _, slots = await _answer(domain, "1", 0)
    assert slots["recovery_contact_wanted"] is True
    tracker = make_tracker("no", intent="deny", active_loop="survey_form", requested_slot="survey_answer",
                           slots={"survey_question_index": 5.0, "recovery_contact_wanted": True})
    events = await ValidateSurveyForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["requested_slot"] == "customer_email"


async def test_email_given_after_a_low_score_goes_on_the_recovery_ticket(app_db, domain):
    await _answer(domain, "2", 0)
    tracker = make_tracker("it's dana@example.com", active_loop="survey_form", requested_slot="customer_email",
                           slots={"survey_question_index": 6.0, "recovery_contact_wanted": True})
    events = await ValidateSurveyForm().run(CollectingDispatcher(), tracker, domain)
    slots = slot_events(events)
    assert slots["customer_email"] == "dana@example.com" and slots["requested_slot"] is None
    dispatcher = CollectingDispatcher()
    await ActionSubmitSurvey().run(dispatcher, make_tracker(slots={"customer_email": "dana@example.com"}), domain)
    with Session(app_db) as session:
        assert session.scalars(select(Ticket.customer_email)).one() == "dana@example.com"
    assert "contact you" in texts(dispatcher)[0]


async def test_skipping_the_contact_question_ends_the_survey(app_db, domain):
    tracker = make_tracker("skip", intent="stop", active_loop="survey_form", requested_slot="customer_email",
                           slots={"survey_question_index": 6.0, "recovery_contact_wanted": True})
    events = await ValidateSurveyForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events) == {"recovery_contact_wanted": False, "requested_slot": None}


async def test_the_response_records_the_agent_who_handled_the_conversation(app_db, domain):
    tracker = make_tracker(slots={"survey_question_index": 0.0, "handled_by_agent": "Sam"})
    await ActionAskSurveyAnswer().run(CollectingDispatcher(), tracker, domain)
    with Session(app_db) as session:
        assert session.scalars(select(SurveyResponse)).one().agent == "Sam"

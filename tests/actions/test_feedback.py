"""Feedback actions."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.feedback import ActionSubmitFeedback, ValidateFeedbackForm
from bot.feedback.models import Feedback
from tests.actions.conftest import make_tracker, slot_events, texts


async def test_complaint_wording_prefills_the_category_and_text(app_db, domain):
    tracker = make_tracker("I want to complain: the courier left my parcel in the rain and it was soaked",
                           intent="give_feedback", active_loop="feedback_form")
    events = await ValidateFeedbackForm().run(CollectingDispatcher(), tracker, domain)
    slots = slot_events(events)
    assert slots["feedback_category"] == "complaint"
    assert "courier" in slots["feedback_text"]


async def test_anonymous_feedback_keeps_no_identity(app_db, domain):
    tracker = make_tracker("", sender_id="conv-9", slots={
        "feedback_category": "suggestion", "feedback_text": "Please add Apple Pay",
        "feedback_anonymous": True, "customer_name": "Dana", "customer_email": "dana@example.com"})
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitFeedback().run(dispatcher, tracker, domain)
    with Session(app_db) as session:
        item = session.scalars(select(Feedback)).one()
        assert (item.customer_name, item.customer_email, item.conversation_id) == (None, None, None)
        assert item.anonymous and item.text == "Please add Apple Pay"
        assert (item.created_at.minute, item.created_at.second, item.created_at.microsecond) == (0, 0, 0)
    # Issue 17: the chat gets no reference to find the item by, and the API is told which words to forget.
    assert item.reference not in texts(dispatcher)[0] and "recorded anonymously" in texts(dispatcher)[0]
    assert dispatcher.messages[0]["custom"] == {"feedback": {"anonymous": True, "forget": "Please add Apple Pay"}}
    assert slot_events(events)["feedback_text"] is None


async def test_named_feedback_asks_for_an_email_when_none_is_known(app_db, domain):
    tracker = make_tracker("no", intent="deny", active_loop="feedback_form", requested_slot="feedback_anonymous",
                           slots={"feedback_category": "product", "feedback_text": "Lovely kettle"})
    events = await ValidateFeedbackForm().run(CollectingDispatcher(), tracker, domain)
    slots = slot_events(events)
    assert slots["feedback_anonymous"] is False
    assert slots["requested_slot"] == "customer_email"


async def test_named_feedback_is_linked_to_the_customer(app_db, domain):
    tracker = make_tracker("", sender_id="conv-10", slots={
        "feedback_category": "complaint", "feedback_text": "Rude driver", "feedback_anonymous": False,
        "customer_email": "dana@example.com"})
    dispatcher = CollectingDispatcher()
    await ActionSubmitFeedback().run(dispatcher, tracker, domain)
    with Session(app_db) as session:
        item = session.scalars(select(Feedback)).one()
        assert item.customer_email == "dana@example.com" and item.conversation_id == "conv-10"
    assert "get back to you" in texts(dispatcher)[0]
    # A complaint is feedback; what needs fixing can still become a ticket.
    assert dispatcher.messages[1]["buttons"] == [{"title": "Open a ticket", "payload": "/open_ticket"}]


async def test_a_suggestion_gets_no_ticket_offer(app_db, domain):
    tracker = make_tracker("", sender_id="conv-11", slots={
        "feedback_category": "suggestion", "feedback_text": "Add dark mode", "feedback_anonymous": True})
    dispatcher = CollectingDispatcher()
    await ActionSubmitFeedback().run(dispatcher, tracker, domain)
    assert len(dispatcher.messages) == 1 and not dispatcher.messages[0].get("buttons")


async def test_email_typed_for_named_feedback_is_taken(app_db, domain):
    tracker = make_tracker("kim@example.com", active_loop="feedback_form", requested_slot="customer_email",
                           slots={"feedback_category": "complaint", "feedback_text": "Rude driver",
                                  "feedback_anonymous": False})
    events = await ValidateFeedbackForm().run(CollectingDispatcher(), tracker, domain)
    slots = slot_events(events)
    assert slots["customer_email"] == "kim@example.com"
    assert slots["requested_slot"] is None


async def test_unexpected_button_mid_form_keeps_the_form_asking(app_db, domain):
    tracker = make_tracker('/inform{"survey_answer":"5"}', active_loop="feedback_form",
                           requested_slot="feedback_text", slots={"feedback_category": "suggestion"},
                           entities=[{"entity": "survey_answer", "value": "5"}])
    events = await ValidateFeedbackForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events) == {"feedback_text": None}


async def test_topic_button_tapped_later_changes_the_topic(app_db, domain):
    tracker = make_tracker('/inform{"feedback_category":"process"}', active_loop="feedback_form",
                           requested_slot="feedback_text", slots={"feedback_category": "suggestion"},
                           entities=[{"entity": "feedback_category", "value": "process"}])
    events = await ValidateFeedbackForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_events(events)["feedback_category"] == "process"

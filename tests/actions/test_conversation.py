"""Conversation-level actions: survey offer, handoff signal, cancelling, fallback wording."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.conversation import (
    ActionCancelForm,
    ActionDefaultAskAffirmation,
    ActionDefaultFallback,
    ActionEndConversation,
    ActionHandoffDone,
    ActionOfferSecondRequest,
    ActionReadDetails,
    ActionRequestHuman,
    ActionSessionStart,
)
from bot.db import transaction
from bot.surveys.models import SurveyResponse
from tests.actions.conftest import SHIPPING_ANSWER, beside_a_question, make_tracker, slot_events, texts

FAQ_ANSWERED = [{"event": "action", "name": "utter_faq"}]


def asking_two_things(text: str, rest: str, *, active_loop: str | None = None):
    """The tracker for a line the NLU read for its first request, an FAQ question (nlu.meaning)."""
    tracker = make_tracker(text, intent="faq", active_loop=active_loop,
                           requested_slot="ticket_description" if active_loop else None)
    tracker.latest_message["response_selector"] = {"faq": {"response": {
        "confidence": 0.9, "intent_response_key": "faq/return_policy", "utter_action": "utter_faq/return_policy"}}}
    tracker.latest_message["second_request"] = {"text": rest}
    return tracker


async def test_after_an_faq_answer_to_a_line_with_one_question_nothing_more_is_said(domain):
    tracker = asking_two_things("how do returns work", "")
    del tracker.latest_message["second_request"]
    dispatcher = CollectingDispatcher()
    assert await ActionOfferSecondRequest().run(dispatcher, tracker, domain) == []
    assert dispatcher.messages == []


async def test_the_second_of_two_questions_is_offered_next_as_a_button(domain):
    dispatcher = CollectingDispatcher()
    await ActionOfferSecondRequest().run(dispatcher, asking_two_things(
        "can I return worn shoes? and where is your store in Munich?", "where is your store in Munich?"), domain)
    [offer] = dispatcher.messages
    assert "first question" in offer["text"]
    second = "where is your store in Munich?"
    assert offer["buttons"] == [{"title": second, "payload": second}]


async def test_in_the_middle_of_a_form_the_second_question_is_kept_for_later_in_words(domain):
    # The form asks its question again after this answer, and only the newest line's buttons work.
    dispatcher = CollectingDispatcher()
    await ActionOfferSecondRequest().run(dispatcher, asking_two_things(
        "can I return worn shoes? btw /restart", "/restart", active_loop="ticket_form"), domain)
    [offer] = dispatcher.messages
    assert not offer.get("buttons")
    assert '"restart"' in offer["text"] and "once we're done" in offer["text"]  # never an intent name


async def test_a_second_question_too_long_for_a_button_is_asked_for_again(domain):
    dispatcher = CollectingDispatcher()
    await ActionOfferSecondRequest().run(dispatcher, asking_two_things("returns? and " + "x" * 501, "x" * 501),
                                         domain)
    [offer] = dispatcher.messages
    assert not offer.get("buttons") and "on its own" in offer["text"]


async def test_goodbye_after_an_faq_answer_offers_the_survey(app_db, domain):
    dispatcher = CollectingDispatcher()
    events = await ActionEndConversation().run(dispatcher, make_tracker("bye", intent="goodbye",
                                                                        events=FAQ_ANSWERED), domain)
    assert slot_events(events) == {"survey_offered": True}
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]


async def test_the_offer_is_stored_so_a_declined_survey_still_counts(app_db, domain):
    tracker = make_tracker("bye", intent="goodbye", events=FAQ_ANSWERED, slots={"customer_email": "ada@example.com"})
    await ActionEndConversation().run(CollectingDispatcher(), tracker, domain)
    with transaction() as session:
        [response] = session.scalars(select(SurveyResponse)).all()
        assert (response.conversation_id, response.customer_email, response.completed) == (
            tracker.sender_id, "ada@example.com", False)
        assert response.answers == []
    # Offered once per conversation: a later goodbye offers nothing more.
    again = CollectingDispatcher()
    assert await ActionEndConversation().run(again, make_tracker("bye", intent="goodbye", events=FAQ_ANSWERED),
                                             domain) == []
    with transaction() as session:
        assert len(session.scalars(select(SurveyResponse)).all()) == 1


async def test_goodbye_without_help_just_says_goodbye(app_db, domain):
    dispatcher = CollectingDispatcher()
    events = await ActionEndConversation().run(dispatcher, make_tracker("bye", intent="goodbye"), domain)
    assert events == [] and "Goodbye" in texts(dispatcher)[0]


async def test_survey_is_offered_only_once(app_db, domain):
    offered = [*FAQ_ANSWERED, {"event": "slot", "name": "survey_offered", "value": True}]
    dispatcher = CollectingDispatcher()
    events = await ActionEndConversation().run(dispatcher, make_tracker("thanks", intent="thank_you",
                                                                        events=offered), domain)
    assert events == [] and "welcome" in texts(dispatcher)[0]


async def test_request_human_sends_the_handoff_signal(domain):
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman().run(dispatcher, make_tracker("agent please", intent="request_human"), domain)
    assert {"handoff": {"reason": "requested"}} in [m.get("custom") for m in dispatcher.messages]


async def test_handoff_after_repeated_misunderstanding_says_why(domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/request_human", intent="request_human",
                           events=[{"event": "action", "name": "action_default_fallback"}])
    await ActionRequestHuman().run(dispatcher, tracker, domain)
    assert {"handoff": {"reason": "fallback"}} in [m.get("custom") for m in dispatcher.messages]


async def test_asking_for_a_person_right_after_a_low_score_is_a_recovery_handoff(domain):
    after_survey = [{"event": "action", "name": "action_submit_survey"}, {"event": "action", "name": "action_listen"}]
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman().run(dispatcher, make_tracker("/request_human", intent="request_human",
                                                            slots={"last_ticket_ref": "TCK-AAAAA2"},
                                                            events=after_survey), domain)
    assert {"handoff": {"reason": "recovery"}} in [m.get("custom") for m in dispatcher.messages]
    # After a good score (no recovery ticket), it is an ordinary request.
    dispatcher = CollectingDispatcher()
    await ActionRequestHuman().run(dispatcher, make_tracker("/request_human", intent="request_human",
                                                            events=after_survey), domain)
    assert {"handoff": {"reason": "requested"}} in [m.get("custom") for m in dispatcher.messages]


async def test_stop_forgets_the_half_filled_ticket(domain):
    tracker = make_tracker("stop", intent="stop", slots={"ticket_description": "half", "customer_email": "a@b.co"},
                           events=[{"event": "active_loop", "name": "ticket_form"},
                                   {"event": "active_loop", "name": None}])
    dispatcher = CollectingDispatcher()
    events = await ActionCancelForm().run(dispatcher, tracker, domain)
    slots = slot_events(events)
    assert slots["ticket_description"] is None and "customer_email" not in slots
    assert "no ticket was opened" in texts(dispatcher)[0]


async def test_session_start_keeps_the_customers_details(domain):
    tracker = make_tracker(slots={"customer_email": "a@b.co", "ticket_description": "x"})
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, domain)
    slots = slot_events(events)
    assert slots["customer_email"] == "a@b.co" and slots["company_name"] == "Brightside"
    assert "ticket_description" not in slots
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"


async def test_fallback_question_names_the_faq_topic_in_words(domain):
    tracker = make_tracker("shiping how long", intent="nlu_fallback")
    tracker.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.6},
                                                {"name": "faq", "confidence": 0.5}]
    tracker.latest_message["response_selector"] = {
        "faq": {"response": {"intent_response_key": "faq/shipping_times"}}}
    dispatcher = CollectingDispatcher()
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    assert "shipping times" in texts(dispatcher)[0]
    assert dispatcher.messages[0]["buttons"][1]["payload"] == "/out_of_scope"
    assert dispatcher.messages[-1]["custom"] == {"fallback": {"stage": "ask_affirmation"}}  # for the API only


async def test_a_fallback_with_no_guess_asks_to_rephrase_and_signals_it_too(domain):
    tracker = make_tracker("asdf qwer", intent="nlu_fallback")
    tracker.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.6}]
    dispatcher = CollectingDispatcher()
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_ask_rephrase"
    assert dispatcher.messages[-1]["custom"] == {"fallback": {"stage": "ask_affirmation"}}


async def test_the_last_resort_answers_forgets_the_line_and_flags_it(domain):
    # Rasa's core fallback: no policy is confident what to do after this line.
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, make_tracker("zzq wvvk", intent="nlu_fallback"), domain)
    assert dispatcher.messages[0]["response"] == "utter_first_miss"
    assert dispatcher.messages[-1]["custom"] == {"fallback": {"stage": "default"}}
    assert events == [{"event": "rewind", "timestamp": None}]  # UserUtteranceReverted, as Rasa's own does


async def test_a_first_miss_says_what_the_bot_can_do_and_only_a_second_says_still(domain):
    first = CollectingDispatcher()
    await ActionDefaultFallback().run(first, make_tracker("I was charged twice for order 48213", intent="inform"),
                                      domain)
    missed = [{"event": "user", "text": "zzq", "parse_data": {"intent": {"name": "inform"}}},
              {"event": "action", "name": "action_default_fallback"}, {"event": "rewind"},
              {"event": "action", "name": "action_listen"}]
    second = CollectingDispatcher()
    await ActionDefaultFallback().run(second, make_tracker("wvvk again", intent="inform", events=missed), domain)
    understood = [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
                  {"event": "action", "name": "utter_greet"}, {"event": "action", "name": "action_listen"}]
    after_an_answer = CollectingDispatcher()
    await ActionDefaultFallback().run(after_an_answer, make_tracker("zzq", intent="inform", events=understood),
                                      domain)
    assert [d.messages[0]["response"] for d in (first, second, after_an_answer)] == [
        "utter_first_miss", "utter_default", "utter_first_miss"]


async def test_the_two_stage_fallback_giving_up_says_still(domain):
    # The second line in a row the bot could not place, while it was asking about the first.
    dispatcher = CollectingDispatcher()
    await ActionDefaultFallback().run(dispatcher, make_tracker("qqq", intent="nlu_fallback",
                                                               active_loop="action_two_stage_fallback"), domain)
    assert dispatcher.messages[0]["response"] == "utter_default"


async def test_the_last_resort_after_no_to_our_guess_does_not_flag_the_no(domain):
    # "No" to the second guess: the line the guess was about is flagged already, the "No" was understood.
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(
        dispatcher, make_tracker("/out_of_scope", intent="out_of_scope", active_loop="action_two_stage_fallback"),
        domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_default"]
    assert not any(m.get("custom") for m in dispatcher.messages)
    assert events == [{"event": "rewind", "timestamp": None}]


async def test_no_thanks_right_after_the_offer_declines_the_survey(app_db, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("no thanks", intent="thank_you", slots={"survey_offered": True}, events=FAQ_ANSWERED)
    events = await ActionEndConversation().run(dispatcher, tracker, domain)
    assert slot_events(events) == {"survey_offered": False}
    assert "No problem" in texts(dispatcher)[0]


async def test_no_after_anything_else_says_goodbye(domain):
    from actions.conversation import ActionAnswerNo

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("no", intent="deny", events=[{"event": "action", "name": "action_end_conversation"}])
    await ActionAnswerNo().run(dispatcher, tracker, domain)
    assert "Goodbye" in texts(dispatcher)[0]
    dispatcher = CollectingDispatcher()
    await ActionAnswerNo().run(dispatcher, make_tracker("no", intent="deny",
                                                        events=[{"event": "action", "name": "utter_greet"}]), domain)
    assert dispatcher.messages[0]["response"] == "utter_anything_else"


async def test_after_a_person_helped_the_bot_names_them_and_offers_the_survey(app_db, domain):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/EXTERNAL_handoff_done{"agent": "Sam"}', intent="EXTERNAL_handoff_done",
                           entities=[{"entity": "agent", "value": "Sam"}])
    events = await ActionHandoffDone().run(dispatcher, tracker, domain)
    assert texts(dispatcher)[0] == "Sam has finished helping you, and I'm back if you need anything else."
    assert "quick questions" in texts(dispatcher)[1]
    assert slot_events(events) == {"handled_by_agent": "Sam", "survey_offered": True}
    with transaction() as session:
        assert session.scalars(select(SurveyResponse.agent)).all() == ["Sam"]  # the offer already names her


async def test_no_second_survey_after_a_handoff_when_one_was_answered(app_db, domain):
    from actions.survey import ActionAskSurveyAnswer

    await ActionAskSurveyAnswer().run(CollectingDispatcher(), make_tracker(slots={"survey_question_index": 0.0}),
                                      domain)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoffDone().run(dispatcher, make_tracker(intent="EXTERNAL_handoff_done"), domain)
    assert texts(dispatcher) == ["Our team has finished helping you, and I'm back if you need anything else."]
    assert slot_events(events) == {"handled_by_agent": None}


# --- a bare value when no form asked for one ---------------------------------------------------


async def test_a_bare_reference_is_kept_for_the_status_check_and_the_bot_asks_what_it_is_for(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadDetails().run(dispatcher, make_tracker("tck 7qk2md, me@example.com"), domain)

    assert slot_events(events) == {"ticket_ref": "TCK-7QK2MD", "lookup_email": "me@example.com"}
    assert "TCK-7QK2MD" in texts(dispatcher)[0]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/check_ticket_status", "/add_ticket_info"]


async def test_a_bare_email_is_kept_for_the_ticket_form(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadDetails().run(dispatcher, make_tracker("my email is Ada@Example.com"), domain)

    assert slot_events(events) == {"customer_email": "ada@example.com"}
    assert "ada@example.com" in texts(dispatcher)[0]
    assert "/open_ticket" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]


async def test_a_bare_order_number_gets_a_question_about_the_order(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadDetails().run(dispatcher, make_tracker("order 48213"), domain)

    assert events == []
    assert "order 48213" in texts(dispatcher)[0]


@pytest.mark.parametrize(("text", "order"), [("48213", "48213"), ("BS-48213", "48213"), ("#552019.", "552019")])
async def test_an_order_number_typed_alone_gets_a_question_about_the_order(domain, text, order):
    dispatcher = CollectingDispatcher()
    await ActionReadDetails().run(dispatcher, make_tracker(text), domain)
    assert f"order {order}" in texts(dispatcher)[0]


async def test_a_mistyped_reference_is_said_to_be_one_instead_of_the_general_help(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadDetails().run(dispatcher, make_tracker("TCK-L9E4JM"), domain)  # 9 is never used
    assert events == []
    assert texts(dispatcher)[0].startswith("TCK-L9E4JM doesn't look like one of our ticket references")
    assert "/check_ticket_status" in [b["payload"] for b in dispatcher.messages[0]["buttons"]]


async def test_a_value_with_no_detail_gets_what_the_bot_can_do(domain):
    dispatcher = CollectingDispatcher()
    events = await ActionReadDetails().run(dispatcher, make_tracker("Maria Gonzalez"), domain)

    assert events == []
    assert dispatcher.messages[0]["response"] == "utter_help"


async def test_a_question_asked_beside_a_request_for_a_person_is_answered_first(domain):
    dispatcher = CollectingDispatcher()
    tracker = beside_a_question(make_tracker("let me talk to a person, do you ship to Austria?",
                                             intent="request_human", confidence=1.0))
    await ActionRequestHuman().run(dispatcher, tracker, domain)
    assert texts(dispatcher)[0] == f"First, your question: {SHIPPING_ANSWER}"
    assert "connecting you" in texts(dispatcher)[1]


async def test_no_question_beside_the_request_or_an_unsure_topic_gets_no_answer_unasked(domain):
    for tracker in (beside_a_question(make_tracker("let me talk to a person about my refund", intent="request_human")),
                    beside_a_question(make_tracker("let me talk to a person, do you ship to Austria?",
                                                   intent="request_human"), topic_confidence=0.4)):
        dispatcher = CollectingDispatcher()
        await ActionRequestHuman().run(dispatcher, tracker, domain)
        assert not any(SHIPPING_ANSWER in text for text in texts(dispatcher))

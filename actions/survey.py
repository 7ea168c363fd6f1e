"""Satisfaction survey: questions come from the survey file; each answer is stored as given."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import (
    DatabaseUnavailable,
    entity_value,
    in_transaction,
    is_interruption,
    latest_text,
    say_database_trouble,
)
from actions.forms import ContactEmailWhenAsked
from bot.settings import get_settings
from bot.surveys.definition import SurveyDefinition, SurveyQuestion, SurveySkipped, load_survey, parse_answer
from bot.surveys.service import (
    SurveyError,
    complete_survey,
    get_response,
    headline_score,
    open_recovery_ticket,
    record_answer,
    start_survey,
)

STOP_WORDS = {"stop", "cancel", "quit", "exit", "end survey", "stop the survey", "stop survey",
              "no more questions", "enough", "i'm done", "im done"}
RATING_BUTTONS = [
    ("1 - very poor", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5 - excellent", "5"),
]
HINTS = {
    "rating_1_5": "Please answer with a number from 1 (very poor) to 5 (excellent).",
    "nps_0_10": "Please answer with a number from 0 to 10.",
    "yes_no": "Please answer yes or no.",
    "text": "Please type your answer, or say \"skip\".",
}


def survey_definition() -> SurveyDefinition:
    return load_survey(get_settings().survey_file)


def question_index(tracker: Tracker) -> int:
    return int(tracker.get_slot("survey_question_index") or 0)


def _payload(value: str) -> str:
    return f'/inform{{"survey_answer":"{value}"}}'


def question_buttons(question: SurveyQuestion) -> list[dict[str, str]]:
    if question.type == "rating_1_5":
        return [{"title": title, "payload": _payload(value)} for title, value in RATING_BUTTONS]
    if question.type == "nps_0_10":
        return [{"title": str(n), "payload": _payload(str(n))} for n in range(11)]
    if question.type == "yes_no":
        return [{"title": "Yes", "payload": _payload("yes")}, {"title": "No", "payload": _payload("no")}]
    if not question.required:
        return [{"title": "Skip", "payload": _payload("skip")}]
    return []


class ActionAskSurveyAnswer(Action):
    """Asks the current question; the first time, opens the conversation's response."""

    def name(self) -> str:
        return "action_ask_survey_answer"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        definition = survey_definition()
        index = question_index(tracker)
        question = definition.question(index)
        if question is None:
            return []
        if index == 0:
            email = tracker.get_slot("customer_email")

            def _open(session):
                if get_response(session=session, conversation_id=tracker.sender_id) is None:
                    start_survey(session=session, conversation_id=tracker.sender_id,
                                 definition=definition, customer_email=email,
                                 agent=tracker.get_slot("handled_by_agent"))

            try:
                await in_transaction(_open)
            except DatabaseUnavailable:
                say_database_trouble(dispatcher)
        total = len(definition.questions)
        dispatcher.utter_message(
            text=f"({index + 1}/{total}) {question.text}", buttons=question_buttons(question)
        )
        return [SlotSet("survey_offered", False)]


class ValidateSurveyForm(ContactEmailWhenAsked):
    def name(self) -> str:
        return "validate_survey_form"

    async def required_slots(self, domain_slots, dispatcher, tracker: Tracker, domain):
        # One slot asked once per question; the form ends after the last question,
        # unless an unhappy customer's e-mail is needed so someone can contact them.
        if question_index(tracker) < len(survey_definition().questions):
            return domain_slots
        if tracker.get_slot("recovery_contact_wanted"):
            return ["customer_email"]
        return []

    async def run(self, dispatcher, tracker: Tracker, domain) -> list:
        if self.requested(tracker) == "customer_email" and (
            latest_text(tracker).strip().lower().strip(" .!") in SKIP_CONTACT
        ):
            # No address given: the survey ends; the recovery ticket is opened without one.
            return [SlotSet("recovery_contact_wanted", False), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    async def extract_survey_answer(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.requested(tracker) != "survey_answer":
            return {}
        from_button = entity_value(tracker, "survey_answer")
        if from_button is not None:
            return {"survey_answer": str(from_button)}
        text = latest_text(tracker).strip()
        if not text or text.startswith("/") or text.lower().strip(" .!") in STOP_WORDS:
            return {}
        question = survey_definition().question(question_index(tracker))
        understood = question is not None and _understood(question, text)
        # An answer we understand is taken whatever the intent ("no" is an answer
        # here, not a refusal); anything else may be an FAQ or a request to stop,
        # and a free-text comment counts as an FAQ only when it is a question.
        free_text = question is not None and question.type == "text"
        if not understood and is_interruption(tracker, free_text=free_text):
            return {}
        return {"survey_answer": text}

    async def validate_survey_answer(self, value, dispatcher, tracker: Tracker, domain):
        definition = survey_definition()
        index = question_index(tracker)
        question = definition.question(index)
        if question is None:
            return {"survey_answer": None}
        try:
            parsed = parse_answer(question, str(value))
        except SurveySkipped:
            return {"survey_answer": None, "survey_question_index": float(index + 1)}
        if parsed is None:
            dispatcher.utter_message(text=HINTS[question.type])
            return {"survey_answer": None}

        def _store(session):
            response = get_response(session=session, conversation_id=tracker.sender_id)
            if response is None:
                response = start_survey(session=session, conversation_id=tracker.sender_id,
                                        definition=definition,
                                        customer_email=tracker.get_slot("customer_email"))
            record_answer(session=session, response=response, question=question,
                          position=index, value=parsed)

        try:
            await in_transaction(_store)
        except DatabaseUnavailable:
            # Same question again: nothing answered so far is lost.
            say_database_trouble(dispatcher)
            return {"survey_answer": None}
        except SurveyError:
            return {"survey_answer": None, "survey_question_index": float(len(definition.questions))}
        result = {"survey_answer": None, "survey_question_index": float(index + 1)}
        unhappy = index == 0 and isinstance(parsed, int) and parsed <= get_settings().recovery_score_threshold
        if unhappy and not tracker.get_slot("customer_email"):
            result["recovery_contact_wanted"] = True
        return result


def _understood(question: SurveyQuestion, text: str) -> bool:
    try:
        parsed = parse_answer(question, text)
    except SurveySkipped:
        return True
    # Free text could be anything, so a clear FAQ or request to stop is let through.
    return parsed is not None and question.type != "text"


async def _finish(tracker: Tracker, *, completed: bool) -> tuple[str | None, int | None]:
    """Mark the response complete (or leave it partial) and open a recovery ticket
    for a low headline score. Returns (recovery ticket reference, headline score)."""
    def _work(session):
        response = get_response(session=session, conversation_id=tracker.sender_id)
        if response is None:
            return None, None
        if response.customer_email is None and tracker.get_slot("customer_email"):
            response.customer_email = tracker.get_slot("customer_email")  # given after the offer
        if completed and not response.completed:
            complete_survey(session=session, response=response)
        ticket = open_recovery_ticket(
            session=session,
            response=response,
            customer_name=tracker.get_slot("customer_name"),
            customer_email=tracker.get_slot("customer_email"),
        )
        return (ticket.reference if ticket else None), headline_score(session=session, response=response)

    return await in_transaction(_work)


# After a low score: the customer may talk to a person at once (a handoff with reason
# "recovery", served first); the ticket stays either way.
TALK_NOW = [{"title": "Talk to someone now", "payload": "/request_human"}]

SKIP_CONTACT = {"skip", "no", "no thanks", "no thank you", "nope", "rather not", "i'd rather not", "no email"}


def _recovery_message(reference: str, tracker: Tracker) -> str:
    contact = (
        "someone from our team will contact you within a day to put things right."
        if tracker.get_slot("customer_email")
        else "a team lead will look into what went wrong."
    )
    return f"I'm sorry we let you down. I've opened {reference} with high priority, and {contact}"


class ActionAskSurveyFormCustomerEmail(Action):
    """After a low score: the address someone can use to contact the customer."""

    def name(self) -> str:
        return "action_ask_survey_form_customer_email"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        dispatcher.utter_message(
            text="I'm sorry it wasn't better. So that someone can contact you and put it right, "
            "which e-mail address should we use? (Or say \"skip\".)",
            buttons=[{"title": "Skip", "payload": "skip"}],
        )
        return []


class ActionSubmitSurvey(Action):
    def name(self) -> str:
        return "action_submit_survey"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        try:
            reference, _score = await _finish(tracker, completed=True)
        except DatabaseUnavailable:
            say_database_trouble(dispatcher)
            return []
        events: list[EventType] = [SlotSet("survey_question_index", 0.0), SlotSet("survey_answer", None),
                                   SlotSet("recovery_contact_wanted", None)]
        if reference:
            dispatcher.utter_message(text=_recovery_message(reference, tracker), buttons=TALK_NOW)
            events.append(SlotSet("last_ticket_ref", reference))
        else:
            dispatcher.utter_message(text="Thank you for your answers, they help us get better. Have a good day!")
        return events


class ActionStopSurvey(Action):
    """The customer left the survey: answers so far stay, marked incomplete."""

    def name(self) -> str:
        return "action_stop_survey"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        try:
            reference, _score = await _finish(tracker, completed=False)
        except DatabaseUnavailable:
            reference = None
        text = "No problem, I've stopped the survey. Thanks for the answers you gave."
        events: list[EventType] = [SlotSet("survey_question_index", 0.0), SlotSet("survey_answer", None)]
        if reference:
            dispatcher.utter_message(text=text + " " + _recovery_message(reference, tracker), buttons=TALK_NOW)
            events.append(SlotSet("last_ticket_ref", reference))
        else:
            dispatcher.utter_message(text=text)
        return events

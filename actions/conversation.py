"""Conversation-level actions: session start, endings and the survey offer, handoff,
cancelling a form, and the fallbacks (the friendlier question, and the last resort)."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet, UserUtteranceReverted

from actions.common import DatabaseUnavailable, in_transaction, latest_text, offer_second_request, question_beside
from bot.settings import get_settings
from bot.surveys.definition import load_survey
from bot.surveys.service import get_response, start_survey
from bot.textscan import scan
from nlu.patterns import TICKET_REF_SHAPE

# What each form's slots are, so "stop" can forget what was half-collected.
FORM_SLOTS = {
    "ticket_form": ("ticket_category", "ticket_description", "ticket_confirmed"),
    "ticket_status_form": ("ticket_ref", "lookup_email"),
    "ticket_update_form": ("ticket_ref", "lookup_email", "ticket_note"),
    "feedback_form": ("feedback_category", "feedback_text", "feedback_anonymous"),
}
CANCELLED = {
    "ticket_form": "OK, I've cancelled that; no ticket was opened.",
    "ticket_status_form": "OK, I've stopped the ticket look-up.",
    "ticket_update_form": "OK, nothing was added to any ticket.",
    "feedback_form": "OK, I've discarded that feedback.",
}
# Bot actions after which we count the conversation as one where the bot helped.
HELPFUL_ACTIONS = {"utter_faq"}
FAQ_TITLES_SEPARATOR = "_"


class ActionOfferSecondRequest(Action):
    """After an FAQ answer (`utter_faq`, which needs no action server, so FAQ answers go on when it is
    down): where the line asked a second thing beside the question, that one offered next
    (actions/common.py); otherwise nothing."""

    def name(self) -> str:
        return "action_offer_second_request"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        offer_second_request(dispatcher, tracker)
        return []


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        # Carry over what the customer told us (name, e-mail) into the new session.
        carried = {
            name: value
            for name, value in tracker.slots.items()
            if value is not None and name in ("customer_name", "customer_email", "lookup_failures")
        }
        events += [SlotSet(name, value) for name, value in carried.items()]
        events.append(SlotSet("company_name", get_settings().company_name))
        events.append(ActionExecuted("action_listen"))
        return events


def bot_helped(tracker: Tracker) -> bool:
    if tracker.get_slot("bot_helped"):
        return True
    return any(
        event.get("event") == "action" and event.get("name") in HELPFUL_ACTIONS
        for event in tracker.events
    )


async def offer_survey(dispatcher, tracker: Tracker, opener: str, agent: str | None = None) -> bool:
    """Offer the survey unless this conversation already has a response; True when offered.
    The offer itself is stored (an empty response), so the response rate counts every offer,
    declined ones too; `agent` is who handled the chat (else the `handled_by_agent` slot)."""

    def _offer(session) -> bool:
        if get_response(session=session, conversation_id=tracker.sender_id) is not None:
            return False
        start_survey(session=session, conversation_id=tracker.sender_id,
                     definition=load_survey(get_settings().survey_file),
                     customer_email=tracker.get_slot("customer_email"),
                     agent=agent or tracker.get_slot("handled_by_agent"))
        return True

    try:
        offered = await in_transaction(_offer)
    except DatabaseUnavailable:
        offered = False  # do not start a survey we may not be able to store
    if not offered:
        return False
    dispatcher.utter_message(
        text=f"{opener} Would you answer a few quick questions about how we did? It takes under a minute.",
        buttons=[{"title": "Sure", "payload": "/affirm"}, {"title": "No, thanks", "payload": "/deny"}],
    )
    return True


class ActionEndConversation(Action):
    """Goodbye or thanks: offer the survey once if the bot helped, else say goodbye."""

    def name(self) -> str:
        return "action_end_conversation"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        company = get_settings().company_name
        if tracker.get_slot("survey_offered"):
            # "no thanks" or "bye" right after the offer is a polite no.
            dispatcher.utter_message(text=f"No problem. Thanks for chatting with {company}, and have a good day!")
            return [SlotSet("survey_offered", False)]
        offered_before = any(
            event.get("event") == "slot" and event.get("name") == "survey_offered" and event.get("value") is True
            for event in tracker.events
        )
        if bot_helped(tracker) and not offered_before:
            opener = "You're welcome!" if intent == "thank_you" else "Before you go:"
            if await offer_survey(dispatcher, tracker, opener):
                return [SlotSet("survey_offered", True)]
        if intent == "thank_you":
            dispatcher.utter_message(text="You're welcome! Is there anything else I can help with?")
        else:
            dispatcher.utter_message(text=f"Goodbye, and thanks for contacting {company}!")
        return []


class ActionDeclineSurvey(Action):
    def name(self) -> str:
        return "action_decline_survey"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        company = get_settings().company_name
        dispatcher.utter_message(text=f"No problem. Thanks for chatting with {company}, and have a good day!")
        return [SlotSet("survey_offered", False)]


# The actions that end a survey; after a low score they open a recovery ticket.
RECOVERY_ACTIONS = ("action_submit_survey", "action_stop_survey")


def last_bot_action(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") not in ("action_listen", None):
            return event.get("name")
    return None


class ActionAnswerNo(Action):
    """A bare "no" outside any question: after "anything else?" it means goodbye."""

    def name(self) -> str:
        return "action_answer_no"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        if last_bot_action(tracker) in ("action_end_conversation", "utter_anything_else", "action_answer_no"):
            dispatcher.utter_message(text=f"Thanks for contacting {get_settings().company_name}. Goodbye!")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionRequestHuman(Action):
    """Tells the customer we're connecting them and signals the handoff to the API."""

    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        recent = [e.get("name") for e in tracker.events[-12:] if e.get("event") == "action"]
        if last_bot_action(tracker) in RECOVERY_ACTIONS and tracker.get_slot("last_ticket_ref"):
            # Right after a low survey score: the unhappy customer's follow-up comes first.
            reason = "recovery"
        elif "action_default_fallback" in recent:
            reason = "fallback"
        else:
            reason = "requested"
        aside = question_beside(tracker)
        if aside:
            dispatcher.utter_message(text=f"First, your question: {aside}")
        dispatcher.utter_message(
            text="I'm connecting you with a member of our team. Please stay in this chat; "
            "they'll see everything we've discussed so far."
        )
        dispatcher.utter_message(json_message={"handoff": {"reason": reason}})
        return []


class ActionHandoffDone(Action):
    """The API tells the bot (intent EXTERNAL_handoff_done, entity `agent`) that a person has
    finished with the customer: the bot takes over again and offers the survey, which then
    records that agent."""

    def name(self) -> str:
        return "action_handoff_done"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        agent = next((str(entity.get("value")) for entity in (tracker.latest_message or {}).get("entities") or []
                      if entity.get("entity") == "agent" and entity.get("value")), None)
        who = agent or "Our team"
        dispatcher.utter_message(text=f"{who} has finished helping you, and I'm back if you need anything else.")
        events: list[EventType] = [SlotSet("handled_by_agent", agent)]
        if await offer_survey(dispatcher, tracker, "Before you go:", agent=agent):
            events.append(SlotSet("survey_offered", True))
        return events


class ActionCancelForm(Action):
    """After `stop`: forget what the cancelled form half-collected and say so."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        form = next(
            (
                event.get("name")
                for event in reversed(tracker.events)
                if event.get("event") == "active_loop" and event.get("name") in FORM_SLOTS
            ),
            None,
        )
        dispatcher.utter_message(text=CANCELLED.get(form, "OK, I've stopped. What else can I do for you?"))
        slots = FORM_SLOTS.get(form, ())
        return [SlotSet(slot, None) for slot in slots] + [SlotSet("requested_slot", None)]


# An order number typed alone ("48213", "BS-48213", "#48213."), which bot.textscan leaves to a cue word.
_BARE_ORDER_NUMBER = re.compile(r"\s*(?:bs-?|#)?(\d{4,12})\s*[.!]?\s*", re.IGNORECASE)


class ActionReadDetails(Action):
    """A bare value (a reference, an e-mail, an order number) when no form asked for one: the
    customer is not answering a question, so the bot keeps what the line holds for the step that
    follows (the status check, the ticket form) and asks what they want to do with it, instead of
    taking it for a miss. A reference that cannot be one of ours (a mistyped code) is said to be
    so, rather than met with the general help."""

    def name(self) -> str:
        return "action_read_details"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        text = latest_text(tracker)
        found: dict[str, str] = {}
        for finding in scan(text):
            found.setdefault(finding.label, finding.value)
        reference, email, order = found.get("TICKET_REF"), found.get("EMAIL"), found.get("ORDER_NUMBER")
        if order is None and (bare := _BARE_ORDER_NUMBER.fullmatch(text)):
            order = bare.group(1)  # "48213", "BS-48213": a number alone, with nothing else to be
        mistyped = None if reference or email else TICKET_REF_SHAPE.search(text)
        events: list[EventType] = []
        if mistyped:
            dispatcher.utter_message(
                text=f"{mistyped.group(0)} doesn't look like one of our ticket references: they are TCK- and six "
                "letters or digits, with no 0, 1, 8 or 9. Could you check it? Or tell me what you need:",
                buttons=[{"title": "Check a ticket", "payload": "/check_ticket_status"},
                         {"title": "Open a ticket", "payload": "/open_ticket"},
                         {"title": "Talk to a person", "payload": "/request_human"}],
            )
        elif reference:
            events.append(SlotSet("ticket_ref", reference))
            if email:
                events.append(SlotSet("lookup_email", email))
            dispatcher.utter_message(
                text=f"Thanks, that's ticket {reference}. What would you like to do with it?",
                buttons=[{"title": "Check its status", "payload": "/check_ticket_status"},
                         {"title": "Add information", "payload": "/add_ticket_info"}],
            )
        elif email:
            events.append(SlotSet("customer_email", email))
            dispatcher.utter_message(
                text=f"Thanks, I've noted {email}. What can I help you with?",
                buttons=[{"title": "Open a ticket", "payload": "/open_ticket"},
                         {"title": "Check a ticket", "payload": "/check_ticket_status"},
                         {"title": "Talk to a person", "payload": "/request_human"}],
            )
        elif order:
            dispatcher.utter_message(
                text=f"Thanks, order {order}. What would you like to know about it? You can ask in your own "
                "words, for example \"where is it?\" or \"how do I return it?\", or report a problem.",
                buttons=[{"title": "Report a problem", "payload": "/open_ticket"},
                         {"title": "Talk to a person", "payload": "/request_human"}],
            )
        else:
            dispatcher.utter_message(response="utter_help")
        return events


INTENT_LABELS = {
    "open_ticket": "open a support ticket",
    "check_ticket_status": "check a ticket's status",
    "add_ticket_info": "add information to a ticket",
    "give_feedback": "give feedback",
    "request_human": "talk to a person",
    "help": "see what I can do",
    "greet": "say hello",
    "goodbye": "end the chat",
    "thank_you": "say thanks",
    "bot_challenge": "know whether I'm a bot",
    "stop": "stop what we're doing",
}


# Tells the API that the customer's last message was not understood (for the fallback rate
# and the top unrecognised messages); like the handoff signal, the customer never sees it.
FALLBACK_SIGNAL = {"fallback": {"stage": "ask_affirmation"}}
GAVE_UP_SIGNAL = {"fallback": {"stage": "default"}}


class ActionDefaultAskAffirmation(Action):
    """First fallback stage in plain words: "Did you mean: track your order?" """

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        message = tracker.latest_message or {}
        ranking = [i for i in message.get("intent_ranking") or [] if i.get("name") != "nlu_fallback"]
        candidate = ranking[0]["name"] if ranking else None
        if candidate in (None, "out_of_scope", "inform", "affirm", "deny"):
            dispatcher.utter_message(response="utter_ask_rephrase")
            dispatcher.utter_message(json_message=FALLBACK_SIGNAL)
            return []
        if candidate == "faq":
            key = (
                ((message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
            ).get("intent_response_key", "faq/help")
            topic = key.split("/", 1)[-1].replace(FAQ_TITLES_SEPARATOR, " ")
            label, yes_payload = f"ask about {topic}", f"{topic}?"
        else:
            label, yes_payload = INTENT_LABELS.get(candidate, candidate.replace("_", " ")), f"/{candidate}"
        dispatcher.utter_message(
            text=f"Sorry, I'm not sure I understood. Did you want to {label}?",
            buttons=[{"title": "Yes", "payload": yes_payload}, {"title": "No", "payload": "/out_of_scope"}],
        )
        dispatcher.utter_message(json_message=FALLBACK_SIGNAL)
        return []


# What the bot does when it has not understood a line: guess, ask to rephrase, give up.
MISS_ACTIONS = ("action_two_stage_fallback", "action_default_ask_affirmation", "action_default_ask_rephrase",
                "action_default_fallback")


def missed_just_before(tracker: Tracker) -> bool:
    """Whether the customer's line before the latest one was not understood either: the two-stage
    fallback is still asking about it, or the bot's answer to it was one of the fallbacks."""
    if (tracker.active_loop or {}).get("name") == "action_two_stage_fallback":
        return True
    after_latest_line = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if after_latest_line:
                return False
            after_latest_line = True
        elif event.get("event") == "action" and after_latest_line and event.get("name") != "action_listen":
            return event.get("name") in MISS_ACTIONS
    return False


class ActionDefaultFallback(Action):
    """Rasa's last resort, in place of its built-in one: when no policy is confident of what to do
    next, or the two-stage fallback gives up. It says what Rasa's says (`utter_default`), forgets
    the line as Rasa's does, and also tells the API the line was not understood, so the fallback
    rate counts it. Not when that line is "none of these" to our guess (`out_of_scope`, the "No"
    button): that answer was understood, and the line it answered was flagged already."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        # "Still" only after a second miss in a row; a first one says what the bot can do.
        dispatcher.utter_message(response="utter_default" if missed_just_before(tracker) else "utter_first_miss")
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent != "out_of_scope":
            dispatcher.utter_message(json_message=GAVE_UP_SIGNAL)
        return [UserUtteranceReverted()]

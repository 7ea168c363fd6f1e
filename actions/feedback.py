"""Feedback conversation: category, the customer's words, anonymous or not."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.common import (
    DatabaseUnavailable,
    entity_value,
    in_transaction,
    latest_text,
    line_key,
    say_database_trouble,
)
from actions.forms import ContactEmailWhenAsked, substantive_text
from bot.feedback.models import FEEDBACK_CATEGORIES
from bot.feedback.schemas import MAX_FEEDBACK, FeedbackCreate
from bot.feedback.service import record_feedback

FEEDBACK_SLOTS = ("feedback_category", "feedback_text", "feedback_anonymous")
# Words that name a feedback category when typed instead of tapped.
_CATEGORY_WORDS = [
    ("complaint", re.compile(r"\bcomplain|\bcomplaint", re.I)),
    ("suggestion", re.compile(r"\bsuggest|\bidea\b|\bimprove", re.I)),
    ("service_quality", re.compile(r"\bservice\b|\bstaff\b|\bagent|\bsupport\b", re.I)),
    ("product", re.compile(r"\bproduct|\bitem\b|\bquality of the", re.I)),
    ("process", re.compile(r"\bprocess|\bcheckout|\bwebsite|\bordering|\bdelivery process", re.I)),
]
_ANONYMOUS_YES = re.compile(r"\b(anonymous|anonymously|don't (use|share|store) my|no name)\b", re.I)


def category_from_words(text: str, *, strict: bool) -> str | None:
    """`strict` (at activation) only trusts the clear words: complaint, suggestion."""
    for key, pattern in _CATEGORY_WORDS[: 2 if strict else None]:
        if pattern.search(text):
            return key
    return None


class ValidateFeedbackForm(ContactEmailWhenAsked):
    def name(self) -> str:
        return "validate_feedback_form"

    async def required_slots(self, domain_slots, dispatcher, tracker: Tracker, domain):
        # Someone happy to be contacted needs an address; the form asks only if we have none.
        if tracker.get_slot("feedback_anonymous") is False:
            return [*domain_slots, "customer_email"]
        return domain_slots

    async def extract_feedback_category(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        from_button = entity_value(tracker, "feedback_category")
        if from_button:  # a topic button counts whenever it is tapped during the form
            return {"feedback_category": from_button}
        if self.at_activation(tracker):
            found = category_from_words(latest_text(tracker), strict=True)
            return {"feedback_category": found} if found else {}
        answer = self.answer_for("feedback_category", tracker)
        if not answer:
            return {}
        return {"feedback_category": category_from_words(answer, strict=False) or answer}

    def validate_feedback_category(self, value, dispatcher, tracker, domain):
        if value in FEEDBACK_CATEGORIES:
            return {"feedback_category": value}
        dispatcher.utter_message(text="Sorry, I didn't catch what it's about. Please pick one of the buttons.")
        return {"feedback_category": None}

    async def extract_feedback_text(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.at_activation(tracker):
            described = substantive_text(latest_text(tracker), min_words=5)
            return {"feedback_text": described} if described else {}
        answer = self.answer_for("feedback_text", tracker, free_text=True)
        return {"feedback_text": answer} if answer else {}

    def validate_feedback_text(self, value, dispatcher, tracker, domain):
        text = str(value or "").strip()
        if not text:
            return {"feedback_text": None}
        if len(text) > MAX_FEEDBACK:
            dispatcher.utter_message(
                text=f"That's more than {MAX_FEEDBACK:,} characters. Please shorten it a little."
            )
            return {"feedback_text": None}
        return {"feedback_text": text}

    async def extract_feedback_anonymous(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.requested(tracker) != "feedback_anonymous":
            return {}
        answer = self.yes_no(tracker)
        if answer is None and _ANONYMOUS_YES.search(latest_text(tracker)):
            answer = True
        return {} if answer is None else {"feedback_anonymous": answer}


class ActionSubmitFeedback(Action):
    def name(self) -> str:
        return "action_submit_feedback"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        anonymous = bool(tracker.get_slot("feedback_anonymous"))
        try:
            data = FeedbackCreate(
                category=tracker.get_slot("feedback_category") or "",
                text=tracker.get_slot("feedback_text") or "",
                anonymous=anonymous,
                customer_name=tracker.get_slot("customer_name"),
                customer_email=tracker.get_slot("customer_email"),
                conversation_id=tracker.sender_id,
                # The gateway's key for this line: sent again to another Rasa server, it finds this item.
                source_line=line_key(tracker),
            )
        except ValidationError as error:
            dispatcher.utter_message(text=f"I couldn't record that feedback: {error.errors()[0]['msg']}.")
            return [SlotSet(slot, None) for slot in FEEDBACK_SLOTS]
        try:
            reference = await in_transaction(
                lambda session: record_feedback(session=session, data=data).reference
            )
        except DatabaseUnavailable:
            say_database_trouble(dispatcher)
            return []
        follow_up = (
            " A manager reviews every complaint and someone will get back to you."
            if data.category == "complaint" and not anonymous
            else ""
        )
        if anonymous:
            # No reference, and the API takes the words out of this chat's transcript ("forget"): nothing
            # it keeps ties the feedback to the chat or its customer (bot.conversations.relay).
            dispatcher.utter_message(
                text="Thank you, your feedback is recorded anonymously: it is kept apart from this chat, "
                "and your words are taken out of the chat's history.",
                custom={"feedback": {"anonymous": True, "forget": data.text}},
            )
        else:
            dispatcher.utter_message(
                text=f"Thank you, your feedback is recorded under {reference}.{follow_up}",
                custom={"feedback": {"reference": reference, "anonymous": False}},
            )
        if data.category == "complaint":
            # A complaint is heard as feedback; whatever needs fixing (a refund, a replacement) is a ticket.
            dispatcher.utter_message(
                text="If there is also something you'd like us to fix, such as a refund or a replacement, "
                "I can open a support ticket for it.",
                buttons=[{"title": "Open a ticket", "payload": "/open_ticket"}],
            )
        return [SlotSet(slot, None) for slot in FEEDBACK_SLOTS]

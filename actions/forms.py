"""Shared form behaviour: which message answers the question being asked, and e-mail checks."""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import is_button_payload, is_interruption, latest_text, say_second_request_first
from bot.textscan import first, is_valid_email

# Phrases that only ask for a ticket/feedback and say nothing about the problem itself.
_REQUEST_WORDS = re.compile(
    r"\b(hi|hello|hey|please|pls|can|could|would|you|i|i'd|id|want|wanna|like|need|to|"
    r"help|me|open|create|file|raise|submit|make|start|log|lodge|new|a|an|the|support|"
    r"ticket|case|request|service|complaint|report|problem|issue|feedback|give|leave|"
    r"share|some|about|my|have|got|there|is|it|for|with|just|so|and|on|of|do|"
    r"suggestion|comment|thanks|thank)\b",
    re.IGNORECASE,
)


def substantive_text(text: str, min_words: int = 4) -> str | None:
    """`text` when it describes something beyond "I want to open a ticket", else None."""
    if not text or text.startswith("/"):
        return None
    remainder = _REQUEST_WORDS.sub(" ", text)
    words = re.findall(r"[A-Za-z0-9']{2,}", remainder)
    return text.strip() if len(words) >= min_words else None


class GuardedFormValidation(FormValidationAction):
    """Base for our forms: a slot is filled from a message only when that slot was
    asked for and the message is not an interruption (an FAQ, stop, asking for a
    person), so those reach their rules and the form resumes afterwards."""

    @abstractmethod
    def name(self) -> str:
        """Abstract, so the action server does not register this base class."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list:
        if self.at_activation(tracker):
            # "where is TCK-3GF8YU, and also do you ship to Austria?": the look-up first, said so.
            say_second_request_first(dispatcher, tracker)
        events = await super().run(dispatcher, tracker, domain)
        asked = self.requested(tracker)
        answered = any(e.get("event") == "slot" and e.get("name") != "requested_slot" for e in events)
        if asked and not answered and not is_interruption(tracker):
            # Not an answer, and not something a rule handles (an FAQ, stop, a person):
            # keep the form in charge so it asks its question again, instead of
            # letting the message fall through to a generic fallback.
            events.append({"event": "slot", "timestamp": None, "name": asked, "value": None})
        return events

    @staticmethod
    def requested(tracker: Tracker) -> str | None:
        return tracker.get_slot("requested_slot")

    @staticmethod
    def at_activation(tracker: Tracker) -> bool:
        return tracker.get_slot("requested_slot") is None

    def answer_for(self, slot: str, tracker: Tracker, *, free_text: bool = False) -> str | None:
        """The latest message's text when it answers the question for `slot`."""
        if (
            self.requested(tracker) != slot
            or is_interruption(tracker, free_text=free_text)
            or is_button_payload(tracker)
        ):
            return None
        text = latest_text(tracker).strip()
        return text or None

    def email_from(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        """An e-mail found anywhere in the message (also at activation); when the slot
        was asked for but no address is found, the raw text, for validation to refuse."""
        found = first(latest_text(tracker), "EMAIL")
        if found and (self.at_activation(tracker) or self.requested(tracker) == slot):
            return {slot: found}
        answer = self.answer_for(slot, tracker)
        return {slot: answer} if answer else {}

    @staticmethod
    def check_email(value: Any, dispatcher: CollectingDispatcher, slot: str) -> dict[str, Any]:
        candidate = str(value or "").strip().lower()
        if is_valid_email(candidate):
            return {slot: candidate}
        dispatcher.utter_message(
            text="That doesn't look like a valid e-mail address. Please type it like name@example.com."
        )
        return {slot: None}

    @staticmethod
    def yes_no(tracker: Tracker) -> bool | None:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "affirm":
            return True
        if intent == "deny":
            return False
        return None




class ContactEmailWhenAsked(GuardedFormValidation):
    """For forms that ask for a contact address only in some cases (named feedback, a
    low survey score): the e-mail is taken only when it was asked for."""

    @abstractmethod
    def name(self) -> str:
        """Abstract: each form names itself."""

    async def extract_customer_email(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.requested(tracker) != "customer_email":
            return {}
        return self.email_from("customer_email", tracker)

    def validate_customer_email(self, value, dispatcher, tracker, domain):
        return self.check_email(value, dispatcher, "customer_email")

"""Ticket conversations: open a ticket, check its status, add information to it."""

from __future__ import annotations

import re
from abc import abstractmethod
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    DatabaseUnavailable,
    entity_value,
    in_transaction,
    latest_text,
    line_key,
    question_beside,
    say_database_trouble,
)
from actions.forms import GuardedFormValidation, substantive_text
from bot.actors import BOT, customer_actor
from bot.db import utcnow
from bot.settings import get_settings
from bot.tickets.classification import guess_category
from bot.tickets.models import Ticket
from bot.tickets.schemas import MAX_DESCRIPTION, TicketCreate
from bot.tickets.service import (
    TicketError,
    add_customer_info,
    create_ticket,
    find_ticket_for_customer,
    latest_reply,
    normalise_reference,
)
from bot.tickets.textcat import read_request
from bot.tickets.wording import plain_time, sla_promise

TICKET_SLOTS = ("ticket_category", "ticket_description", "ticket_confirmed")
_NAME_INTRO = re.compile(
    r"^\s*(my name is|my name's|name is|name:|i am|i'm|im|it's|its|this is|call me)\s+",
    re.IGNORECASE,
)
_NAME_IN_SENTENCE = re.compile(r"\bmy name is ([A-Za-z][A-Za-z'\-]+(?: [A-Z][A-Za-z'\-]+)?)")
_LETTER = re.compile(r"[^\W\d_]")
# One to four capitalised words of letters (with ' - .), e.g. "Chris Doe", "Mary-Jane O'Neil", "J. R. Smith".
_NAME_SHAPE = re.compile(r"^[^\W\d_a-z](?:[^\W\d_]|['.\-])*(?:\s+[^\W\d_a-z](?:[^\W\d_]|['.\-])*){0,3}$")
# Words a person's name does not contain but a short question or request does.
_NOT_NAME_WORDS = frozenset(
    "what how where when why who which can could do does is are was will would should i you your my me "
    "we our us the a an to of for in on at and or not no yes please thanks thank hi hello hey help "
    "person human agent people talk speak stop cancel quit".split()
)


def looks_like_a_name(text: str) -> bool:
    """A short, capitalised answer shaped like a person's name, which the NLU may still take for
    a topic (a name like "Chris" resembles "Christmas"): when we just asked for a name, it is one.
    Lower-case answers are left to the NLU, so "delivery times" still gets its FAQ answer."""
    words = text.strip().rstrip(".!").split()
    return bool(_NAME_SHAPE.match(" ".join(words))) and not {w.lower().strip(".'-") for w in words} & _NOT_NAME_WORDS


def next_step(ticket: Ticket, now: datetime) -> str:
    if ticket.status == "new":
        if ticket.is_first_response_overdue(now):
            return (
                "It is waiting for an agent and is past the reply time we promised, sorry. "
                "It has been flagged so someone picks it up first."
            )
        return f"It is in our queue; an agent will reply by {plain_time(ticket.first_response_due)}."
    if ticket.status == "open":
        return f"An agent is working on it; we aim to resolve it by {plain_time(ticket.resolution_due)}."
    if ticket.status == "pending":
        return "We are waiting for information from you. Say \"add information to my ticket\" to reply."
    if ticket.status == "resolved":
        return "We believe it is solved. If it isn't, say \"add information to my ticket\" and we'll reopen it."
    return "It is closed. If you still need help, add information to reopen it, or open a new ticket."


def clean_name(text: str) -> str | None:
    name = _NAME_INTRO.sub("", text.strip()).strip(" .!,;:")
    if not name or len(name) > 100 or len(name.split()) > 6 or not _LETTER.search(name) or "@" in name:
        return None
    return name


class ValidateTicketForm(GuardedFormValidation):
    def name(self) -> str:
        return "validate_ticket_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list:
        if self.at_activation(tracker) and (aside := question_beside(tracker)):
            # "I need to open a ticket. Do you ship to Austria?": the answer, then the ticket.
            dispatcher.utter_message(text=f"First, your question: {aside}")
        return await super().run(dispatcher, tracker, domain)

    async def extract_customer_name(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.at_activation(tracker):
            match = _NAME_IN_SENTENCE.search(latest_text(tracker))
            return {"customer_name": match.group(1)} if match else {}
        answer = self.answer_for("customer_name", tracker)
        if answer is None and self.requested(tracker) == "customer_name" and looks_like_a_name(latest_text(tracker)):
            answer = latest_text(tracker).strip()
        return {"customer_name": answer} if answer else {}

    def validate_customer_name(self, value, dispatcher: CollectingDispatcher, tracker, domain):
        name = clean_name(str(value or ""))
        if name is None:
            dispatcher.utter_message(text="Please tell me just your name, for example \"Alex Smith\".")
        return {"customer_name": name}

    async def extract_customer_email(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return self.email_from("customer_email", tracker)

    def validate_customer_email(self, value, dispatcher, tracker, domain):
        return self.check_email(value, dispatcher, "customer_email")

    async def extract_ticket_category(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        settings = get_settings()
        from_button = entity_value(tracker, "ticket_category")
        if from_button:  # a topic button counts whenever it is tapped during the form
            return {"ticket_category": from_button}
        text = latest_text(tracker)
        if self.at_activation(tracker):
            # Only a line that describes the problem says which topic it is: "I want to open a
            # ticket" alone gets the topic question, whatever the classifier makes of it; so does a
            # request with a question beside it, answered already ("... Do you ship to Austria?").
            if not substantive_text(text) or question_beside(tracker):
                return {}
            keys = [category.key for category in settings.ticket_categories]
            guessed = guess_category(text, settings.ticket_categories, read_request(text, keys))
            return {"ticket_category": guessed} if guessed else {}
        answer = self.answer_for("ticket_category", tracker)
        if not answer:
            return {}
        lowered = answer.lower()
        for category in settings.ticket_categories:
            if lowered in (category.key, category.label.lower()) or category.key.split("_")[0] in lowered:
                return {"ticket_category": category.key}
        guessed = guess_category(answer, settings.ticket_categories)
        return {"ticket_category": guessed or answer}

    def validate_ticket_category(self, value, dispatcher, tracker, domain):
        known = {category.key for category in get_settings().ticket_categories}
        if value in known:
            return {"ticket_category": value}
        dispatcher.utter_message(text="Sorry, I didn't recognise that topic. Please pick one of the buttons.")
        return {"ticket_category": None}

    async def extract_ticket_description(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.at_activation(tracker):
            described = substantive_text(latest_text(tracker))
            if question_beside(tracker):
                return {}  # the line asked a question, answered already: the problem is asked for
            return {"ticket_description": described} if described else {}
        answer = self.answer_for("ticket_description", tracker, free_text=True)
        return {"ticket_description": answer} if answer else {}

    def validate_ticket_description(self, value, dispatcher, tracker, domain):
        text = str(value or "").strip()
        if len(_LETTER.findall(text)) < 3:
            dispatcher.utter_message(text="Please describe the problem in a few words so our team can help.")
            return {"ticket_description": None}
        if len(text) > MAX_DESCRIPTION:
            dispatcher.utter_message(
                text=f"That's {len(text):,} characters, more than the {MAX_DESCRIPTION:,} a ticket can hold. "
                "Please send a shorter summary; an agent can ask for the rest."
            )
            return {"ticket_description": None}
        return {"ticket_description": text}

    async def extract_ticket_confirmed(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.requested(tracker) != "ticket_confirmed":
            return {}
        field = entity_value(tracker, "field_to_change")
        if field in ("customer_name", "customer_email", "ticket_category", "ticket_description"):
            # Clearing the field makes the form ask for it again, then confirm again.
            return {field: None, "ticket_confirmed": None}
        answer = self.yes_no(tracker)
        return {} if answer is None else {"ticket_confirmed": answer}

    def validate_ticket_confirmed(self, value, dispatcher, tracker, domain):
        if value is False:
            dispatcher.utter_message(
                text="No problem. Which detail should I change? Pick a button, or say \"stop\" to cancel."
            )
            return {"ticket_confirmed": None}
        return {"ticket_confirmed": value}


class ActionAskTicketCategory(Action):
    def name(self) -> str:
        return "action_ask_ticket_category"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:
        buttons = [
            {"title": category.label, "payload": f'/inform{{"ticket_category":"{category.key}"}}'}
            for category in get_settings().ticket_categories
        ]
        dispatcher.utter_message(text="What is it about?", buttons=buttons)
        return []


class ActionAskTicketConfirmed(Action):
    def name(self) -> str:
        return "action_ask_ticket_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        settings = get_settings()
        description = tracker.get_slot("ticket_description") or ""
        if len(description) > 300:
            description = description[:297] + "..."
        dispatcher.utter_message(
            text=(
                "Here is your request:\n"
                f"Name: {tracker.get_slot('customer_name')}\n"
                f"E-mail: {tracker.get_slot('customer_email')}\n"
                f"Topic: {settings.category_label(tracker.get_slot('ticket_category') or '')}\n"
                f"Problem: {description}\n"
                "Shall I open the ticket?"
            ),
            buttons=[
                {"title": "Yes, open it", "payload": "/affirm"},
                {"title": "Change name", "payload": '/inform{"field_to_change":"customer_name"}'},
                {"title": "Change e-mail", "payload": '/inform{"field_to_change":"customer_email"}'},
                {"title": "Change topic", "payload": '/inform{"field_to_change":"ticket_category"}'},
                {"title": "Change description", "payload": '/inform{"field_to_change":"ticket_description"}'},
            ],
        )
        return []


class ActionSubmitTicket(Action):
    def name(self) -> str:
        return "action_submit_ticket"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("ticket_confirmed") is not True:
            return []
        try:
            data = TicketCreate(
                description=tracker.get_slot("ticket_description") or "",
                category=tracker.get_slot("ticket_category") or "",
                customer_name=tracker.get_slot("customer_name"),
                customer_email=tracker.get_slot("customer_email"),
                conversation_id=tracker.sender_id,
                # The gateway's key for this line: sent again to another Rasa server, it finds this ticket.
                source_line=line_key(tracker),
            )
        except ValidationError as error:
            dispatcher.utter_message(text=f"I couldn't open the ticket: {error.errors()[0]['msg']}.")
            return [SlotSet(slot, None) for slot in TICKET_SLOTS]

        def _create(session):
            ticket = create_ticket(session=session, data=data, actor=BOT)
            return ticket, sla_promise(ticket)

        try:
            ticket, promise = await in_transaction(_create)
        except DatabaseUnavailable:
            # Keep every slot: saying "yes" again retries without re-asking anything.
            say_database_trouble(dispatcher)
            return [SlotSet("ticket_confirmed", None)]
        except TicketError as error:
            dispatcher.utter_message(text=f"I couldn't open the ticket: {error}.")
            return [SlotSet(slot, None) for slot in TICKET_SLOTS]
        urgency = " I've marked it urgent." if ticket.classification == "urgent" else ""
        dispatcher.utter_message(
            text=(
                f"Your ticket {ticket.reference} is open.{urgency} {promise} "
                f"Keep the reference: with it and your e-mail you can check the status here any time."
            ),
            custom={"ticket": {"reference": ticket.reference, "priority": ticket.priority,
                               "classification": ticket.classification}},
        )
        return [SlotSet(slot, None) for slot in TICKET_SLOTS] + [
            SlotSet("last_ticket_ref", ticket.reference),
            SlotSet("bot_helped", True),
        ]


LOOKUP_REFUSED = (
    "For your security I can't look up tickets in this conversation any more. "
    "Please check the reference in the confirmation e-mail, or ask to talk to a person."
)
LOOKUP_FAILED = (
    "I couldn't find a ticket with that reference and e-mail address together. "
    "Please check both and try again."
)


def _refusal_just_said(tracker: Tracker) -> bool:
    """Whether the bot's last words (this turn) already were the refusal."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot" and event.get("text") == LOOKUP_REFUSED:
            return True
    return False


def lookups_left(tracker: Tracker) -> int:
    return get_settings().max_lookup_attempts - int(tracker.get_slot("lookup_failures") or 0)


class _TicketLookupValidation(GuardedFormValidation):
    """Reference + e-mail, shared by the status and the add-information forms. The pair
    is checked as soon as both are known; a mismatch gets the same neutral answer
    whichever of the two was wrong, and the form asks again until the tries run out."""

    @abstractmethod
    def name(self) -> str:
        """Abstract: the status and the add-information forms each name themselves."""

    async def required_slots(self, domain_slots, dispatcher, tracker, domain):
        # Once the tries are used up the form ends at once; its submit action refuses.
        return [] if lookups_left(tracker) <= 0 else domain_slots

    async def extract_ticket_ref(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        if self.at_activation(tracker) or self.requested(tracker) == "ticket_ref":
            found = normalise_reference(latest_text(tracker))
            if found:
                return {"ticket_ref": found}
        answer = self.answer_for("ticket_ref", tracker)
        return {"ticket_ref": answer} if answer else {}

    async def validate_ticket_ref(self, value, dispatcher, tracker: Tracker, domain):
        reference = normalise_reference(str(value or ""))
        if reference is None:
            dispatcher.utter_message(
                text="That doesn't look like a ticket reference. References look like TCK-7QK2MD."
            )
            return {"ticket_ref": None}
        email = tracker.get_slot("lookup_email")
        if email and "lookup_email" not in tracker.slots_to_validate():
            return {"ticket_ref": reference, **await self._verify(dispatcher, tracker, reference, email)}
        return {"ticket_ref": reference}

    async def extract_lookup_email(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return self.email_from("lookup_email", tracker)

    async def validate_lookup_email(self, value, dispatcher, tracker: Tracker, domain):
        checked = self.check_email(value, dispatcher, "lookup_email")
        reference = tracker.get_slot("ticket_ref")
        if checked["lookup_email"] and reference:
            return {**checked, **await self._verify(dispatcher, tracker, reference, checked["lookup_email"])}
        return checked

    async def _verify(self, dispatcher, tracker: Tracker, reference: str, email: str) -> dict[str, Any]:
        try:
            found = await in_transaction(
                lambda session: find_ticket_for_customer(
                    session=session, reference=reference, email=email
                ) is not None
            )
        except DatabaseUnavailable:
            say_database_trouble(dispatcher)
            return {"lookup_email": None}
        if found:
            return {}
        failures = int(tracker.get_slot("lookup_failures") or 0) + 1
        dispatcher.utter_message(text=LOOKUP_FAILED)
        if failures >= get_settings().max_lookup_attempts:
            dispatcher.utter_message(text=LOOKUP_REFUSED)
        return {"lookup_failures": float(failures), "ticket_ref": None, "lookup_email": None}


class ValidateTicketStatusForm(_TicketLookupValidation):
    def name(self) -> str:
        return "validate_ticket_status_form"


class ActionCheckTicketStatus(Action):
    def name(self) -> str:
        return "action_check_ticket_status"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        reference, email = tracker.get_slot("ticket_ref"), tracker.get_slot("lookup_email")
        if lookups_left(tracker) <= 0 or not reference or not email:
            # The form ended without a verified pair: the refusal was, or is now, said.
            if lookups_left(tracker) <= 0 and not _refusal_just_said(tracker):
                dispatcher.utter_message(text=LOOKUP_REFUSED)
            return []
        settings = get_settings()

        def _lookup(session):
            ticket = find_ticket_for_customer(session=session, reference=reference, email=email)
            if ticket is None:
                return None
            summary = (
                f"Ticket {ticket.reference} ({settings.category_label(ticket.category)}: "
                f"\u201c{ticket.subject}\u201d) is {ticket.status}, last updated "
                f"{plain_time(ticket.updated_at)}. {next_step(ticket, utcnow())}"
            )
            reply = latest_reply(session=session, ticket=ticket)
            if reply is not None:
                summary += f"\n\nOur latest reply ({plain_time(reply.created_at)}): {reply.body}"
            return summary

        try:
            summary = await in_transaction(_lookup)
        except DatabaseUnavailable:
            say_database_trouble(dispatcher)
            return []
        if summary is None:  # verified by the form moments ago; changed since
            dispatcher.utter_message(text=LOOKUP_FAILED)
            return [SlotSet("ticket_ref", None), SlotSet("lookup_email", None)]
        dispatcher.utter_message(text=summary)
        return [SlotSet("bot_helped", True)]


class ValidateTicketUpdateForm(_TicketLookupValidation):
    def name(self) -> str:
        return "validate_ticket_update_form"

    async def extract_ticket_note(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        answer = self.answer_for("ticket_note", tracker, free_text=True)
        return {"ticket_note": answer} if answer else {}

    def validate_ticket_note(self, value, dispatcher, tracker, domain):
        text = str(value or "").strip()
        if not text:
            return {"ticket_note": None}
        if len(text) > MAX_DESCRIPTION:
            dispatcher.utter_message(
                text=f"That's more than {MAX_DESCRIPTION:,} characters. Please send it in shorter parts."
            )
            return {"ticket_note": None}
        return {"ticket_note": text}


class ActionAddTicketInfo(Action):
    def name(self) -> str:
        return "action_add_ticket_info"

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[EventType]:
        reference, email = tracker.get_slot("ticket_ref"), tracker.get_slot("lookup_email")
        note = tracker.get_slot("ticket_note")
        if lookups_left(tracker) <= 0 or not reference or not email or not note:
            if lookups_left(tracker) <= 0 and not _refusal_just_said(tracker):
                dispatcher.utter_message(text=LOOKUP_REFUSED)
            return []

        def _add(session):
            ticket = find_ticket_for_customer(session=session, reference=reference, email=email)
            if ticket is None:
                return None
            add_customer_info(session=session, ticket=ticket, text=note, actor=customer_actor(email))
            return ticket.reference, ticket.status

        try:
            result = await in_transaction(_add)
        except DatabaseUnavailable:
            say_database_trouble(dispatcher)
            return []
        except TicketError as error:
            dispatcher.utter_message(text=f"I couldn't add that: {error}.")
            return [SlotSet("ticket_note", None)]
        if result is None:
            dispatcher.utter_message(text=LOOKUP_FAILED)
            return [SlotSet("ticket_ref", None), SlotSet("lookup_email", None), SlotSet("ticket_note", None)]
        ticket_ref, status = result
        dispatcher.utter_message(
            text=f"Thanks, I've added that to {ticket_ref}. The ticket is {status} and our team will see it."
        )
        return [SlotSet("ticket_note", None), SlotSet("bot_helped", True)]

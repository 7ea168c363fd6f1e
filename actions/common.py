"""What every action shares: running database work off the event loop, with retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.conversations.models import PAYLOAD_MAX_CHARS
from bot.db import transaction
from bot.settings import get_settings
from nlu.patterns import asks_beside_request

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Intents that leave a form question unanswered so a rule can handle them
# (answer the FAQ, cancel, hand over to a person).
INTERRUPTING_INTENTS = {"faq", "stop", "request_human"}
INTERRUPT_CONFIDENCE = 0.7

DATABASE_TROUBLE = (
    "Sorry, I'm having trouble saving that right now. Please try again in a minute; "
    "what you've told me so far is kept."
)


class DatabaseUnavailable(RuntimeError):
    """The database stayed locked or unreachable through every retry."""


async def in_transaction(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction in a worker thread, so a slow query never
    stalls other conversations. A locked or briefly unreachable database is retried
    with backoff; if it stays down, DatabaseUnavailable is raised."""
    attempts = get_settings().db_retry_attempts

    @retry(
        retry=retry_if_exception_type(OperationalError),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.2, max=2.0),
        reraise=True,
    )
    def _run() -> T:
        with transaction() as session:
            return work(session)

    try:
        return await asyncio.to_thread(_run)
    except OperationalError as error:
        logger.error("database unavailable after %s attempts: %s", attempts, error)
        raise DatabaseUnavailable(str(error)) from error


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def line_key(tracker: Tracker) -> str | None:
    """The gateway's key for the latest customer line (api.rasa_shards: the same on every Rasa server
    the line is sent to), or None for a line that did not come through the gateway."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    key = metadata.get("line") if isinstance(metadata, dict) else None
    return key if isinstance(key, str) and 0 < len(key) <= 64 else None


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


# How sure the classifier must be of the FAQ topic (its response-selector output) of a question asked
# beside an explicit request for the bot to answer it unasked.
ASIDE_CONFIDENCE = 0.6


def question_beside(tracker: Tracker) -> str | None:
    """The FAQ answer to a question asked beside an explicit request in the latest message ("I need to
    open a ticket. Do you ship to Austria?"), or None. The request is what the bot does
    (nlu.components.ExplicitRequest); the question, told apart from the request by the text
    (nlu.patterns.asks_beside_request), is answered first where the classifier's FAQ topic for
    the line is sure, so the customer gets both things asked for in turn."""
    message = tracker.latest_message or {}
    if not asks_beside_request(message.get("text") or ""):
        return None
    selected = ((message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    if float(selected.get("confidence") or 0) < ASIDE_CONFIDENCE:
        return None
    answers = [r.get("text") for r in selected.get("responses") or [] if r.get("text")]
    return answers[0] if answers else None


def second_request(tracker: Tracker) -> str | None:
    """The rest of the latest line where the NLU read it for its first request only
    (nlu.meaning.MeaningClassifier sets `second_request`): in "where is order 48219, and also how
    do I return the shoes?" the bot takes the order question, and "how do I return the shoes?" is
    what it says it takes next."""
    found = (tracker.latest_message or {}).get("second_request") or {}
    # Never an intent name: Rasa takes a line starting with "/" for one.
    text = str(found.get("text") or "").strip().lstrip("/").strip()
    return text or None


def say_second_request_first(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Before a form's first question: which of two requests the bot takes first, and that the
    other one is not forgotten."""
    rest = second_request(tracker)
    if rest:
        dispatcher.utter_message(
            text=f"You asked two things, so I'll take them one at a time, starting with the first. "
            f'Once we\'re done, ask me again about the other one: "{rest}".'
        )


def offer_second_request(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """After the first of two requests was answered: the second one, offered as a button that asks
    it (or, in the middle of a form, whose next question comes after this, to ask again later)."""
    rest = second_request(tracker)
    if not rest:
        return
    if (tracker.active_loop or {}).get("name"):
        dispatcher.utter_message(text=f'You also asked: "{rest}". Ask me that again once we\'re done '
                                      "here and I'll take it next.")
    elif len(rest) > PAYLOAD_MAX_CHARS:
        dispatcher.utter_message(text="That was your first question. Send me the other one on its own and "
                                      "I'll take it next.")
    else:
        dispatcher.utter_message(text="That was your first question. Your other one is below: tap it and "
                                      "I'll take it next.", buttons=[{"title": rest, "payload": rest}])


def is_interruption(tracker: Tracker, *, free_text: bool = False) -> bool:
    """Whether the message is an FAQ, a stop or a request for a person rather than an
    answer. For free-text questions (describe the problem) a statement is the answer
    even when it reads like an FAQ topic: only a question ("...?") counts as an FAQ,
    and only a short message as stop or a request for a person."""
    name, confidence = latest_intent(tracker)
    text = latest_text(tracker).strip()
    if name not in INTERRUPTING_INTENTS:
        return False
    # A button payload (/stop) is certain; typed text must be confidently classified.
    if text.startswith("/"):
        return True
    if confidence < INTERRUPT_CONFIDENCE:
        return False
    if not free_text:
        return True
    if name == "faq":
        return text.endswith("?")
    return len(text.split()) <= 8


def entity_value(tracker: Tracker, entity: str) -> Any:
    return next(tracker.get_latest_entity_values(entity), None)


def is_button_payload(tracker: Tracker) -> bool:
    return latest_text(tracker).startswith("/")


def say_database_trouble(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(text=DATABASE_TROUBLE)

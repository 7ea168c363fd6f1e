"""Helpers for action tests: a real domain, trackers built like Rasa sends them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def message(text: str, intent: str = "inform", confidence: float = 0.95,
            entities: list[dict] | None = None) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
    }


def make_tracker(
    text: str = "",
    *,
    intent: str = "inform",
    confidence: float = 0.95,
    entities: list[dict] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    requested_slot: str | None = None,
    events: list[dict] | None = None,
    sender_id: str = "conversation-1",
) -> Tracker:
    all_slots = {"lookup_failures": 0.0, "survey_question_index": 0.0, "survey_offered": False,
                 "bot_helped": False, **(slots or {})}
    all_slots["requested_slot"] = requested_slot
    latest = message(text, intent, confidence, entities)
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=[*(events or []), {"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


SHIPPING_ANSWER = "We deliver to Austria in 5–10 business days."


def beside_a_question(tracker, *, topic_confidence: float = 0.88):
    """What the response selector reads in "let me talk to a person, do you ship to Austria?"."""
    tracker.latest_message["response_selector"] = {"faq": {"response": {
        "confidence": topic_confidence, "intent_response_key": "faq/international_shipping",
        "responses": [{"text": SHIPPING_ANSWER}]}}}
    return tracker


def slot_events(events: list[dict]) -> dict[str, Any]:
    """The slots an action set, last value wins."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]

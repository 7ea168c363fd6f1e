"""Factories that build rows through the service layer, with a fixed clock and settings."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from bot.feedback.models import Feedback
from bot.feedback.schemas import FeedbackCreate
from bot.feedback.service import record_feedback
from bot.settings import DEFAULT_CATEGORIES, DEFAULT_SLA, Settings
from bot.surveys.definition import SurveyDefinition, SurveyQuestion
from bot.surveys.models import SurveyResponse
from bot.surveys.service import start_survey
from bot.tickets.models import Ticket
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import create_ticket
from bot.users.models import User

# A Monday morning; every test that cares about time counts from here.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

_conversation_numbers = itertools.count(1)


def plain_settings(**overrides: Any) -> Settings:
    """The documented defaults, whatever the environment or a `.env` file says."""
    values: dict[str, Any] = {
        "ticket_categories": list(DEFAULT_CATEGORIES),
        "sla_policy": dict(DEFAULT_SLA),
        "repeat_contact_days": 30,
        "recovery_score_threshold": 2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def make_user(session: Session, *, name: str = "Sam", role: str = "agent", **overrides: Any) -> User:
    """A staff member who cannot sign in (no real password hash); for tests of the service layer."""
    fields: dict[str, Any] = {"email": f"{name.lower()}@example.com", "name": name, "role": role,
                              "password_hash": "!", "active": True, "presence": "offline"}
    fields.update(overrides)
    user = User(**fields)
    session.add(user)
    session.flush()
    return user


def make_ticket(
    session: Session,
    *,
    now: datetime = NOW,
    settings: Settings | None = None,
    actor: str = "bot",
    **overrides: Any,
) -> Ticket:
    """A routine ticket ("Where is my parcel?") unless `overrides` say otherwise."""
    fields: dict[str, Any] = {
        "description": "Where is my parcel?",
        "category": "orders_shipping",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
    }
    fields.update(overrides)
    return create_ticket(
        session=session,
        data=TicketCreate(**fields),
        actor=actor,
        settings=settings or plain_settings(),
        now=now,
    )


def make_feedback(session: Session, *, now: datetime = NOW, **overrides: Any) -> Feedback:
    fields: dict[str, Any] = {
        "category": "service_quality",
        "text": "The agent was friendly and quick.",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "conversation_id": "conv-feedback-1",
    }
    fields.update(overrides)
    return record_feedback(session=session, data=FeedbackCreate(**fields), now=now)


def make_survey_definition(**overrides: Any) -> SurveyDefinition:
    """A short survey: CSAT rating, solved yes/no, optional comment."""
    fields: dict[str, Any] = {
        "key": "test",
        "version": 3,
        "questions": [
            SurveyQuestion(key="csat", type="rating_1_5", text="How satisfied are you? (1-5)"),
            SurveyQuestion(key="solved", type="yes_no", text="Did we solve your problem?"),
            SurveyQuestion(key="comment", type="text", text="Anything to add?", required=False),
        ],
    }
    fields.update(overrides)
    return SurveyDefinition(**fields)


def make_survey_response(
    session: Session,
    *,
    definition: SurveyDefinition | None = None,
    conversation_id: str | None = None,
    now: datetime = NOW,
    **overrides: Any,
) -> SurveyResponse:
    return start_survey(
        session=session,
        conversation_id=conversation_id or f"conv-{next(_conversation_numbers)}",
        definition=definition or make_survey_definition(),
        now=now,
        **overrides,
    )

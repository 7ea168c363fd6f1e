"""Survey operations: start once per conversation, store each answer as it comes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actors import BOT
from bot.db import utcnow
from bot.errors import Conflict
from bot.recovery.service import open_for_survey
from bot.settings import Settings, get_settings
from bot.surveys.definition import SurveyDefinition, SurveyQuestion
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.tickets.models import Ticket
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import create_ticket


class SurveyError(Conflict):
    """A survey step that is not allowed."""


def get_response(*, session: Session, conversation_id: str) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(SurveyResponse.conversation_id == conversation_id)
    )


def start_survey(
    *,
    session: Session,
    conversation_id: str,
    definition: SurveyDefinition,
    customer_email: str | None = None,
    agent: str | None = None,
    channel: str = "chat",
    now: datetime | None = None,
) -> SurveyResponse:
    """Open the conversation's one survey response (incomplete until the last answer)."""
    if get_response(session=session, conversation_id=conversation_id) is not None:
        raise SurveyError("this conversation already has a survey response")
    response = SurveyResponse(
        conversation_id=conversation_id,
        survey_key=definition.key,
        survey_version=definition.version,
        customer_email=customer_email,
        agent=agent,
        channel=channel,
        started_at=now or utcnow(),
        completed=False,
    )
    session.add(response)
    session.flush()
    return response


def record_answer(
    *,
    session: Session,
    response: SurveyResponse,
    question: SurveyQuestion,
    position: int,
    value: int | str,
    now: datetime | None = None,
) -> SurveyAnswer:
    """Store one answer now; answering the same question again replaces it."""
    if response.completed:
        raise SurveyError("this survey is already complete")
    score, text = (None, str(value)) if question.type == "text" else (int(value), None)
    answer = session.scalar(
        select(SurveyAnswer).where(
            SurveyAnswer.response_id == response.id, SurveyAnswer.question_key == question.key
        )
    )
    if answer is None:
        answer = SurveyAnswer(response=response, question_key=question.key)
        session.add(answer)
    answer.question_type = question.type
    answer.question_text = question.text
    answer.position = position
    answer.score = score
    answer.text = text
    answer.answered_at = now or utcnow()
    session.flush()
    return answer


def complete_survey(*, session: Session, response: SurveyResponse, now: datetime | None = None) -> SurveyResponse:
    response.completed = True
    response.completed_at = now or utcnow()
    session.flush()
    return response


def headline_score(*, session: Session, response: SurveyResponse) -> int | None:
    """The answer to the survey's first question (CSAT), if given."""
    return session.scalar(
        select(SurveyAnswer.score).where(
            SurveyAnswer.response_id == response.id, SurveyAnswer.position == 0
        )
    )


def open_recovery_ticket(
    *,
    session: Session,
    response: SurveyResponse,
    customer_name: str | None = None,
    customer_email: str | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Ticket | None:
    """A high-priority follow-up ticket when the headline score is at or below the
    recovery threshold; None otherwise. Opened at most once per response."""
    settings = settings or get_settings()
    if response.recovery_ticket_id is not None:
        return session.get(Ticket, response.recovery_ticket_id)
    score = headline_score(session=session, response=response)
    if score is None or score > settings.recovery_score_threshold:
        return None
    answers = "\n".join(
        f"- {answer.question_text}: {answer.text if answer.text is not None else answer.score}"
        for answer in response.answers
    )
    category = "other" if any(c.key == "other" for c in settings.ticket_categories) else (
        settings.ticket_categories[-1].key
    )
    about = response.conversation_id
    about = f"request {about.removeprefix('ticket:')}" if about.startswith("ticket:") else f"chat {about}"
    # Staff read it, and so does the customer on the ticket's page (the link in the follow-up e-mail).
    ticket = create_ticket(
        session=session,
        data=TicketCreate(
            subject=f"Service recovery: satisfaction score {score}",
            description=(
                f"A satisfaction score of {score} on the survey after {about}. We will get in touch, find "
                f"out what went wrong and put it right.\n\nThe survey's answers so far:\n{answers}"
            ),
            category=category,
            priority="high",
            customer_name=customer_name,
            customer_email=customer_email or response.customer_email,
            conversation_id=response.conversation_id,
        ),
        actor=BOT,
        settings=settings,
        now=now,
        tell=False,  # the customer hears from the person who follows it up (bot.recovery.service.follow_up)
    )
    response.recovery_ticket_id = ticket.id
    session.flush()
    open_for_survey(session=session, response=response, score=score, ticket_id=ticket.id, settings=settings, now=now)
    return ticket

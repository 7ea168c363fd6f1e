"""The satisfaction survey after a ticket is solved, answered on the ticket's page (the link in the
"solved" e-mail) rather than in a chat: the same questions as in chat, one response per ticket, each answer
stored as it is given, attributed to the agent who solved it, and a low headline score opening a
service-recovery ticket and item exactly as in chat."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.actors import staff_id_of
from bot.db import utcnow
from bot.errors import Conflict, Invalid, NotFound
from bot.settings import get_settings
from bot.surveys.definition import SurveyDefinition, SurveySkipped, load_survey, parse_answer
from bot.surveys.models import SurveyResponse
from bot.surveys.service import complete_survey, get_response, open_recovery_ticket, record_answer, start_survey
from bot.tickets.models import DONE_STATUSES, Ticket
from bot.users.models import User

HINTS = {
    "rating_1_5": "a number from 1 (very poor) to 5 (excellent)",
    "nps_0_10": "a number from 0 to 10",
    "yes_no": "yes or no",
    "text": "your words",
}


class QuestionState(BaseModel):
    key: str
    type: str = Field(description="rating_1_5, nps_0_10, yes_no or text")
    text: str
    required: bool
    answer: int | str | None = Field(description="as stored: the score (yes 1, no 0) or the words; null if not yet")


class TicketSurvey(BaseModel):
    questions: list[QuestionState]
    completed: bool
    recovery_reference: str | None = Field(description="the follow-up ticket a low score opened, if one did")


def survey_key(ticket: Ticket) -> str:
    """The survey response's key for a ticket (a chat's is its conversation id): one per ticket."""
    return f"ticket:{ticket.reference}"


def resolved_by(session: Session, ticket: Ticket) -> str | None:
    """The name of the staff member who last solved the ticket."""
    for event in reversed(ticket.events):
        if event.kind == "status" and event.to_value == "resolved":
            staff_id = staff_id_of(event.actor)
            user = session.get(User, staff_id) if staff_id is not None else None
            return user.name if user else None
    return None


def _definition() -> SurveyDefinition:
    return load_survey(get_settings().survey_file)


def survey_of(session: Session, ticket: Ticket) -> TicketSurvey:
    definition = _definition()
    response = get_response(session=session, conversation_id=survey_key(ticket))
    given = {answer.question_key: answer.text if answer.text is not None else answer.score
             for answer in (response.answers if response else [])}
    recovery = session.get(Ticket, response.recovery_ticket_id) if response and response.recovery_ticket_id else None
    return TicketSurvey(
        questions=[QuestionState(key=q.key, type=q.type, text=q.text, required=q.required, answer=given.get(q.key))
                   for q in definition.questions],
        completed=bool(response and response.completed), recovery_reference=recovery.reference if recovery else None)


def answer_question(*, session: Session, ticket: Ticket, key: str, answer: str,
                    now: datetime | None = None) -> TicketSurvey:
    """Store one answer (again: replaced) while the survey is open; the last question completes it."""
    now = now or utcnow()
    if ticket.status not in DONE_STATUSES:
        raise Conflict("the survey opens once your request is solved")
    definition = _definition()
    position, question = next(((i, q) for i, q in enumerate(definition.questions) if q.key == key), (None, None))
    if question is None:
        raise NotFound(f"the survey has no question {key!r}")
    response = get_response(session=session, conversation_id=survey_key(ticket))
    if response is not None and response.completed:
        raise Conflict("this survey is already answered; thank you")
    try:
        value = parse_answer(question, answer)
    except SurveySkipped:
        value = None
    else:
        if value is None:
            raise Invalid(f"please answer with {HINTS[question.type]}")
    if response is None:
        response = start_survey(session=session, conversation_id=survey_key(ticket), definition=definition,
                                customer_email=ticket.customer_email, agent=resolved_by(session, ticket),
                                channel="page", now=now)  # answered on the ticket's page
    if value is not None:
        record_answer(session=session, response=response, question=question, position=position, value=value, now=now)
    if position == 0:
        open_recovery_ticket(session=session, response=response, customer_name=ticket.customer_name,
                             customer_email=ticket.customer_email, now=now)
    if position == len(definition.questions) - 1:
        complete_survey(session=session, response=response, now=now)
    session.refresh(response)
    return survey_of(session, ticket)


def response_of(session: Session, ticket: Ticket) -> SurveyResponse | None:
    return get_response(session=session, conversation_id=survey_key(ticket))

"""A ticket's page for its customer, opened by the link in each e-mail about it (no account): its state,
the SLA promise and its public history; the customer can add to it (a ticket waiting on them or solved
opens again, as in the chat) or close it. The link's token is the Bearer credential (`TicketLink`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.orm import Session

from api.deps import SessionDep
from bot.actors import customer_actor, staff_id_of
from bot.errors import Conflict
from bot.mail.service import set_surveys, wants_surveys
from bot.settings import get_settings
from bot.surveys.after_ticket import TicketSurvey, answer_question, survey_of
from bot.textscan import NOT_BLANK
from bot.tickets.attachments import attachments_of
from bot.tickets.links import ticket_for_link
from bot.tickets.models import Ticket
from bot.tickets.schemas import MAX_DESCRIPTION
from bot.tickets.service import add_customer_info, change_status
from bot.users.service import staff_names

router = APIRouter(prefix="/api/v1/ticket-page", tags=["ticket page"])
link_bearer = HTTPBearer(scheme_name="TicketLink", auto_error=False,
                         description="the token after `#token=` in the link of an e-mail about the ticket")
# What the customer's page shows of a ticket's history (internal notes, priorities and assignees stay staff's).
PUBLIC_KINDS = ("created", "reply", "note", "status")


class HistoryItem(BaseModel):
    at: datetime
    kind: Literal["created", "reply", "note", "status"] = Field(
        description="created; reply: our answer; note: what you added; status: a new state")
    who: str = Field(description='"you", an agent\'s name, or the company')
    text: str | None = Field(description="the reply or note; for status, the new state")
    files: list[str] = Field(default=[], description="the names of the files you sent with it that we kept")


class TicketPageOut(BaseModel):
    reference: str
    subject: str
    category: str
    status: Literal["new", "open", "pending", "resolved", "closed"]
    created_at: datetime
    first_response_due: datetime | None
    first_responded_at: datetime | None
    resolution_due: datetime | None
    resolved_at: datetime | None
    history: list[HistoryItem]
    surveys_by_email: bool = Field(description="whether satisfaction surveys are e-mailed to this address (e-mail "
                                   "about the request itself always is)")


class AddIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": NOT_BLANK})


def linked_ticket(session: SessionDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(link_bearer)]) -> Ticket:
    return ticket_for_link(session=session, token=credentials.credentials if credentials else None)


LinkedTicket = Annotated[Ticket, Depends(linked_ticket)]


def page_of(session: Session, ticket: Ticket) -> TicketPageOut:
    settings = get_settings()
    events = [event for event in ticket.events if event.kind in PUBLIC_KINDS]
    files: dict[int, list[str]] = {}
    for attachment in attachments_of(session=session, ticket_id=ticket.id):
        if attachment.event_id is not None:
            files.setdefault(attachment.event_id, []).append(attachment.filename)
    names = staff_names(session, {i for i in (staff_id_of(e.actor) for e in events) if i is not None})

    def who(actor: str) -> str:
        if actor.startswith("customer"):
            return "you"
        staff_id = staff_id_of(actor)
        return names.get(staff_id, settings.company_name) if staff_id else settings.company_name

    return TicketPageOut(
        reference=ticket.reference, subject=ticket.subject, category=settings.category_label(ticket.category),
        status=ticket.status, created_at=ticket.created_at, first_response_due=ticket.first_response_due,
        first_responded_at=ticket.first_responded_at, resolution_due=ticket.resolution_due,
        resolved_at=ticket.resolved_at, surveys_by_email=wants_surveys(session, ticket.customer_email),
        history=[HistoryItem(at=e.created_at, kind=e.kind, who=who(e.actor),
                             text={"status": e.to_value, "created": ticket.description}.get(e.kind, e.body),
                             files=files.get(e.id, []))
                 for e in events])


@router.get("", response_model=TicketPageOut)
def ticket_page(session: SessionDep, ticket: LinkedTicket) -> TicketPageOut:
    """The ticket the link opens: 401 for a wrong, expired or revoked link."""
    return page_of(session, ticket)


@router.post("/comments", response_model=TicketPageOut, status_code=201)
def add_to_ticket(body: AddIn, session: SessionDep, ticket: LinkedTicket) -> TicketPageOut:
    """Add to the request; one waiting on you, solved or closed opens again for an agent."""
    add_customer_info(session=session, ticket=ticket, text=body.text, actor=customer_actor(ticket.customer_email or ""))
    return page_of(session, ticket)


@router.post("/close", response_model=TicketPageOut)
def close_ticket(session: SessionDep, ticket: LinkedTicket) -> TicketPageOut:
    """The customer needs nothing more (a closed ticket stays as it is)."""
    change_status(session=session, ticket=ticket, to_status="closed", actor=customer_actor(ticket.customer_email or ""))
    return page_of(session, ticket)


class PreferencesIn(BaseModel):
    surveys: StrictBool = Field(description="false: no more satisfaction surveys by e-mail")


@router.post("/mail-preferences", response_model=TicketPageOut)
def mail_preferences(body: PreferencesIn, session: SessionDep, ticket: LinkedTicket) -> TicketPageOut:
    """What this request's address takes by e-mail besides the request itself: satisfaction surveys, or
    not. 409 for a ticket with no e-mail address."""
    if not ticket.customer_email:
        raise Conflict("this request has no e-mail address")
    set_surveys(session=session, address=ticket.customer_email, surveys=body.surveys)
    return page_of(session, ticket)


@router.post("/unsubscribe", include_in_schema=False)
def unsubscribe(session: SessionDep, token: Annotated[str, Query(max_length=200)]) -> dict:
    """One click in the mail program (RFC 8058: the List-Unsubscribe address of a "solved" e-mail,
    POSTed with List-Unsubscribe=One-Click): no more surveys to this address."""
    ticket = ticket_for_link(session=session, token=token)
    if ticket.customer_email:
        set_surveys(session=session, address=ticket.customer_email, surveys=False)
    return {"surveys_by_email": False}


class AnswerIn(BaseModel):
    key: str = Field(min_length=1, max_length=64, description="the question's key")
    answer: str = Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": NOT_BLANK},
                        description='as the customer would say it: "4", "yes", or their words ("skip" an optional one)')


@router.get("/survey", response_model=TicketSurvey)
def ticket_survey(session: SessionDep, ticket: LinkedTicket) -> TicketSurvey:
    """The satisfaction survey about this ticket (the same questions as in chat) and the answers so far."""
    return survey_of(session, ticket)


@router.post("/survey/answers", response_model=TicketSurvey)
def answer_survey(body: AnswerIn, session: SessionDep, ticket: LinkedTicket) -> TicketSurvey:
    """One answer, stored as it is given (again: replaced). 409 before the ticket is solved or after the
    last question; 422 for an answer that does not fit the question; a low first score opens a
    service-recovery ticket, as in chat."""
    return answer_question(session=session, ticket=ticket, key=body.key, answer=body.answer)

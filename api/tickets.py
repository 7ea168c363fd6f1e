"""Tickets for staff: find, read with their history, create, change, comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.chat import agent_names, announce, to_out
from api.deps import SessionDep, require_role
from bot.actors import staff_actor, staff_id_of
from bot.conversations.models import Conversation
from bot.conversations.service import add_message, messages_after
from bot.db import transaction, utcnow
from bot.settings import get_settings
from bot.tickets.models import Ticket
from bot.tickets.schemas import (
    CommentIn,
    Status,
    TicketCreate,
    TicketDetail,
    TicketEventOut,
    TicketOut,
    TicketPage,
    TicketPatch,
)
from bot.tickets.service import (
    TicketError,
    add_comment,
    assign_ticket,
    change_status,
    create_ticket,
    get_ticket,
    search_tickets,
    set_priority,
)
from bot.users.models import User
from bot.users.service import active_user

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
Staff = Annotated[User, Depends(require_role("agent"))]


def ticket_out(ticket: Ticket, names: dict[int, str]) -> TicketOut:
    now = utcnow()
    out = TicketOut.model_validate(ticket)
    out.assignee_name = names.get(ticket.assignee_id) if ticket.assignee_id else None
    out.first_response_overdue = ticket.is_first_response_overdue(now)
    out.resolution_overdue = ticket.is_resolution_overdue(now)
    return out


def _detail(session: Session, ticket: Ticket) -> TicketDetail:
    ids = {i for i in (staff_id_of(e.actor) for e in ticket.events) if i is not None}
    names = agent_names(session, ids | ({ticket.assignee_id} if ticket.assignee_id else set()))
    events = []
    for event in ticket.events:
        out = TicketEventOut.model_validate(event)
        staff_id = staff_id_of(event.actor)
        out.actor_name = names.get(staff_id) if staff_id else None
        events.append(out)
    chat = session.get(Conversation, ticket.conversation_id) if ticket.conversation_id else None
    transcript = to_out(messages_after(session=session, conversation=chat, limit=10_000), session) if chat else []
    return TicketDetail(ticket=ticket_out(ticket, names), events=events, transcript=transcript)


def _found(session: Session, reference: str) -> Ticket:
    ticket = get_ticket(session=session, reference=reference)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no ticket with that reference")
    return ticket


def _assignee(session: Session, assignee_id: int) -> User:
    user = active_user(session=session, user_id=assignee_id)
    if user is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="assignee_id is not an active staff member")
    return user


@router.get("", response_model=TicketPage)
def list_tickets(
    session: SessionDep,
    user: Staff,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    assignee: Annotated[str | None, Query(description="a user id, `me`, or `none` for unassigned tickets",
                                          pattern=r"^(\d{1,18}|me|none)$")] = None,
    q: Annotated[str | None, Query(max_length=200, description="a reference, or words in the subject, "
                                   "description, or the customer's name or e-mail")] = None,
    conversation_id: Annotated[str | None, Query(max_length=128, description="tickets opened from this chat")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TicketPage:
    """Tickets matching every filter given, newest first."""
    assignee_id = user.id if assignee == "me" else int(assignee) if assignee and assignee.isdigit() else None
    total, page = search_tickets(session=session, status=status_, assignee_id=assignee_id,
                                 unassigned=assignee == "none", conversation_id=conversation_id, q=q, limit=limit,
                                 offset=offset)
    names = agent_names(session, {t.assignee_id for t in page if t.assignee_id})
    return TicketPage(total=total, limit=limit, offset=offset, items=[ticket_out(t, names) for t in page])


@router.post("", response_model=TicketDetail, status_code=status.HTTP_201_CREATED)
def new_ticket(body: TicketCreate, session: SessionDep, user: Staff) -> TicketDetail:
    """A ticket opened by staff (for example during a live chat, with its conversation_id).
    It is classified and given SLA due times exactly as the bot's tickets are."""
    try:
        ticket = create_ticket(session=session, data=body, actor=staff_actor(user), settings=get_settings())
    except TicketError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    return _detail(session, ticket)


class CategoryOut(BaseModel):
    key: str
    label: str


@router.get("/categories", response_model=list[CategoryOut])
def categories(_: Staff) -> list[CategoryOut]:
    """The ticket categories (setting TICKET_CATEGORIES), for forms."""
    return [CategoryOut(key=c.key, label=c.label) for c in get_settings().ticket_categories]


@router.get("/{reference}", response_model=TicketDetail)
def ticket_detail(reference: str, session: SessionDep, _: Staff) -> TicketDetail:
    """The ticket and its whole history: changes, customer notes, public replies, private notes."""
    return _detail(session, _found(session, reference))


@router.patch("/{reference}", response_model=TicketDetail)
def update_ticket(reference: str, body: TicketPatch, session: SessionDep, user: Staff) -> TicketDetail:
    """Change status, priority (which moves the SLA due times) and assignee in one step:
    all of it or none of it. A status the workflow does not allow from here is 409."""
    ticket = _found(session, reference)
    actor = staff_actor(user)
    try:
        if "assignee_id" in body.model_fields_set:
            if body.assignee_id is not None:
                _assignee(session, body.assignee_id)
            assign_ticket(session=session, ticket=ticket, assignee_id=body.assignee_id, actor=actor)
        if body.priority is not None:
            set_priority(session=session, ticket=ticket, priority=body.priority, actor=actor)
        if body.status is not None:
            change_status(session=session, ticket=ticket, to_status=body.status, actor=actor)
    except TicketError as error:  # the request's transaction rolls back every change above
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    return _detail(session, ticket)


@router.post("/{reference}/comments", response_model=TicketEventOut, status_code=status.HTTP_201_CREATED)
def comment(reference: str, body: CommentIn, user: Staff, request: Request) -> TicketEventOut:
    """A public reply to the customer or a private note for staff. A public reply is shown when
    the customer checks the ticket with the bot and, when the ticket came from a chat that is
    still open, appears in that chat too. The first public reply sets first_responded_at."""
    with transaction() as session:
        ticket = _found(session, reference)
        try:
            event = add_comment(session=session, ticket=ticket, text=body.text, public=body.public,
                                actor=staff_actor(user))
        except TicketError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
        chat = session.get(Conversation, ticket.conversation_id) if body.public and ticket.conversation_id else None
        if chat is not None and chat.state != "closed":
            add_message(session=session, conversation=chat, sender="agent", agent_id=user.id,
                        text=f"Reply on ticket {ticket.reference}: {event.body}")
        out = TicketEventOut.model_validate(event)
        out.actor_name = user.name
    if chat is not None:
        announce(request, chat.id)
    return out

"""Tickets for staff: find, read with their history, create, change, comment."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import Agent, Offset, PathId, SessionDep
from api.live.frames import announce
from bot.actors import staff_actor, staff_id_of
from bot.conversations.service import message_views, messages_after
from bot.db import MAX_SEARCH_CHARS, transaction, utcnow
from bot.errors import Conflict, NotFound
from bot.mail.service import mails_of
from bot.settings import get_settings
from bot.tickets.attachments import attachments_of
from bot.tickets.models import Ticket, TicketAttachment
from bot.tickets.schemas import (
    AttachmentOut,
    CommentIn,
    MailOut,
    Status,
    TicketCreate,
    TicketDetail,
    TicketEventOut,
    TicketOut,
    TicketPage,
    TicketPatch,
)
from bot.tickets.service import (
    assign_ticket,
    change_status,
    create_ticket,
    reply_on_ticket,
    search_tickets,
    set_priority,
    ticket_by_reference,
)
from bot.users.models import User
from bot.users.service import active_user, staff_names

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


def ticket_out(ticket: Ticket, names: dict[int, str]) -> TicketOut:
    now = utcnow()
    out = TicketOut.model_validate(ticket)
    out.assignee_name = names.get(ticket.assignee_id) if ticket.assignee_id else None
    out.first_response_overdue = ticket.is_first_response_overdue(now)
    out.resolution_overdue = ticket.is_resolution_overdue(now)
    return out


def _detail(session: Session, ticket: Ticket) -> TicketDetail:
    ids = {i for i in (staff_id_of(e.actor) for e in ticket.events) if i is not None}
    names = staff_names(session, ids | ({ticket.assignee_id} if ticket.assignee_id else set()))
    events = []
    for event in ticket.events:
        out = TicketEventOut.model_validate(event)
        staff_id = staff_id_of(event.actor)
        out.actor_name = names.get(staff_id) if staff_id else None
        events.append(out)
    lines = messages_after(session=session, conversation=ticket.conversation_id, limit=10_000) \
        if ticket.conversation_id else []
    transcript = message_views(lines, session)
    return TicketDetail(ticket=ticket_out(ticket, names), events=events, transcript=transcript,
                        mails=[MailOut.model_validate(mail) for mail in mails_of(session=session, ticket_id=ticket.id)],
                        attachments=[AttachmentOut.model_validate(attachment)
                                     for attachment in attachments_of(session=session, ticket_id=ticket.id)])


def _assignee(session: Session, assignee_id: int) -> User:
    user = active_user(session=session, user_id=assignee_id)
    if user is None:
        # As for recovery items and the inbox: a well-formed id the current staff does not have.
        raise Conflict(f"no active staff member with id {assignee_id}")
    return user


@router.get("", response_model=TicketPage)
def list_tickets(
    session: SessionDep,
    user: Agent,
    status_: Annotated[Status | Literal["active"] | None,
                       Query(alias="status", description="one status, or `active`: new, open or pending")] = None,
    assignee: Annotated[str | None, Query(description="a user id, `me`, or `none` for unassigned tickets",
                                          pattern=r"^(\d{1,18}|me|none)$")] = None,
    q: Annotated[str | None, Query(max_length=MAX_SEARCH_CHARS, description="a reference, or words in the subject, "
                                   "description, or the customer's name or e-mail")] = None,
    conversation_id: Annotated[str | None, Query(max_length=128, description="tickets opened from this chat")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> TicketPage:
    """Tickets matching every filter given, newest first."""
    assignee_id = user.id if assignee == "me" else int(assignee) if assignee and assignee.isdigit() else None
    total, page = search_tickets(session=session, status=status_, assignee_id=assignee_id,
                                 unassigned=assignee == "none", conversation_id=conversation_id, q=q, limit=limit,
                                 offset=offset)
    names = staff_names(session, {t.assignee_id for t in page if t.assignee_id})
    return TicketPage(total=total, limit=limit, offset=offset, items=[ticket_out(t, names) for t in page])


@router.post("", response_model=TicketDetail, status_code=status.HTTP_201_CREATED)
def new_ticket(body: TicketCreate, session: SessionDep, user: Agent) -> TicketDetail:
    """A ticket opened by staff (for example during a live chat, with its conversation_id).
    It is classified and given SLA due times exactly as the bot's tickets are."""
    ticket = create_ticket(session=session, data=body, actor=staff_actor(user), settings=get_settings())
    return _detail(session, ticket)


class CategoryOut(BaseModel):
    key: str
    label: str


@router.get("/categories", response_model=list[CategoryOut])
def categories(_: Agent) -> list[CategoryOut]:
    """The ticket categories (setting TICKET_CATEGORIES), for forms."""
    return [CategoryOut(key=c.key, label=c.label) for c in get_settings().ticket_categories]


@router.get("/{reference}", response_model=TicketDetail)
def ticket_detail(reference: str, session: SessionDep, _: Agent) -> TicketDetail:
    """The ticket and its whole history: changes, customer notes, public replies, private notes."""
    return _detail(session, ticket_by_reference(session=session, reference=reference))


@router.get("/{reference}/attachments/{attachment_id}", response_class=Response,
            responses={200: {"description": "the file, as the customer sent it",
                             "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                 "format": "binary"}}}}})
def attachment(reference: str, attachment_id: PathId, session: SessionDep, _: Agent) -> Response:
    """A file the customer sent with the ticket, as a download (never shown in the page itself)."""
    ticket = ticket_by_reference(session=session, reference=reference)
    found = session.get(TicketAttachment, attachment_id)
    if found is None or found.ticket_id != ticket.id:
        raise NotFound("the ticket has no such attachment")
    return Response(found.data, media_type=found.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "no-store"})


@router.patch("/{reference}", response_model=TicketDetail)
def update_ticket(reference: str, body: TicketPatch, session: SessionDep, user: Agent) -> TicketDetail:
    """Change status, priority (which moves the SLA due times) and assignee in one step:
    all of it or none of it. A status the workflow does not allow from here is 409."""
    ticket = ticket_by_reference(session=session, reference=reference)
    actor = staff_actor(user)
    # A refusal rolls back every change before it (the request's one transaction).
    if "assignee_id" in body.model_fields_set:
        if body.assignee_id is not None:
            _assignee(session, body.assignee_id)
        assign_ticket(session=session, ticket=ticket, assignee_id=body.assignee_id, actor=actor)
    if body.priority is not None:
        set_priority(session=session, ticket=ticket, priority=body.priority, actor=actor)
    if body.status is not None:
        change_status(session=session, ticket=ticket, to_status=body.status, actor=actor)
    return _detail(session, ticket)


@router.post("/{reference}/comments", response_model=TicketEventOut, status_code=status.HTTP_201_CREATED)
def comment(reference: str, body: CommentIn, user: Agent, request: Request) -> TicketEventOut:
    """A public reply to the customer or a private note for staff. A public reply is shown when
    the customer checks the ticket with the bot and, when the ticket came from a chat that is
    still open, appears in that chat too. The first public reply sets first_responded_at."""
    with transaction() as session:
        ticket = ticket_by_reference(session=session, reference=reference)
        event, chat_id = reply_on_ticket(session=session, ticket=ticket, text=body.text, public=body.public,
                                         actor=staff_actor(user), agent_id=user.id)
        out = TicketEventOut.model_validate(event)
        out.actor_name = user.name
    if chat_id is not None:
        announce(request, chat_id)
    return out

"""Ticket operations: every change goes through here and leaves a ticket event."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.actors import BOT, CUSTOMER
from bot.db import contains_text, utcnow
from bot.errors import Conflict, DomainError, Invalid, NotFound
from bot.mail.service import tell_customer
from bot.settings import Settings, get_settings
from bot.textscan import TICKET_CODE_ALPHABET, TICKET_CODE_LENGTH, TICKET_REF_PREFIX, first
from bot.tickets.classification import PRIORITY_FOR_CLASSIFICATION, classify
from bot.tickets.models import DONE_STATUSES, Ticket, TicketEvent
from bot.tickets.schemas import MAX_DESCRIPTION, TicketCreate
from bot.tickets.textcat import read_request

# Which status may follow which. Resolved and closed tickets may be reopened.
TRANSITIONS: dict[str, set[str]] = {
    "new": {"open", "pending", "resolved", "closed"},
    "open": {"pending", "resolved", "closed"},
    "pending": {"open", "resolved", "closed"},
    "resolved": {"open", "closed"},
    "closed": {"open"},
}

_BARE_CODE = re.compile(rf"^[a-z2-7]{{{TICKET_CODE_LENGTH}}}$", re.IGNORECASE)


class TicketError(DomainError):
    """A ticket change that is not allowed, in words fit to show an agent."""


class TicketInvalid(TicketError, Invalid):
    """An unknown category or priority, an empty or too long text."""


class TicketConflict(TicketError, Conflict):
    """A status the workflow does not allow from the ticket's current one."""


class TicketNotFound(TicketError, NotFound):
    def __init__(self) -> None:
        super().__init__("no ticket with that reference")


def new_reference() -> str:
    """`TCK-` + 6 random base32 characters: 2^30 possibilities, never sequential."""
    code = "".join(secrets.choice(TICKET_CODE_ALPHABET) for _ in range(TICKET_CODE_LENGTH))
    return TICKET_REF_PREFIX + code


def normalise_reference(text: str) -> str | None:
    """A ticket reference typed in any form ("tck 7qk2md", "TCK-7QK2MD", "7qk2md")."""
    found = first(text or "", "TICKET_REF")
    if found:
        return found
    candidate = (text or "").strip().strip(".!?,")
    # A bare code must hold a digit, so ordinary six-letter words are not taken for one.
    if _BARE_CODE.match(candidate) and any(char.isdigit() for char in candidate):
        return TICKET_REF_PREFIX + candidate.upper()
    return None


def sla_due(priority: str, start: datetime, settings: Settings) -> tuple[datetime, datetime]:
    target = settings.sla_policy[priority]
    return (
        start + timedelta(hours=target.first_response_hours),
        start + timedelta(hours=target.resolution_hours),
    )


def _subject_from(description: str, category_label: str) -> str:
    first_line = re.split(r"(?<=[.!?])\s|\n", description.strip(), maxsplit=1)[0]
    first_line = first_line.strip()
    if len(first_line) < 4:
        return f"{category_label} request"
    return first_line if len(first_line) <= 80 else first_line[:77].rstrip() + "..."


def count_recent_tickets(*, session: Session, email: str, days: int, now: datetime) -> int:
    return session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.customer_email == email.lower(),
            Ticket.created_at >= now - timedelta(days=days),
        )
    ) or 0


def _add_event(
    session: Session,
    ticket: Ticket,
    *,
    actor: str,
    kind: str,
    from_value: str | None = None,
    to_value: str | None = None,
    body: str | None = None,
    now: datetime,
) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket,
        actor=actor,
        kind=kind,
        from_value=from_value,
        to_value=to_value,
        body=body,
        created_at=now,
    )
    session.add(event)
    ticket.updated_at = now
    return event


def create_ticket(
    *,
    session: Session,
    data: TicketCreate,
    actor: str = BOT,
    settings: Settings | None = None,
    now: datetime | None = None,
    tell: bool = True,
) -> Ticket:
    """Classify the request, set its SLA due times from its priority and store it. A request whose
    `source_line` already opened a ticket gets that ticket back, unchanged. `tell`: e-mail the customer
    that we have their request (not for a ticket staff open for themselves, such as a follow-up)."""
    settings = settings or get_settings()
    now = now or utcnow()
    known = {category.key for category in settings.ticket_categories}
    if data.category not in known:
        raise TicketInvalid(f"unknown category {data.category!r}")
    if data.source_line and (opened := _opened_by(session, data.source_line)) is not None:
        return opened
    earlier = (
        count_recent_tickets(
            session=session, email=data.customer_email, days=settings.repeat_contact_days, now=now
        )
        if data.customer_email
        else 0
    )
    verdict = classify(
        data.description,
        category=data.category,
        categories=settings.ticket_categories,
        earlier_tickets=earlier,
        learned=read_request(data.description, [category.key for category in settings.ticket_categories]),
    )
    priority = data.priority or PRIORITY_FOR_CLASSIFICATION[verdict.classification]
    first_due, resolution_due = sla_due(priority, now, settings)
    subject = data.subject or _subject_from(data.description, settings.category_label(data.category))
    # A collision among 2^30 codes is rare but possible: retry inside a savepoint.
    for _attempt in range(5):
        ticket = Ticket(
            reference=new_reference(),
            subject=subject,
            description=data.description,
            category=data.category,
            priority=priority,
            classification=verdict.classification,
            classification_reason=verdict.reason[:300],
            status="new",
            customer_name=data.customer_name,
            customer_email=data.customer_email,
            conversation_id=data.conversation_id,
            channel=data.channel,
            source_line=data.source_line,
            created_at=now,
            updated_at=now,
            first_response_due=first_due,
            resolution_due=resolution_due,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
        except IntegrityError:
            # The same line's ticket, made a moment ago by another process; else a reference collision.
            if data.source_line and (opened := _opened_by(session, data.source_line)) is not None:
                return opened
            continue
        _add_event(session, ticket, actor=actor, kind="created", to_value="new", now=now)
        if tell:
            tell_customer(session=session, ticket=ticket, kind="ticket_opened", actor=actor, settings=settings,
                          now=now)
        session.flush()
        return ticket
    raise TicketError("could not allocate a unique ticket reference")


def _opened_by(session: Session, source_line: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.source_line == source_line))


def get_ticket(*, session: Session, reference: str) -> Ticket | None:
    normalised = normalise_reference(reference)
    if normalised is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.reference == normalised))


def find_ticket_for_customer(*, session: Session, reference: str, email: str) -> Ticket | None:
    """The ticket only if both the reference and its e-mail match; otherwise None,
    whichever of the two was wrong, so a caller cannot tell them apart."""
    ticket = get_ticket(session=session, reference=reference)
    given = (email or "").strip().lower().encode()
    stored = ((ticket.customer_email if ticket else None) or "").encode()
    # Compare even when there is no ticket, so timing says nothing either.
    matches = hmac.compare_digest(given, stored if ticket else b"\x00")
    return ticket if ticket is not None and stored and matches else None


# The status changes a customer is told of by e-mail (besides a done ticket opening again).
STATUS_MAILS = {"pending": "waiting_on_you", "resolved": "resolved"}


def change_status(
    *, session: Session, ticket: Ticket, to_status: str, actor: str, now: datetime | None = None
) -> Ticket:
    now = now or utcnow()
    if to_status == ticket.status:
        return ticket
    if to_status not in TRANSITIONS.get(ticket.status, set()):
        raise TicketConflict(f"a {ticket.status} ticket cannot become {to_status}")
    _add_event(
        session, ticket, actor=actor, kind="status", from_value=ticket.status, to_value=to_status, now=now
    )
    reopened = to_status == "open" and ticket.status in DONE_STATUSES
    ticket.status = to_status
    if to_status == "resolved":
        ticket.resolved_at = now
    elif to_status == "open":
        ticket.resolved_at = None
    if kind := "reopened" if reopened else STATUS_MAILS.get(to_status):
        tell_customer(session=session, ticket=ticket, kind=kind, actor=actor, now=now)
    session.flush()
    return ticket


def set_priority(
    *, session: Session, ticket: Ticket, priority: str, actor: str, now: datetime | None = None,
    settings: Settings | None = None,
) -> Ticket:
    """A new priority moves the SLA due times too (counted from creation)."""
    settings = settings or get_settings()
    now = now or utcnow()
    if priority not in settings.sla_policy:
        raise TicketInvalid(f"unknown priority {priority!r}")
    if priority == ticket.priority:
        return ticket
    _add_event(
        session, ticket, actor=actor, kind="priority", from_value=ticket.priority, to_value=priority, now=now
    )
    ticket.priority = priority
    ticket.first_response_due, ticket.resolution_due = sla_due(priority, ticket.created_at, settings)
    session.flush()
    return ticket


def assign_ticket(
    *, session: Session, ticket: Ticket, assignee_id: int | None, actor: str, now: datetime | None = None
) -> Ticket:
    """Give the ticket to a staff member (their user id), or to nobody (None)."""
    now = now or utcnow()
    if assignee_id == ticket.assignee_id:
        return ticket
    _add_event(
        session, ticket, actor=actor, kind="assignee",
        from_value=None if ticket.assignee_id is None else str(ticket.assignee_id),
        to_value=None if assignee_id is None else str(assignee_id), now=now,
    )
    ticket.assignee_id = assignee_id
    session.flush()
    return ticket


def add_comment(
    *, session: Session, ticket: Ticket, text: str, public: bool, actor: str, now: datetime | None = None
) -> TicketEvent:
    """An agent's comment: a public reply the customer sees when they check the ticket, or a
    private note for staff. The first public reply is the ticket's first response (SLA), and
    a new ticket that gets one is open from then on."""
    now = now or utcnow()
    body = (text or "").strip()
    if not body:
        raise TicketInvalid("the comment is empty")
    if len(body) > MAX_DESCRIPTION:
        raise TicketInvalid(f"the comment is longer than {MAX_DESCRIPTION} characters")
    event = _add_event(session, ticket, actor=actor, kind="reply" if public else "internal", body=body, now=now)
    if public:
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        if ticket.status == "new":
            change_status(session=session, ticket=ticket, to_status="open", actor=actor, now=now)
        tell_customer(session=session, ticket=ticket, kind="agent_reply", actor=actor, reply=body, now=now)
    session.flush()
    return event


def ticket_by_reference(*, session: Session, reference: str) -> Ticket:
    """`get_ticket`, or TicketNotFound."""
    ticket = get_ticket(session=session, reference=reference)
    if ticket is None:
        raise TicketNotFound()
    return ticket


def reply_on_ticket(*, session: Session, ticket: Ticket, text: str, public: bool, actor: str,
                    agent_id: int) -> tuple[TicketEvent, str | None]:
    """`add_comment` by a staff member; a public reply on a ticket that came from a chat still
    open appears in that chat too. The comment, and the id of the chat that got the reply."""
    from bot.conversations.models import Conversation
    from bot.conversations.service import add_message

    event = add_comment(session=session, ticket=ticket, text=text, public=public, actor=actor)
    chat = session.get(Conversation, ticket.conversation_id) if public and ticket.conversation_id else None
    if chat is None or chat.state == "closed":
        return event, None
    add_message(session=session, conversation=chat, sender="agent", agent_id=agent_id,
                text=f"Reply on ticket {ticket.reference}: {event.body}")
    return event, chat.id


def latest_reply(*, session: Session, ticket: Ticket) -> TicketEvent | None:
    """The newest public reply from an agent, if any."""
    return session.scalar(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "reply")
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )


def search_tickets(
    *,
    session: Session,
    status: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    conversation_id: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[Ticket]]:
    """Tickets matching every given filter, newest first, with the total count before paging.
    `status` "active": new, open or pending. `q` finds a reference (any spelling), or words in the
    subject, description, or the customer's name or e-mail."""
    query = select(Ticket)
    if status == "active":
        query = query.where(Ticket.is_open)
    elif status:
        query = query.where(Ticket.status == status)
    if conversation_id:
        query = query.where(Ticket.conversation_id == conversation_id)
    if unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    text = (q or "").strip()
    if text:
        reference = normalise_reference(text)
        if reference:
            query = query.where(Ticket.reference == reference)
        else:
            query = query.where(or_(*(contains_text(column, text) for column in (
                Ticket.subject, Ticket.description, Ticket.customer_name, Ticket.customer_email))))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit).offset(offset)
    ).all()
    return total, list(page)


def add_customer_info(
    *, session: Session, ticket: Ticket, text: str, actor: str = CUSTOMER, now: datetime | None = None
) -> TicketEvent:
    """Customer's extra information. A ticket waiting on the customer, or already
    resolved or closed, goes back to open so an agent looks at it again."""
    now = now or utcnow()
    body = (text or "").strip()
    if not body:
        raise TicketInvalid("the added information is empty")
    if len(body) > MAX_DESCRIPTION:
        raise TicketInvalid(f"the added information is longer than {MAX_DESCRIPTION} characters")
    event = _add_event(session, ticket, actor=actor, kind="note", body=body, now=now)
    if ticket.status in ("pending", *DONE_STATUSES):
        change_status(session=session, ticket=ticket, to_status="open", actor=actor, now=now)
    session.flush()
    return event

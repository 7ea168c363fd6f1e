"""What customers are told by e-mail about their tickets, and when: each e-mail is rendered and written
to the outbox in the transaction of the change that causes it (a change rolled back sends nothing; a
change made sends its e-mail even if the SMTP server is down), and bot.mail.sender sends it."""

from __future__ import annotations

import uuid
from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actors import CUSTOMER, staff_id_of
from bot.db import utcnow
from bot.mail.models import MailPreference, OutboxMail
from bot.mail.templates import templates_at
from bot.recovery.models import RecoveryItem
from bot.settings import Settings, get_settings
from bot.tickets.links import issue_link, link_url
from bot.tickets.models import Ticket
from bot.users.models import User

SUMMARY_CHARS = 300


def mail_domain(settings: Settings) -> str:
    """The domain of MAIL_FROM, for the ids of the e-mails we write."""
    return parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"


def thread_id(reference: str, settings: Settings) -> str:
    """The Message-ID of a ticket's first e-mail; every later one answers it, so a mail program shows one
    conversation per ticket."""
    return f"<ticket.{reference}@{mail_domain(settings)}>"


def _when(moment: datetime | None, settings: Settings) -> str:
    if moment is None:
        return "soon"
    local = moment.astimezone(ZoneInfo(settings.business_timezone))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {local.tzname()}"


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1].rstrip() + "…"


def _is_recovery(session: Session, ticket: Ticket) -> bool:
    """A ticket opened to follow up an unhappy customer (a low survey score)."""
    return session.scalar(select(RecoveryItem.id).where(RecoveryItem.ticket_id == ticket.id).limit(1)) is not None


def _sender(session: Session, actor: str, settings: Settings) -> str:
    staff_id = staff_id_of(actor)
    staff = session.get(User, staff_id) if staff_id is not None else None
    return staff.name if staff else f"The {settings.company_name} team"


def _common_values(session: Session, settings: Settings, *, name: str | None, actor: str,
                   reply: str | None) -> dict[str, object]:
    """What every e-mail's words may use, whether it is about a ticket or not."""
    return {"company": settings.company_name, "name": name or "there", "reply": reply or "",
            "agent": _sender(session, actor, settings), "follow_up_by": "reply" if settings.mail_reply_to else "chat"}


# The ticket's values in an e-mail about no ticket: the templates test them ({% if reference %}).
NO_TICKET = dict.fromkeys(("reference", "subject", "summary", "category", "first_response_due", "resolution_due",
                           "ticket_url", "survey_url"), "")


def _write(*, session: Session, kind: str, to_address: str, values: dict, ticket: Ticket | None,
           recovery_item_id: int | None, settings: Settings, now: datetime | None) -> OutboxMail:
    rendered = templates_at(settings.mail_templates_file).render(kind, values)
    thread = thread_id(ticket.reference, settings) if ticket is not None else None
    first = kind == "ticket_opened"
    mail = OutboxMail(ticket_id=ticket.id if ticket is not None else None, recovery_item_id=recovery_item_id,
                      kind=kind, to_address=to_address, subject=rendered.subject, text_body=rendered.text,
                      html_body=rendered.html,
                      message_id=thread if first else f"<{uuid.uuid4().hex}.{kind}@{mail_domain(settings)}>",
                      thread_id=None if first else thread, status="pending", attempts=0,
                      next_attempt_at=now or utcnow(), created_at=now or utcnow())
    session.add(mail)
    session.flush()
    return mail


def wants_surveys(session: Session, address: str | None) -> bool:
    """Whether this address still takes satisfaction surveys by e-mail (yes unless it said no)."""
    if not address:
        return False
    said = session.scalar(select(MailPreference.surveys).where(MailPreference.address == address.lower()))
    return said is not False


def set_surveys(*, session: Session, address: str, surveys: bool, now: datetime | None = None) -> MailPreference:
    """Record whether the address takes survey e-mails (from its ticket's page, or one click in the mail
    program)."""
    address = address.lower()
    preference = session.scalar(select(MailPreference).where(MailPreference.address == address))
    if preference is None:
        preference = MailPreference(address=address)
        session.add(preference)
    preference.surveys, preference.changed_at = surveys, now or utcnow()
    session.flush()
    return preference


def tell_customer(*, session: Session, ticket: Ticket, kind: str, actor: str, reply: str | None = None,
                  extra: dict[str, object] | None = None, settings: Settings | None = None,
                  now: datetime | None = None) -> OutboxMail | None:
    """Write the e-mail of `kind` about `ticket` to the outbox; None when the ticket has no e-mail address
    or the customer did this themselves (they know). A public reply on a ticket that follows up an unhappy
    customer is written as their follow-up (kind recovery), not as an answer to a request they never made.
    `extra`: values of this kind's own (see default_templates.yml)."""
    settings = settings or get_settings()
    if not ticket.customer_email or actor == CUSTOMER or actor.startswith(f"{CUSTOMER}:"):
        return None
    if kind == "agent_reply" and _is_recovery(session, ticket):
        kind = "recovery"
    values = {
        **_common_values(session, settings, name=ticket.customer_name, actor=actor, reply=reply),
        "reference": ticket.reference, "subject": ticket.subject, "summary": _summary(ticket.description),
        "category": settings.category_label(ticket.category),
        "first_response_due": _when(ticket.first_response_due, settings),
        "resolution_due": _when(ticket.resolution_due, settings), **(extra or {}),
    }
    token = issue_link(session=session, ticket=ticket, settings=settings, now=now)
    values["ticket_url"] = link_url(token, settings)
    # The survey is the one thing a customer may turn off (on the ticket's page, or with one click).
    surveys = kind == "resolved" and wants_surveys(session, ticket.customer_email)
    values["survey_url"] = link_url(token, settings, page="survey") if surveys else ""
    mail = _write(session=session, kind=kind, to_address=ticket.customer_email, values=values, ticket=ticket,
                  recovery_item_id=None, settings=settings, now=now)
    if surveys:
        mail.unsubscribe_url = f"{settings.base_url}/api/v1/ticket-page/unsubscribe?token={token}"
    return mail


def tell_address(*, session: Session, kind: str, to_address: str, name: str | None, actor: str,
                 reply: str = "", extra: dict[str, object] | None = None, recovery_item_id: int | None = None,
                 settings: Settings | None = None, now: datetime | None = None) -> OutboxMail:
    """An e-mail about no ticket (a complaint's follow-up, a message too large to read), to `to_address`.
    A reply to it reaches the support mailbox and opens a ticket there."""
    settings = settings or get_settings()
    values = {**_common_values(session, settings, name=name, actor=actor, reply=reply), **NO_TICKET,
              **(extra or {})}
    return _write(session=session, kind=kind, to_address=to_address, values=values, ticket=None,
                  recovery_item_id=recovery_item_id, settings=settings, now=now)


def mails_of(*, session: Session, ticket_id: int) -> list[OutboxMail]:
    """A ticket's e-mails, oldest first (agents see whether each went)."""
    return list(session.scalars(select(OutboxMail).where(OutboxMail.ticket_id == ticket_id)
                                .order_by(OutboxMail.id)))


def outbox_counts(*, session: Session) -> dict[str, int]:
    """How many e-mails are pending, being sent, sent and failed."""
    rows = session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all()
    return {status: 0 for status in ("pending", "sending", "sent", "failed")} | dict(rows)

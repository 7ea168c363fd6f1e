"""Links that open a ticket's page for its customer, with no account (/ticket#token=...): each e-mail
carries a new one. The token is 256 random bits, of which only the SHA-256 is stored, so a copy of the
database opens nothing; a link works for TICKET_LINK_DAYS and can be revoked (an erasure revokes them
all). Random and stored rather than signed: any process can check one without a shared key, and one
link can be revoked without the others."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Unauthenticated
from bot.settings import Settings, get_settings
from bot.tickets.models import Ticket, TicketLink


class LinkInvalid(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("this link has expired or does not work any more; each e-mail about your request "
                         "has a new one, or ask us in the chat")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(*, session: Session, ticket: Ticket, settings: Settings | None = None,
               now: datetime | None = None) -> str:
    """A new link's token for this ticket."""
    settings = settings or get_settings()
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(TicketLink(ticket_id=ticket.id, token_hash=_hash(token), created_at=now,
                           expires_at=now + timedelta(days=settings.ticket_link_days)))
    session.flush()
    return token


def link_url(token: str, settings: Settings | None = None, page: str = "ticket") -> str:
    """The page a token opens (the ticket's, or its survey); the token after the # reaches no server log
    and no Referer."""
    return f"{(settings or get_settings()).base_url}/{page}#token={token}"


def ticket_for_link(*, session: Session, token: str | None, now: datetime | None = None) -> Ticket:
    """The ticket a link opens, or LinkInvalid (401) for a wrong, expired or revoked one."""
    now = now or utcnow()
    if not token or len(token) > 200:
        raise LinkInvalid()
    link = session.scalar(select(TicketLink).where(TicketLink.token_hash == _hash(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        raise LinkInvalid()
    return session.get(Ticket, link.ticket_id)


def revoke_links(*, session: Session, ticket_ids: list[int], now: datetime | None = None) -> int:
    """Every link of these tickets stops working; how many did."""
    if not ticket_ids:
        return 0
    return session.execute(update(TicketLink).where(TicketLink.ticket_id.in_(ticket_ids),
                                                    TicketLink.revoked_at.is_(None))
                           .values(revoked_at=now or utcnow())).rowcount

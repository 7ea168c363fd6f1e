"""What came into the support mailbox (bot.mail.inbound), for agents: above all the messages held for a
person (a forged ticket address, or a reply from someone who is not the ticket's customer); and how many
e-mails to customers wait, went and failed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.deps import Agent, Offset, SessionDep
from bot.mail.models import InboundMail
from bot.mail.service import outbox_counts
from bot.tickets.models import Ticket

router = APIRouter(prefix="/api/v1/mailbox", tags=["mailbox"])


class InboundOut(BaseModel):
    id: int
    received_at: datetime
    from_address: str
    subject: str
    outcome: Literal["added", "opened", "held", "ignored", "refused"] = Field(
        description="added to its ticket; opened a ticket; held for a person; ignored (automatic mail); "
                    "refused (too large)")
    reason: str | None
    ticket_reference: str | None
    text: str


class InboundPage(BaseModel):
    total: int
    items: list[InboundOut]
    outbox: dict[str, int] = Field(description="e-mails to customers by state: pending, sending, sent, failed "
                                                "(refused, given up after MAIL_MAX_ATTEMPTS, or bounced)")


@router.get("", response_model=InboundPage)
def received(session: SessionDep, _: Agent,
             outcome: Annotated[Literal["added", "opened", "held", "ignored", "refused"] | None,
                                Query(description="only these; held: what waits for a person")] = None,
             limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Offset = 0) -> InboundPage:
    """Newest first."""
    query = select(InboundMail, Ticket.reference).outerjoin(Ticket, Ticket.id == InboundMail.ticket_id)
    if outcome is not None:
        query = query.where(InboundMail.outcome == outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(InboundMail.id.desc()).limit(limit).offset(offset)).all()
    return InboundPage(total=total, outbox=outbox_counts(session=session), items=[
        InboundOut(id=m.id, received_at=m.received_at, from_address=m.from_address, subject=m.subject,
                   outcome=m.outcome, reason=m.reason, ticket_reference=reference, text=m.text)
        for m, reference in rows])

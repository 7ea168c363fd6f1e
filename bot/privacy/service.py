"""A customer's data, found by their e-mail address: the chats that carry it (and everything in
them), their tickets, their feedback given under their name, and their survey answers. `export`
gathers it; `erase` removes what identifies them and what they wrote, keeping each row (its
timestamps, categories, scores and states) so that every KPI and report counts the same after."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.conversations.models import Conversation, Handoff, HandoffNote, Message
from bot.db import utcnow
from bot.feedback.models import Feedback
from bot.mail.models import InboundMail, MailPreference, OutboxMail
from bot.recovery.models import RecoveryItem
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.textscan import clean_email
from bot.tickets.attachments import attachments_of
from bot.tickets.links import revoke_links
from bot.tickets.models import Ticket, TicketAttachment, TicketEvent

ERASED = "[erased]"


def subject_key(email: str) -> str:
    """How the audit log names a customer without naming them."""
    return "customer:" + hashlib.sha256(clean_email(email).encode()).hexdigest()[:16]


def _conversation_ids(session: Session, email: str) -> list[str]:
    ids = set(session.scalars(select(Conversation.id).where(Conversation.customer_email == email)))
    ids |= {i for i in session.scalars(select(Ticket.conversation_id).where(Ticket.customer_email == email)) if i}
    ids |= {i for i in session.scalars(select(Feedback.conversation_id).where(Feedback.customer_email == email)) if i}
    ids |= {i for i in session.scalars(select(SurveyResponse.conversation_id)
                                       .where(SurveyResponse.customer_email == email)) if i}
    # Only conversations we hold (a ticket may name a conversation id from another channel).
    return sorted(session.scalars(select(Conversation.id).where(Conversation.id.in_(ids)))) if ids else []


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, email: str) -> dict[str, Any]:
    """Everything held about the customer with this address, as plain JSON-ready data."""
    email = clean_email(email)
    ids = _conversation_ids(session, email)
    conversations = []
    for conversation in session.scalars(select(Conversation).where(Conversation.id.in_(ids)).order_by(
            Conversation.created_at)):
        messages = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                                   .order_by(Message.id))
        conversations.append({
            "id": conversation.id, "created_at": _when(conversation.created_at), "state": conversation.state,
            "channel": conversation.channel, "name": conversation.customer_name, "email": conversation.customer_email,
            "locale": conversation.locale, "metadata": conversation.meta,
            "messages": [{"at": _when(m.created_at), "from": m.sender, "text": m.text} for m in messages]})
    tickets = []
    for ticket in session.scalars(select(Ticket).where(or_(Ticket.customer_email == email,
                                                           Ticket.conversation_id.in_(ids))).order_by(Ticket.id)):
        tickets.append({
            "reference": ticket.reference, "created_at": _when(ticket.created_at), "subject": ticket.subject,
            "description": ticket.description, "category": ticket.category, "priority": ticket.priority,
            "status": ticket.status, "name": ticket.customer_name, "email": ticket.customer_email,
            "history": [{"at": _when(e.created_at), "kind": e.kind, "from": e.from_value, "to": e.to_value,
                         "text": e.body} for e in ticket.events],
            # The files they sent: named here (with their SHA-256); staff download them from the ticket.
            "attachments": [{"at": _when(a.created_at), "filename": a.filename, "type": a.content_type,
                             "bytes": a.size, "sha256": a.sha256}
                            for a in attachments_of(session=session, ticket_id=ticket.id)]})
    feedback = [{"reference": f.reference, "created_at": _when(f.created_at), "category": f.category, "text": f.text,
                 "anonymous": f.anonymous, "name": f.customer_name, "email": f.customer_email}
                for f in session.scalars(select(Feedback).where(or_(Feedback.customer_email == email,
                                                                    Feedback.conversation_id.in_(ids)))
                                         .order_by(Feedback.id))]
    surveys = [{"conversation": r.conversation_id, "started_at": _when(r.started_at), "completed": r.completed,
                "answers": [{"question": a.question_text, "score": a.score, "text": a.text} for a in r.answers]}
               for r in session.scalars(select(SurveyResponse).where(or_(SurveyResponse.customer_email == email,
                                                                         SurveyResponse.conversation_id.in_(ids)))
                                        .order_by(SurveyResponse.id))]
    ticket_ids = select(Ticket.id).where(or_(Ticket.customer_email == email, Ticket.conversation_id.in_(ids)))
    emails = [{"at": _when(m.created_at), "kind": m.kind, "to": m.to_address, "subject": m.subject,
               "status": m.status, "sent_at": _when(m.sent_at), "text": m.text_body}
              for m in session.scalars(select(OutboxMail).where(or_(OutboxMail.to_address == email,
                                                                    OutboxMail.ticket_id.in_(ticket_ids)))
                                       .order_by(OutboxMail.id))]
    received = [{"at": _when(m.received_at), "subject": m.subject, "outcome": m.outcome, "text": m.text}
                for m in session.scalars(select(InboundMail).where(InboundMail.from_address == email)
                                         .order_by(InboundMail.id))]
    preference = session.scalar(select(MailPreference).where(MailPreference.address == email))
    preferences = {"surveys_by_email": preference.surveys, "changed_at": _when(preference.changed_at)} \
        if preference else None
    return {"email": email, "conversations": conversations, "tickets": tickets, "feedback": feedback,
            "survey_responses": surveys, "emails": emails, "emails_received": received,
            "mail_preferences": preferences}


def _anonymise_conversations(session: Session, ids: list[str], now: datetime) -> dict[str, int]:
    """The chats' names, addresses and lines (and agents' notes on them) erased; rows kept."""
    return {
        "conversations": session.execute(update(Conversation).where(Conversation.id.in_(ids)).values(
            customer_name=None, customer_email=None, meta={}, anonymised_at=now)).rowcount,
        "messages": session.execute(update(Message).where(Message.conversation_id.in_(ids)).values(
            text=ERASED, buttons=None, payload=None)).rowcount,
        "handoff_notes": session.execute(update(HandoffNote).where(HandoffNote.handoff_id.in_(
            select(Handoff.id).where(Handoff.conversation_id.in_(ids)))).values(text=ERASED)).rowcount,
    }


def retain(session: Session, before: datetime, *, now: datetime | None = None, batch: int = 500) -> dict[str, Any]:
    """Retention: chats with no line since `before` (RETENTION_DAYS ago) and not yet anonymised lose
    their names, addresses and lines, as in an erasure; tickets, feedback and survey answers keep
    theirs (they have their own life). At most `batch` chats a call; the ids, for Rasa's store."""
    ids = list(session.scalars(select(Conversation.id).where(Conversation.anonymised_at.is_(None),
                                                             Conversation.updated_at < before)
                               .order_by(Conversation.updated_at).limit(batch)))
    counts = _anonymise_conversations(session, ids, now or utcnow()) if ids else {}
    return {"counts": counts, "conversation_ids": ids}


def erase(session: Session, email: str) -> dict[str, Any]:
    """Remove what identifies the customer and what they (or anyone, about them) wrote; the rows
    stay for the counts. How many of each were erased, and the conversation ids (for Rasa's
    tracker store, which the caller clears)."""
    email = clean_email(email)
    ids = _conversation_ids(session, email)
    ticket_ids = list(session.scalars(select(Ticket.id).where(or_(Ticket.customer_email == email,
                                                                  Ticket.conversation_id.in_(ids)))))
    feedback_ids = list(session.scalars(select(Feedback.id).where(or_(Feedback.customer_email == email,
                                                                      Feedback.conversation_id.in_(ids)))))
    response_ids = list(session.scalars(select(SurveyResponse.id).where(
        or_(SurveyResponse.customer_email == email, SurveyResponse.conversation_id.in_(ids)))))
    counts = {
        **_anonymise_conversations(session, ids, utcnow()),
        "tickets": session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids)).values(
            subject=ERASED, description=ERASED, customer_name=None, customer_email=None)).rowcount,
        "ticket_notes": session.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids),
                                                                  TicketEvent.body.is_not(None)).values(
            body=ERASED)).rowcount,
        "feedback": session.execute(update(Feedback).where(Feedback.id.in_(feedback_ids)).values(
            text=ERASED, customer_name=None, customer_email=None)).rowcount,
        "survey_responses": session.execute(update(SurveyResponse).where(SurveyResponse.id.in_(response_ids)).values(
            customer_email=None)).rowcount,
        "survey_comments": session.execute(update(SurveyAnswer).where(SurveyAnswer.response_id.in_(response_ids),
                                                                      SurveyAnswer.text.is_not(None)).values(
            text=ERASED)).rowcount,
        "ticket_links": revoke_links(session=session, ticket_ids=ticket_ids),
        "ticket_attachments": session.execute(delete(TicketAttachment).where(
            TicketAttachment.ticket_id.in_(ticket_ids))).rowcount,
        "emails_received": session.execute(delete(InboundMail).where(or_(InboundMail.from_address == email,
                                                                         InboundMail.ticket_id.in_(ticket_ids)))
                                           ).rowcount,
        # E-mails to them, sent or not: gone (one not yet sent never goes).
        "emails": session.execute(delete(OutboxMail).where(or_(OutboxMail.to_address == email,
                                                                OutboxMail.ticket_id.in_(ticket_ids)))).rowcount,
        "mail_preferences": session.execute(delete(MailPreference).where(MailPreference.address == email)).rowcount,
        "recovery_notes": session.execute(update(RecoveryItem).where(
            or_(RecoveryItem.conversation_id.in_(ids), RecoveryItem.feedback_id.in_(feedback_ids),
                RecoveryItem.ticket_id.in_(ticket_ids), RecoveryItem.survey_response_id.in_(response_ids)),
            RecoveryItem.outcome.is_not(None)).values(outcome=ERASED)).rowcount,
    }
    return {"counts": counts, "conversation_ids": ids}

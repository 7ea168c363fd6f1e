"""Feedback operations."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.errors import Invalid
from bot.feedback.models import FEEDBACK_STATUSES, Feedback
from bot.feedback.schemas import FeedbackCreate
from bot.recovery.service import open_for_complaint
from bot.textscan import TICKET_CODE_ALPHABET, TICKET_CODE_LENGTH


class FeedbackError(Invalid):
    """A feedback change that is not allowed."""


def new_feedback_reference() -> str:
    return "FB-" + "".join(secrets.choice(TICKET_CODE_ALPHABET) for _ in range(TICKET_CODE_LENGTH))


def record_feedback(*, session: Session, data: FeedbackCreate, now: datetime | None = None) -> Feedback:
    """Store feedback; anonymous feedback keeps no name, e-mail or conversation link. Feedback whose
    `source_line` already gave an item gets that item back, unchanged."""
    now = now or utcnow()
    if data.anonymous:
        # To the hour only: a time to the second would find the chat it came from.
        now = now.replace(minute=0, second=0, microsecond=0)
    identity = (
        {"customer_name": None, "customer_email": None, "conversation_id": None, "source_line": None}
        if data.anonymous
        else {
            "customer_name": data.customer_name,
            "customer_email": data.customer_email,
            "conversation_id": data.conversation_id,
            "source_line": data.source_line,
        }
    )
    if identity["source_line"] and (given := _given_by(session, identity["source_line"])) is not None:
        return given
    for _attempt in range(5):
        item = Feedback(
            reference=new_feedback_reference(),
            category=data.category,
            text=data.text,
            anonymous=data.anonymous,
            channel=data.channel,
            status="new",
            created_at=now,
            **identity,
        )
        try:
            with session.begin_nested():
                session.add(item)
                session.flush()
        except IntegrityError:
            # The same line's feedback, stored a moment ago by another process; else a reference collision.
            if identity["source_line"] and (given := _given_by(session, identity["source_line"])) is not None:
                return given
            continue
        if item.category == "complaint":
            open_for_complaint(session=session, feedback=item, now=now)
        return item
    raise FeedbackError("could not allocate a unique feedback reference")


def _given_by(session: Session, source_line: str) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.source_line == source_line))


def get_feedback(*, session: Session, reference: str) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.reference == reference.strip().upper()))


def set_feedback_status(*, session: Session, item: Feedback, status: str) -> Feedback:
    if status not in FEEDBACK_STATUSES:
        raise FeedbackError(f"unknown feedback status {status!r}")
    item.status = status
    session.flush()
    return item

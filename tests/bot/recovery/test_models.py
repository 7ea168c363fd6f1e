"""A recovery item's "overdue", one definition that a loaded item and a SQL query both use
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.recovery.models import RecoveryItem
from bot.recovery.service import update_item
from tests.factories import NOW, make_feedback


def complaint_item(session, conversation_id: str) -> RecoveryItem:
    feedback = make_feedback(session, category="complaint", conversation_id=conversation_id)
    return session.scalar(select(RecoveryItem).where(RecoveryItem.feedback_id == feedback.id))


def overdue_in_sql(session, now) -> set[int]:
    return set(session.scalars(select(RecoveryItem.id).where(RecoveryItem.is_overdue(now))))


def test_an_item_past_its_due_time_is_overdue_until_closed(session):
    waiting, contacted, closed = (complaint_item(session, f"conv-{n}") for n in range(3))
    update_item(session=session, item=contacted, status="contacted", now=NOW)
    update_item(session=session, item=closed, status="closed", outcome="Refunded.", now=NOW)
    before, after = waiting.due_at - timedelta(seconds=1), waiting.due_at + timedelta(seconds=1)

    assert [item.is_overdue(before) for item in (waiting, contacted, closed)] == [False, False, False]
    assert overdue_in_sql(session, before) == set()
    assert [item.is_overdue(after) for item in (waiting, contacted, closed)] == [True, True, False]
    assert overdue_in_sql(session, after) == {waiting.id, contacted.id}
    assert session.scalar(select(func.count()).where(RecoveryItem.is_open)) == 2

"""Service recovery items: opened by a low headline score or a complaint, owned by the agent
who handled the chat (else the manager on duty), due after RECOVERY_DUE_HOURS, and moved
forward only: open -> contacted -> closed, with an outcome (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.conversations.models import Conversation
from bot.recovery.models import RecoveryItem
from bot.recovery.service import RecoveryError, list_items, open_for_complaint, update_item
from bot.surveys.service import open_recovery_ticket, record_answer
from tests.factories import NOW, make_feedback, make_survey_definition, make_survey_response, make_user, plain_settings

DEFINITION = make_survey_definition()


def handled_chat(session, conversation_id: str, agent_id: int | None) -> None:
    session.add(Conversation(id=conversation_id, token_hash="x" * 64, agent_id=agent_id, created_at=NOW,
                             updated_at=NOW))
    session.flush()


def low_score(session, conversation_id: str, score: int = 1, settings=None) -> RecoveryItem | None:
    response = make_survey_response(session, definition=DEFINITION, conversation_id=conversation_id)
    record_answer(session=session, response=response, question=DEFINITION.questions[0], position=0, value=score,
                  now=NOW)
    open_recovery_ticket(session=session, response=response, settings=settings or plain_settings(), now=NOW)
    return session.scalar(select(RecoveryItem).where(RecoveryItem.survey_response_id == response.id))


def test_a_low_score_opens_one_item_owned_by_the_agent_who_helped(session):
    sam = make_user(session, name="Sam")
    handled_chat(session, "conv-sam", sam.id)
    item = low_score(session, "conv-sam", score=2)
    assert (item.source, item.status, item.owner_id, item.reason) == ("survey", "open", sam.id,
                                                                      "satisfaction score 2")
    assert item.due_at == NOW + timedelta(hours=24)
    assert item.ticket_id is not None and item.conversation_id == "conv-sam"
    # Asking again (the action retried) opens nothing more.
    response_id = item.survey_response_id
    assert session.scalars(select(RecoveryItem).where(RecoveryItem.survey_response_id == response_id)).all() == [item]


def test_a_score_above_the_threshold_opens_nothing(session):
    assert low_score(session, "conv-ok", score=3) is None
    assert session.scalars(select(RecoveryItem)).all() == []


def test_without_an_agent_the_manager_on_duty_owns_it_and_due_time_is_a_setting(session):
    meg = make_user(session, name="Meg", role="manager")
    settings = plain_settings(manager_on_duty="MEG@example.com", recovery_due_hours=4)
    item = low_score(session, "conv-bot-only", settings=settings)
    assert item.owner_id == meg.id and item.due_at == NOW + timedelta(hours=4)
    # Nobody on duty: unowned, still open and due.
    assert low_score(session, "conv-nobody").owner_id is None


def test_an_inactive_agent_does_not_own_it(session):
    gone = make_user(session, name="Gone", active=False)
    meg = make_user(session, name="Meg", role="manager")
    handled_chat(session, "conv-gone", gone.id)
    item = low_score(session, "conv-gone", settings=plain_settings(manager_on_duty="meg@example.com"))
    assert item.owner_id == meg.id


def test_a_complaint_opens_an_item_and_other_feedback_does_not(session):
    sam = make_user(session, name="Sam")
    handled_chat(session, "conv-complaint", sam.id)
    complaint = make_feedback(session, category="complaint", text="Rude and slow.", conversation_id="conv-complaint")
    make_feedback(session, category="suggestion", text="Add dark mode.")
    [item] = session.scalars(select(RecoveryItem)).all()
    assert (item.source, item.feedback_id, item.owner_id) == ("feedback", complaint.id, sam.id)
    assert item.reason == f"complaint {complaint.reference}"
    assert open_for_complaint(session=session, feedback=complaint) is item  # at most one per complaint


def test_an_anonymous_complaint_carries_no_chat(session):
    make_feedback(session, category="complaint", text="Bad.", anonymous=True, conversation_id="conv-secret")
    [item] = session.scalars(select(RecoveryItem)).all()
    assert item.conversation_id is None


def test_items_move_forward_only_and_close_with_an_outcome(session):
    item = low_score(session, "conv-flow")
    update_item(session=session, item=item, status="contacted", now=NOW + timedelta(hours=1))
    assert item.status == "contacted" and item.contacted_at == NOW + timedelta(hours=1)
    with pytest.raises(RecoveryError, match="outcome"):
        update_item(session=session, item=item, status="closed")
    assert item.status == "contacted"
    update_item(session=session, item=item, status="closed", outcome="Refunded the delivery fee; customer happy.",
                now=NOW + timedelta(hours=2))
    assert item.status == "closed" and item.closed_at == NOW + timedelta(hours=2)
    with pytest.raises(RecoveryError, match="closed cannot become open"):
        update_item(session=session, item=item, status="open")


def test_a_refused_change_changes_nothing(session):
    item = low_score(session, "conv-none")
    due = item.due_at
    with pytest.raises(RecoveryError, match="no active staff member"):
        update_item(session=session, item=item, owner_id=9999, set_owner=True, due_at=due + timedelta(days=1),
                    outcome="x")
    assert (item.owner_id, item.due_at, item.outcome) == (None, due, None)


def test_overdue_lists_open_items_past_their_due_time(session):
    late = low_score(session, "conv-late")
    done = low_score(session, "conv-done")
    update_item(session=session, item=done, status="closed", outcome="Called back.")
    assert list_items(session=session, status="all", overdue_only=True, now=NOW + timedelta(hours=23)) == []
    assert list_items(session=session, status="all", overdue_only=True, now=NOW + timedelta(hours=25)) == [late]

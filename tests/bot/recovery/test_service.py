"""Service recovery items: opened by a low headline score or a complaint, owned by the agent
who handled the chat (else the manager on duty), due after RECOVERY_DUE_HOURS, and moved
forward only: open -> contacted -> closed, with an outcome (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.conversations.models import Conversation
from bot.errors import Forbidden
from bot.mail.models import OutboxMail
from bot.recovery.models import RecoveryItem
from bot.recovery.service import (
    RecoveryError,
    follow_up,
    follow_up_mails,
    list_items,
    open_for_complaint,
    update_item,
)
from bot.surveys.service import open_recovery_ticket, record_answer
from bot.tickets.service import add_comment
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


# --- the owner's follow-up by e-mail (issue 18) -------------------------------------------------


def outbox(session) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_a_low_score_opens_a_follow_up_ticket_the_customer_is_not_mailed_about(session):
    response = make_survey_response(session, definition=DEFINITION, conversation_id="conv-quiet",
                                    customer_email="ada@example.com")
    record_answer(session=session, response=response, question=DEFINITION.questions[0], position=0, value=1, now=NOW)
    ticket = open_recovery_ticket(session=session, response=response, settings=plain_settings(), now=NOW)
    assert ticket.customer_email == "ada@example.com"
    assert outbox(session) == []  # "we have your request" about a request they never made: no
    assert "satisfaction score of 1 on the survey after chat conv-quiet" in ticket.description


def test_the_owner_s_follow_up_is_a_public_reply_on_the_item_s_ticket(session):
    sam = make_user(session, name="Sam Lee")
    handled_chat(session, "conv-unhappy", sam.id)
    response = make_survey_response(session, definition=DEFINITION, conversation_id="conv-unhappy",
                                    customer_email="ada@example.com")
    record_answer(session=session, response=response, question=DEFINITION.questions[0], position=0, value=1, now=NOW)
    ticket = open_recovery_ticket(session=session, response=response, settings=plain_settings(), now=NOW)
    item = session.scalar(select(RecoveryItem).where(RecoveryItem.survey_response_id == response.id))

    follow_up(session=session, item_id=item.id, by=sam, now=NOW + timedelta(hours=1),
              message="I am sorry about the wait. Your refund is on its way.")

    [mail] = outbox(session)
    assert (mail.kind, mail.to_address, mail.ticket_id) == ("recovery", "ada@example.com", ticket.id)
    assert mail.subject == f"[{ticket.reference}] Following up on your feedback"
    assert "Your refund is on its way." in mail.text_body and "Sam Lee" in mail.text_body
    assert "Service recovery" not in mail.text_body + mail.subject  # staff's words stay with staff
    assert [(event.kind, event.body) for event in ticket.events if event.kind == "reply"] == [
        ("reply", "I am sorry about the wait. Your refund is on its way.")]
    assert ticket.first_responded_at == NOW + timedelta(hours=1) and ticket.status == "open"
    assert (item.status, item.contacted_at) == ("contacted", NOW + timedelta(hours=1))
    assert [m.id for m in follow_up_mails(session=session, items=[item])[item.id]] == [mail.id]
    # A reply from the agent console on that ticket is a follow-up too.
    add_comment(session=session, ticket=ticket, text="Did the refund arrive?", public=True, actor=f"agent:{sam.id}")
    assert [m.kind for m in follow_up_mails(session=session, items=[item])[item.id]] == ["recovery", "recovery"]


def test_a_complaint_s_follow_up_goes_to_the_address_it_gave(session):
    sam = make_user(session, name="Sam Lee")
    handled_chat(session, "conv-rude", sam.id)
    make_feedback(session, category="complaint", text="Rude and slow.", conversation_id="conv-rude",
                  customer_name="Bo Chen", customer_email="bo@example.com")
    [item] = session.scalars(select(RecoveryItem)).all()
    follow_up(session=session, item_id=item.id, by=sam, message="We have spoken with the team.", now=NOW)
    [mail] = outbox(session)
    assert (mail.kind, mail.to_address, mail.ticket_id, mail.recovery_item_id) == ("recovery", "bo@example.com",
                                                                                   None, item.id)
    assert mail.subject == "Following up on your feedback"
    assert "Hello Bo Chen," in mail.text_body and "Your reference" not in mail.text_body
    assert "See your request" not in mail.text_body and "give your reference" not in mail.text_body
    assert item.status == "contacted"


def test_no_address_no_follow_up_and_nothing_changes(session):
    meg = make_user(session, name="Meg", role="manager")
    make_feedback(session, category="complaint", text="Bad.", anonymous=True)
    [item] = session.scalars(select(RecoveryItem)).all()
    with pytest.raises(RecoveryError, match="no e-mail address"):
        follow_up(session=session, item_id=item.id, by=meg, message="Sorry.")
    assert outbox(session) == [] and item.status == "open"


def test_only_the_owner_or_a_manager_follows_up_and_never_on_a_closed_item(session):
    sam, ann = make_user(session, name="Sam"), make_user(session, name="Ann")
    handled_chat(session, "conv-sam2", sam.id)
    make_feedback(session, category="complaint", text="Slow.", conversation_id="conv-sam2")
    [item] = session.scalars(select(RecoveryItem)).all()
    with pytest.raises(Forbidden):
        follow_up(session=session, item_id=item.id, by=ann, message="Hello")
    update_item(session=session, item=item, status="closed", outcome="Called them")
    with pytest.raises(RecoveryError, match="closed"):
        follow_up(session=session, item_id=item.id, by=sam, message="Hello")
    assert outbox(session) == []

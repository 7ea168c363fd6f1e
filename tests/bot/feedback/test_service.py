"""Feedback service: stored with a reference, anonymous when asked, reviewed by staff."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from bot.feedback.models import Feedback
from bot.feedback.schemas import MAX_FEEDBACK, FeedbackCreate
from bot.feedback.service import FeedbackError, get_feedback, set_feedback_status
from tests.factories import NOW, make_feedback


def test_feedback_is_stored_with_an_fb_reference_and_status_new(session):
    item = make_feedback(session, category="complaint", text="  The delivery driver was rude.  ")
    session.expire_all()

    stored = get_feedback(session=session, reference=item.reference)

    assert re.fullmatch(r"FB-[A-Z2-7]{6}", stored.reference)
    assert stored.status == "new"
    assert stored.category == "complaint"
    assert stored.text == "The delivery driver was rude."
    assert stored.anonymous is False
    assert stored.customer_name == "Ada Lovelace"
    assert stored.customer_email == "ada@example.com"
    assert stored.conversation_id == "conv-feedback-1"
    assert stored.created_at == NOW


def test_feedback_references_differ(session):
    references = {make_feedback(session).reference for _ in range(30)}

    assert len(references) == 30


def test_feedback_is_found_by_its_reference_typed_in_lower_case(session):
    item = make_feedback(session)

    found = get_feedback(session=session, reference=f"  {item.reference.lower()} ")

    assert found is not None
    assert found.id == item.id


def test_anonymous_feedback_keeps_no_name_email_or_conversation_even_when_given(session):
    item = make_feedback(
        session,
        anonymous=True,
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
        conversation_id="conv-secret",
        source_line="line-secret",
    )
    session.expire_all()

    stored = session.scalar(select(Feedback).where(Feedback.id == item.id))

    assert stored.anonymous is True
    assert stored.customer_name is None
    assert stored.customer_email is None
    assert stored.conversation_id is None
    assert stored.text == "The agent was friendly and quick."
    # Nothing identifying is stored anywhere in the table.
    assert session.scalar(select(func.count()).where(Feedback.conversation_id == "conv-secret")) == 0
    assert session.scalar(select(func.count()).where(Feedback.customer_email == "ada@example.com")) == 0
    assert stored.source_line is None  # the line's key would lead back to the conversation's tracker


@pytest.mark.parametrize("status", ["reviewed", "actioned", "new"])
def test_staff_can_move_feedback_through_its_statuses(session, status):
    item = make_feedback(session)

    set_feedback_status(session=session, item=item, status=status)
    session.expire_all()

    assert get_feedback(session=session, reference=item.reference).status == status


def test_unknown_feedback_status_is_refused(session):
    item = make_feedback(session)

    with pytest.raises(FeedbackError, match="unknown feedback status 'ignored'"):
        set_feedback_status(session=session, item=item, status="ignored")

    assert item.status == "new"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_empty_feedback_is_refused(text):
    with pytest.raises(ValidationError):
        FeedbackCreate(category="product", text=text)


def test_feedback_over_the_limit_is_refused():
    with pytest.raises(ValidationError, match="longer than"):
        FeedbackCreate(category="product", text="x" * (MAX_FEEDBACK + 1))


@pytest.mark.parametrize("email", ["ada", "ada@", "ada@example", "ada at example.com"])
def test_feedback_with_an_invalid_email_is_refused(email):
    with pytest.raises(ValidationError, match="not a valid e-mail address"):
        FeedbackCreate(category="product", text="Nice kettle", customer_email=email)


@pytest.mark.parametrize("category", ["praise", "other", ""])
def test_feedback_in_an_unknown_category_is_refused(category):
    with pytest.raises(ValidationError):
        FeedbackCreate(category=category, text="Nice kettle")


def test_feedback_with_markup_is_stored_verbatim(session):
    text = "<script>alert('x')</script> '; DROP TABLE feedback; --"

    item = make_feedback(session, text=text)
    session.expire_all()

    assert get_feedback(session=session, reference=item.reference).text == text


def test_feedback_from_a_line_sent_again_is_stored_once(session):
    first = make_feedback(session, source_line="line-5d2e", category="complaint")
    again = make_feedback(session, source_line="line-5d2e", category="complaint", text="sent again")
    assert again.id == first.id and again.text == first.text
    assert session.scalar(select(func.count()).select_from(Feedback)) == 1

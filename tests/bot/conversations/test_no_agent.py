"""When nobody can take a chat (outside hours, nobody online, nobody in time): the customer's
words become a ticket linked to the chat, they are told its reference, and the bot keeps them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.conversations.handoffs import ClaimConflict, claim
from bot.conversations.models import ConversationEvent, Handoff, Message
from bot.conversations.queue import (
    NOBODY_IN_TIME,
    NOBODY_ONLINE,
    OUTSIDE_HOURS,
    expire_if_waiting,
    overdue_handoffs,
    refuse_handoff,
    why_nobody_can_come,
)
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import add_message, request_handoff, start_conversation
from bot.tickets.models import Ticket
from tests.factories import NOW, make_user, plain_settings


def chat(session, *lines, email="ada@example.com"):
    conversation, _ = start_conversation(session=session, data=SessionCreate(name="Ada", email=email))
    for text in lines:
        add_message(session=session, conversation=conversation, sender="customer", text=text, now=NOW)
        add_message(session=session, conversation=conversation, sender="bot", text="I can refund that.", now=NOW)
    return conversation


def test_why_nobody_can_come(session):
    weekdays = plain_settings(business_hours="mon-fri 09:00-17:00")
    assert why_nobody_can_come(session=session, now=NOW, settings=weekdays) == NOBODY_ONLINE
    make_user(session, name="Ann", presence="away")
    make_user(session, name="Gone", presence="online", active=False)
    assert why_nobody_can_come(session=session, now=NOW, settings=weekdays) == NOBODY_ONLINE
    make_user(session, name="Ben", presence="online")
    assert why_nobody_can_come(session=session, now=NOW, settings=weekdays) is None
    saturday = NOW + timedelta(days=5)
    assert why_nobody_can_come(session=session, now=saturday, settings=weekdays) == OUTSIDE_HOURS
    assert why_nobody_can_come(session=session, now=saturday, settings=plain_settings()) is None


def test_nobody_online_makes_a_ticket_from_the_customers_words_and_links_the_chat(session):
    conversation = chat(session, "I was charged twice for order 48213", "a person please")

    handoff, line = refuse_handoff(session=session, conversation=conversation, reason="requested",
                                   why=NOBODY_ONLINE, now=NOW, settings=plain_settings())

    assert (handoff.status, handoff.reason, handoff.ended_at) == ("unavailable", "requested", NOW)
    assert conversation.state == "bot"
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.conversation_id == conversation.id and ticket.customer_email == "ada@example.com"
    assert ticket.description == "I was charged twice for order 48213\na person please"
    assert ticket.category == "billing_payments" and ticket.classification == "urgent"
    assert ticket.events[0].actor == "system"
    assert line.sender == "system" and ticket.reference in line.text
    assert line.text.startswith("Sorry, no one from our team is available to chat right now.")
    assert "with your e-mail address" in line.text
    [event] = session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation.id))
    assert (event.from_state, event.to_state, event.actor, event.reason, event.handoff_id) == (
        "bot", "bot", "system", NOBODY_ONLINE, handoff.id)


def test_outside_hours_the_customer_is_told_the_hours_and_without_email_to_keep_the_page(session):
    conversation = chat(session, "talk to a human", email=None)
    settings = plain_settings(business_hours="mon-fri 09:00-17:00", business_timezone="Europe/Berlin")

    _, line = refuse_handoff(session=session, conversation=conversation, reason="requested", why=OUTSIDE_HOURS,
                             now=NOW, settings=settings)

    assert "we chat Mon\u2013Fri 09:00\u201317:00 (Europe/Berlin time)" in line.text
    assert "keep this page" in line.text and "e-mail" not in line.text
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.customer_email is None and ticket.category == "other"


def test_a_customer_who_waited_too_long_gets_a_ticket_and_the_bot_back(session):
    settings = plain_settings(handoff_queue_timeout_seconds=300)
    early = chat(session, "my parcel never came")
    late = chat(session, "a person please")
    first = request_handoff(session=session, conversation=early, reason="requested", now=NOW)
    request_handoff(session=session, conversation=late, reason="requested", now=NOW + timedelta(minutes=2))

    assert overdue_handoffs(session=session, now=NOW + timedelta(seconds=299), settings=settings) == []
    later = NOW + timedelta(minutes=5)
    assert overdue_handoffs(session=session, now=later, settings=settings) == [first.id]

    expired = expire_if_waiting(session=session, handoff_id=first.id, now=later, settings=settings)

    assert (expired.status, expired.ended_at) == ("expired", later)
    assert early.state == "bot" and late.state == "queued"
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.conversation_id == early.id and ticket.description == "my parcel never came"
    last = session.scalars(select(Message).where(Message.conversation_id == early.id)
                           .order_by(Message.id.desc())).first()
    assert last.sender == "system" and "no one from our team was free in time" in last.text
    assert ticket.reference in last.text
    events = session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == early.id)
                             .order_by(ConversationEvent.id)).all()
    assert [(e.from_state, e.to_state, e.actor, e.reason) for e in events] == [
        ("bot", "queued", "bot", "requested"), ("queued", "bot", "system", NOBODY_IN_TIME)]
    # Once expired, it cannot be claimed, nor expired twice.
    with pytest.raises(ClaimConflict):
        claim(session=session, handoff_id=first.id, agent=make_user(session), now=later)
    assert expire_if_waiting(session=session, handoff_id=first.id, now=later, settings=settings) is None
    assert session.scalar(select(Handoff.status).where(Handoff.id == first.id)) == "expired"


def test_a_claimed_handoff_is_not_expired(session):
    conversation = chat(session, "a person please")
    handoff = request_handoff(session=session, conversation=conversation, reason="requested", now=NOW)
    claim(session=session, handoff_id=handoff.id, agent=make_user(session), now=NOW + timedelta(minutes=1))

    later = NOW + timedelta(hours=1)
    assert overdue_handoffs(session=session, now=later, settings=plain_settings()) == []
    assert expire_if_waiting(session=session, handoff_id=handoff.id, now=later) is None
    assert conversation.state == "agent" and session.scalars(select(Ticket)).all() == []


def test_a_chat_with_an_open_ticket_gets_no_second_one(session):
    conversation = chat(session, "You were rude to me", "talk to someone now")
    from bot.tickets.schemas import TicketCreate
    from bot.tickets.service import create_ticket

    recovery = create_ticket(session=session, settings=plain_settings(), now=NOW, data=TicketCreate(
        description="Service recovery", category="other", priority="high", conversation_id=conversation.id))
    handoff, line = refuse_handoff(session=session, conversation=conversation, reason="recovery",
                                   why=NOBODY_ONLINE, now=NOW, settings=plain_settings())

    assert session.scalars(select(Ticket)).all() == [recovery]
    assert f"added this conversation to your ticket {recovery.reference}" in line.text
    assert recovery.events[-1].body == "The customer asked to talk to a person in the chat; no agent online."


def test_a_recovery_follow_up_is_served_before_earlier_ordinary_requests(session):
    from bot.conversations.queue import queue_order

    first = chat(session, "a person please")
    unhappy = chat(session, "talk to someone now")
    request_handoff(session=session, conversation=first, reason="requested", now=NOW)
    request_handoff(session=session, conversation=unhappy, reason="recovery", now=NOW + timedelta(minutes=5))

    order = [(h.conversation_id, priority) for h, priority, _ in queue_order(session=session)]
    assert order == [(unhappy.id, "high"), (first.id, "normal")]

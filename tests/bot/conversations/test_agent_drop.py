"""An agent's console drops: they show as offline, keep their chats through the grace time,
and after it the chats wait again at the front of the queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.conversations.handoffs import back_to_queue, chats_of_vanished_agents, claim
from bot.conversations.models import ConversationEvent, Message
from bot.conversations.queue import queue_order
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import request_handoff, start_conversation
from bot.users.service import console_gone, console_seen, mark_silent_consoles_offline
from tests.factories import NOW, make_user, plain_settings

GRACE = plain_settings(agent_reconnect_grace_seconds=120)


def live_chat(session, agent, *, at=NOW, name="Ada"):
    conversation, _ = start_conversation(session=session, data=SessionCreate(name=name))
    handoff = request_handoff(session=session, conversation=conversation, reason="requested", now=at)
    claim(session=session, handoff_id=handoff.id, agent=agent, now=at + timedelta(seconds=10))
    return conversation, handoff


def test_console_presence_follows_the_socket(session):
    ann = make_user(session, name="Ann", presence="offline")
    console_seen(session=session, user_id=ann.id, now=NOW)
    assert (ann.presence, ann.last_seen_at) == ("online", NOW)
    console_gone(session=session, user_id=ann.id, now=NOW + timedelta(seconds=10))
    assert (ann.presence, ann.last_seen_at) == ("offline", NOW + timedelta(seconds=10))
    console_seen(session=session, user_id=ann.id, now=NOW + timedelta(seconds=15))
    assert ann.presence == "online"  # back after a drop
    ann.presence = "away"
    console_seen(session=session, user_id=ann.id, now=NOW + timedelta(seconds=20))
    assert ann.presence == "away"  # a chosen "away" is kept while connected...
    console_gone(session=session, user_id=ann.id, now=NOW + timedelta(seconds=30))
    console_seen(session=session, user_id=ann.id, now=NOW + timedelta(seconds=40))
    assert (ann.presence, ann.last_seen_at) == ("away", NOW + timedelta(seconds=40))  # ...and across a reload


def test_a_console_that_stopped_pinging_is_marked_offline(session):
    quiet = make_user(session, name="Quiet", presence="online", last_seen_at=NOW - timedelta(minutes=2))
    quiet_away = make_user(session, name="Resting", presence="away", last_seen_at=NOW - timedelta(minutes=2))
    lively = make_user(session, name="Lively", presence="online", last_seen_at=NOW)
    api_only = make_user(session, name="Api", presence="online")

    assert mark_silent_consoles_offline(session=session, silent_since=NOW - timedelta(minutes=1)) == [quiet.id]
    assert (quiet.presence, quiet_away.presence, lively.presence, api_only.presence) == (
        "offline", "away", "online", "online")


def test_an_away_agent_whose_console_vanished_loses_their_chats_too(session):
    ann = make_user(session, name="Ann", presence="away", last_seen_at=NOW)
    _, handoff = live_chat(session, ann, at=NOW)
    console_gone(session=session, user_id=ann.id, now=NOW + timedelta(minutes=1))
    assert ann.presence == "away"
    later = NOW + timedelta(minutes=4)
    assert chats_of_vanished_agents(session=session, now=later, settings=GRACE) == [handoff.id]


def test_chats_wait_through_the_grace_then_return_to_the_front_of_the_queue(session):
    ann = make_user(session, name="Ann", presence="online", last_seen_at=NOW)
    conversation, handoff = live_chat(session, ann, at=NOW)
    later_customer, _ = start_conversation(session=session, data=SessionCreate(name="Bob"))
    request_handoff(session=session, conversation=later_customer, reason="requested", now=NOW + timedelta(minutes=1))
    dropped = NOW + timedelta(minutes=2)
    console_gone(session=session, user_id=ann.id, now=dropped)

    within = dropped + timedelta(seconds=119)
    assert chats_of_vanished_agents(session=session, now=within, settings=GRACE) == []
    assert back_to_queue(session=session, handoff_id=handoff.id, now=within, settings=GRACE) is None
    assert conversation.state == "agent"

    after = dropped + timedelta(seconds=121)
    assert chats_of_vanished_agents(session=session, now=after, settings=GRACE) == [handoff.id]
    returned, lost_by = back_to_queue(session=session, handoff_id=handoff.id, now=after, settings=GRACE)

    assert lost_by == ann.id
    assert (returned.status, returned.agent_id, returned.claimed_at, returned.requested_at) == (
        "queued", None, None, NOW)
    assert (conversation.state, conversation.agent_id) == ("queued", None)
    assert [h.id for h, _, _ in queue_order(session=session)][0] == handoff.id  # ahead of Bob
    last = session.scalars(select(Message).where(Message.conversation_id == conversation.id)
                           .order_by(Message.id.desc())).first()
    assert last.sender == "system" and last.text.startswith("Ann lost their connection.")
    event = session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == conversation.id)
                            .order_by(ConversationEvent.id.desc())).first()
    assert (event.from_state, event.to_state, event.actor, event.reason) == (
        "agent", "queued", "system", f"agent:{ann.id} disconnected")
    # Someone else can now take it.
    claim(session=session, handoff_id=handoff.id, agent=make_user(session, name="Ben"), now=after)
    assert conversation.state == "agent"


def test_an_agent_who_came_back_or_never_used_the_console_keeps_their_chats(session):
    ann = make_user(session, name="Ann", presence="online", last_seen_at=NOW)
    api_only = make_user(session, name="Api", presence="offline")
    _, ann_chat = live_chat(session, ann, name="Ada")
    _, api_chat = live_chat(session, api_only, name="Cy")
    console_gone(session=session, user_id=ann.id, now=NOW)
    much_later = NOW + timedelta(hours=1)
    console_seen(session=session, user_id=ann.id, now=NOW + timedelta(seconds=60))  # reconnected...
    console_seen(session=session, user_id=ann.id, now=much_later - timedelta(seconds=20))  # ...and still pinging
    assert chats_of_vanished_agents(session=session, now=much_later, settings=GRACE) == []
    assert back_to_queue(session=session, handoff_id=ann_chat.id, now=much_later, settings=GRACE) is None
    assert back_to_queue(session=session, handoff_id=api_chat.id, now=much_later, settings=GRACE) is None
    assert (ann_chat.status, api_chat.status) == ("active", "active")


def test_a_chat_back_in_the_queue_gets_a_fresh_queue_timeout(session):
    from bot.conversations.queue import overdue_handoffs

    ann = make_user(session, name="Ann", presence="online", last_seen_at=NOW)
    _, handoff = live_chat(session, ann, at=NOW)
    console_gone(session=session, user_id=ann.id, now=NOW + timedelta(minutes=20))
    back = NOW + timedelta(minutes=23)
    back_to_queue(session=session, handoff_id=handoff.id, now=back, settings=GRACE)

    timeout = plain_settings(handoff_queue_timeout_seconds=300)
    assert overdue_handoffs(session=session, now=back + timedelta(seconds=299), settings=timeout) == []
    assert overdue_handoffs(session=session, now=back + timedelta(seconds=300), settings=timeout) == [handoff.id]

"""The facts the KPIs count chats by (customer lines, asked for a person, has a ticket) follow
every line, handoff and ticket written, on the hot path and through the ORM alike, and agree
with working them out again from scratch (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversations.models import Conversation
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import add_message, append_lines, request_handoff, start_conversation
from bot.reports.rollups import recount_conversation_facts
from tests.factories import make_ticket


def facts(session) -> dict[str, tuple[int, bool, bool]]:
    session.flush()
    rows = session.execute(select(Conversation.id, Conversation.customer_lines, Conversation.asked_for_person,
                                  Conversation.has_ticket).execution_options(populate_existing=True))
    return {cid: (lines, bool(asked), bool(ticket)) for cid, lines, asked, ticket in rows}


def test_facts_follow_lines_handoffs_and_tickets(session):
    chat, _ = start_conversation(session=session, data=SessionCreate())
    other, _ = start_conversation(session=session, data=SessionCreate())
    quiet, _ = start_conversation(session=session, data=SessionCreate())
    append_lines(connection=session.connection(), conversation_id=chat.id, lines=[
        {"sender": "customer", "text": "hi"}, {"sender": "bot", "text": "Hello!"},
        {"sender": "customer", "text": "a person please"}])
    add_message(session=session, conversation=chat, sender="customer", text="anyone?")
    add_message(session=session, conversation=quiet, sender="bot", text="Hello!")
    request_handoff(session=session, conversation=chat, reason="requested")
    ticket = make_ticket(session, conversation_id=other.id)
    assert facts(session) == {chat.id: (3, True, False), other.id: (0, False, True), quiet.id: (0, False, False)}

    ticket.conversation_id = chat.id  # moved to another chat: the first has none left
    assert facts(session)[other.id] == (0, False, False) and facts(session)[chat.id] == (3, True, True)

    kept = facts(session)
    recount_conversation_facts(session.connection())
    assert facts(session) == kept

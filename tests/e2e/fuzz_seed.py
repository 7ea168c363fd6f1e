"""Seed data for the API contract pass, so that the ids the fuzzer tries exist: `python -m
tests.e2e.fuzz_seed` with DATABASE_URL set prints them as JSON. Staff accounts (admin, agent,
manager, with FUZZ_PASSWORD), a chat the agent holds, a chat waiting in the queue, a ticket with a link to
its customer's page, and a complaint (in the inbox) with its service-recovery item."""

from __future__ import annotations

import json
import os

from bot.conversations.handoffs import claim
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import add_message, request_handoff, start_conversation
from bot.db import transaction
from bot.feedback.schemas import FeedbackCreate
from bot.feedback.service import record_feedback
from bot.recovery.service import open_for_complaint
from bot.tickets.links import issue_link
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import create_ticket
from bot.users.schemas import UserCreate
from bot.users.service import create_user

ROLES = {"admin@example.com": "admin", "agent@example.com": "agent", "manager@example.com": "manager"}


def seed(password: str) -> dict:
    with transaction() as session:
        users = {email: create_user(session=session, data=UserCreate(email=email, name=role.title(), role=role,
                                                                      password=password))
                 for email, role in ROLES.items()}
        agent = users["agent@example.com"]
        agent.presence = "online"
        chats = []
        for line in ("My parcel never came, can I talk to a person?", "I need a person about a refund"):
            conversation, _ = start_conversation(session=session, data=SessionCreate(name="Ada",
                                                                                     email="ada@example.com"))
            add_message(session=session, conversation=conversation, sender="customer", text=line)
            chats.append((conversation, request_handoff(session=session, conversation=conversation,
                                                        reason="asked")))
        held = claim(session=session, handoff_id=chats[0][1].id, agent=agent)
        ticket = create_ticket(session=session, data=TicketCreate(
            description="My parcel 48213 never came", category="orders_shipping", customer_email="ada@example.com",
            conversation_id=chats[0][0].id))
        complaint = record_feedback(session=session, data=FeedbackCreate(
            category="complaint", text="Nobody answered my e-mails for a week", customer_email="ada@example.com",
            conversation_id=chats[0][0].id))
        item = open_for_complaint(session=session, feedback=complaint)
        link = issue_link(session=session, ticket=ticket)
        session.flush()
        return {"users": {email: user.id for email, user in users.items()},
                "handoffs": [held.id, chats[1][1].id], "conversations": [conversation.id for conversation, _ in chats],
                "tickets": [ticket.reference], "feedback": [complaint.id], "recovery_items": [item.id],
                "ticket_link": link}


if __name__ == "__main__":
    print(json.dumps(seed(os.environ["FUZZ_PASSWORD"])))

"""A whole conversation against the real processes, then the rows it left in SQL."""

from __future__ import annotations

import email
import re
import time
from email import policy

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.surveys.models import SurveyResponse
from bot.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"TCK-[A-Z2-7]{6}")


def test_api_health_reports_the_database(stack):
    response = httpx.get(f"http://{stack.host}:{stack.api_port}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_faq_ticket_status_and_low_survey_score_end_to_end(stack, chat):
    replies = chat.say("hello")
    assert "Brightside" in chat.text(replies)
    assert any(reply.get("buttons") for reply in replies)

    answer = chat.text(chat.say("how long does delivery take?"))
    assert "business days" in answer

    assert "name" in chat.text(chat.say("I'd like to open a support ticket")).lower()
    # An FAQ in the middle of the form is answered, then the form asks again.
    digression = chat.text(chat.say("what payment methods do you accept?"))
    assert "PayPal" in digression or "card" in digression.lower()
    assert "name" in digression.lower()
    assert "e-mail" in chat.text(chat.say("Dana Reyes"))
    assert "valid e-mail" in chat.text(chat.say("dana at example dot com"))
    topic = chat.say("dana.reyes@example.com")
    assert any("Orders & shipping" in [b["title"] for b in reply.get("buttons", [])] for reply in topic)
    # A forged button payload with an unknown topic is refused, and the question asked again.
    assert "pick one of the buttons" in chat.text(chat.say('/inform{"ticket_category":"free_money"}'))
    assert "describe" in chat.text(chat.say('/inform{"ticket_category":"orders_shipping"}')).lower()
    summary = chat.text(chat.say("My parcel for order 48213 never arrived and tracking hasn't moved in a week."))
    assert "Dana Reyes" in summary and "Orders & shipping" in summary
    created = chat.text(chat.say("/affirm"))
    reference = REFERENCE.search(created).group(0)
    assert "24 hours" in created

    assert "reference" in chat.text(chat.say("can you check the status of my ticket?")).lower()
    assert "e-mail" in chat.text(chat.say(reference.lower().replace("-", " ")))
    status = chat.text(chat.say("dana.reyes@example.com"))
    assert reference in status and "is new" in status

    offer = chat.text(chat.say("thanks, bye"))
    assert "few quick questions" in offer
    first = chat.text(chat.say("/affirm"))
    assert "(1/6)" in first
    for answer_text, next_marker in (("1", "(2/6)"), ("no", "(3/6)"), ("two", "(4/6)"), ("terrible", "(5/6)"),
                                     ("2", "(6/6)")):
        assert next_marker in chat.text(chat.say(answer_text))
    closing = chat.text(chat.say("Nobody told me anything for a week."))
    recovery = REFERENCE.search(closing)
    assert recovery and recovery.group(0) != reference
    assert "sorry" in closing.lower()

    engine = create_engine(stack.database_url)
    with Session(engine) as session:
        tickets = {t.reference: t for t in session.scalars(select(Ticket))}
        assert set(tickets) == {reference, recovery.group(0)}
        assert tickets[reference].customer_email == "dana.reyes@example.com"
        assert tickets[reference].category == "orders_shipping"
        assert tickets[recovery.group(0)].priority == "high"
        response = session.scalars(select(SurveyResponse).where(SurveyResponse.conversation_id == chat.sender)).one()
        assert response.completed and response.recovery_ticket_id == tickets[recovery.group(0)].id
        scores = {a.question_key: (a.score, a.text) for a in response.answers}
        assert scores == {"csat": (1, None), "solved": (0, None), "speed": (2, None), "solution": (1, None),
                          "courtesy": (2, None), "comment": (None, "Nobody told me anything for a week.")}
        kinds = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == tickets[reference].id))
        assert kinds.all() == ["created"]
    engine.dispose()


def test_asking_for_a_person_emits_the_handoff_signal(stack, chat):
    replies = chat.say("I want to talk to a real person")
    assert {"handoff": {"reason": "requested"}} in [reply.get("custom") for reply in replies]
    assert "connecting you" in chat.text(replies)


def test_unknown_button_payload_gets_an_answer(stack, chat):
    replies = chat.say("/no_such_intent")
    assert chat.text(replies)


def test_emoji_and_markup_are_answered_and_kept_as_text(stack, chat):
    chat.say("I want to open a ticket")
    chat.say("Zoë 😀 <b>Ng</b>")
    summary = chat.text(chat.say("zoe@example.com"))
    assert summary  # the form moves on to the topic question
    chat.say('/inform{"ticket_category":"other"}')
    confirm = chat.text(chat.say("<script>alert('x')</script> my order 😡 is late; DROP TABLE tickets;"))
    assert "<script>alert('x')</script>" in confirm and "Zoë 😀 <b>Ng</b>" in confirm
    reference = REFERENCE.search(chat.text(chat.say("/affirm"))).group(0)
    engine = create_engine(stack.database_url)
    with Session(engine) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        assert ticket.customer_name == "Zoë 😀 <b>Ng</b>"
        assert ticket.description.startswith("<script>alert('x')</script>")
    engine.dispose()


def test_stop_cancels_the_ticket_form_and_nothing_is_stored(stack, chat):
    chat.say("I need to open a ticket")
    chat.say("Sam Lee")
    cancelled = chat.text(chat.say("stop"))
    assert "no ticket was opened" in cancelled
    engine = create_engine(stack.database_url)
    with Session(engine) as session:
        assert not session.scalars(select(Ticket).where(Ticket.customer_name == "Sam Lee")).all()
    engine.dispose()


def test_rasa_takes_messages_from_the_api_only(stack):
    """Issue 17: Rasa's REST channel answers a message without RASA_TOKEN with 401 and stores nothing;
    with it (what the API sends), the bot answers, which also means Rasa's calls carried the action
    server's token (actions/server.py refuses any other)."""
    rasa = f"http://{stack.host}:{stack.rasa_port}"
    sender = "e2e-intruder"
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": stack.rasa_token}):
        response = httpx.post(f"{rasa}/webhooks/rest/webhook", json={"sender": sender, "message": "hello"},
                              headers=headers, timeout=30)
        assert response.status_code == 401, (headers, response.text)
    tracker = httpx.get(f"{rasa}/conversations/{sender}/tracker", params={"token": stack.rasa_token}, timeout=30)
    assert tracker.status_code == 200
    assert not [event for event in tracker.json()["events"] if event["event"] == "user"]

    answered = httpx.post(f"{rasa}/webhooks/rest/webhook", json={"sender": "e2e-api", "message": "/open_ticket"},
                          headers={"Authorization": f"Bearer {stack.rasa_token}"}, timeout=60)
    assert answered.status_code == 200
    # The ticket form's first question comes from a custom action's validation (action server).
    said = " ".join(reply.get("text", "") for reply in answered.json()).lower()
    assert "name" in said and "went wrong" not in said, said


def test_a_ticket_opened_in_chat_is_confirmed_by_e_mail_without_an_smtp_server(stack, chat):
    """Issue 18: with no SMTP_URL (as `make run` starts), the e-mail a customer gets when the bot opens
    their ticket is written as an .eml file: the reference, what was asked, the SLA promise."""
    chat.say("I'd like to open a support ticket")
    chat.say("Kim Osei")
    chat.say("kim.osei@example.com")
    chat.say('/inform{"ticket_category":"orders_shipping"}')
    chat.say("The blender I ordered arrived with a cracked jug.")
    reference = REFERENCE.search(chat.text(chat.say("/affirm"))).group(0)
    deadline = time.monotonic() + 30
    found = []
    while not found and time.monotonic() < deadline:
        found = [message for message in (email.message_from_bytes(path.read_bytes(), policy=policy.default)
                                         for path in stack.outbox.glob("*.eml"))
                 if reference in message["Subject"]]
        time.sleep(0.5)
    assert found, f"no e-mail about {reference} in {stack.outbox} after 30 s"
    [message] = found
    assert message["To"] == "kim.osei@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "Hello Kim Osei," in text and "cracked jug" in text and "A person will reply by" in text

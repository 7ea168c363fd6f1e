"""Issue 18: what customers are told by e-mail about their tickets is written to the outbox with the change
that causes it, in the company's words, escaped where it must be."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.mail.models import OutboxMail
from bot.mail.templates import TemplatesInvalid, load
from bot.settings import PROJECT_ROOT
from bot.tickets.service import add_comment, change_status
from tests.factories import make_ticket, make_user


def outbox(session) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_a_new_ticket_writes_its_e_mail_in_the_same_transaction(session):
    ticket = make_ticket(session, description="My parcel 48213 never came", customer_name="Ada")
    [mail] = outbox(session)
    assert (mail.kind, mail.to_address, mail.status, mail.ticket_id) == ("ticket_opened", "ada@example.com",
                                                                          "pending", ticket.id)
    assert mail.subject == f"[{ticket.reference}] We have your request: {ticket.subject}"
    assert "Hello Ada," in mail.text_body and "My parcel 48213 never came" in mail.text_body
    assert ticket.reference in mail.html_body and mail.message_id == f"<ticket.{ticket.reference}@example.com>"
    session.rollback()
    assert outbox(session) == []  # the ticket rolled back: no e-mail about it either


def test_no_address_no_e_mail(session):
    make_ticket(session, customer_email=None)
    assert outbox(session) == []


def test_the_customer_s_words_are_escaped_in_html_and_the_subject_is_one_line(session):
    make_ticket(session, description='<script>alert("x")</script> & <b>bold</b>', subject="Broken\r\nBcc: all@x")
    [mail] = outbox(session)
    assert "<script>" not in mail.html_body and "&lt;script&gt;" in mail.html_body
    assert '<script>alert("x")</script>' in mail.text_body  # plain text is shown as text
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "<img" not in mail.html_body and "src=" not in mail.html_body  # nothing loaded from elsewhere


def test_status_changes_the_customer_should_know_of_each_write_one(session):
    agent = make_user(session, name="Sam")
    actor = f"agent:{agent.id}"
    ticket = make_ticket(session)
    add_comment(session=session, ticket=ticket, text="Checking with the courier.", public=False, actor=actor)
    add_comment(session=session, ticket=ticket, text="It left the depot today.", public=True, actor=actor)
    change_status(session=session, ticket=ticket, to_status="pending", actor=actor)
    change_status(session=session, ticket=ticket, to_status="resolved", actor=actor)
    change_status(session=session, ticket=ticket, to_status="open", actor=actor)
    mails = outbox(session)
    assert [mail.kind for mail in mails] == ["ticket_opened", "agent_reply", "waiting_on_you", "resolved", "reopened"]
    reply = mails[1]
    assert "Sam replied" in reply.subject and "It left the depot today." in reply.text_body
    assert "Checking with the courier" not in "".join(mail.text_body for mail in mails)  # a private note stays
    assert all(mail.thread_id == mails[0].message_id for mail in mails[1:])
    assert len({mail.message_id for mail in mails}) == 5


def test_what_the_customer_did_themselves_is_not_mailed_back(session):
    ticket = make_ticket(session)
    change_status(session=session, ticket=ticket, to_status="resolved", actor="agent:1")
    change_status(session=session, ticket=ticket, to_status="open", actor="customer:ada@example.com")
    assert [mail.kind for mail in outbox(session)] == ["ticket_opened", "resolved"]


def test_how_to_follow_up_says_reply_only_when_replies_reach_us(session, configure):
    make_ticket(session)
    configure(mail_reply_to="support@example.com")
    make_ticket(session, description="A second question")
    chat, reply = outbox(session)
    assert "chat with us on our website" in chat.text_body and "reply to this e-mail" not in chat.text_body
    assert "reply to this e-mail" in reply.text_body


def test_templates_missing_a_kind_are_refused_with_the_reason(tmp_path):
    broken = tmp_path / "mail.yml"
    broken.write_text((PROJECT_ROOT / "bot/mail/default_templates.yml").read_text().replace("resolved:", "solved:"))
    with pytest.raises(TemplatesInvalid, match="resolved"):
        load(broken)
    unknown = tmp_path / "typo.yml"
    unknown.write_text(Path(PROJECT_ROOT / "bot/mail/default_templates.yml").read_text()
                       .replace("{{ reference }}]", "{{ referense }}]", 1))
    with pytest.raises(Exception, match="referense"):
        load(unknown).render("ticket_opened", {"company": "C", "name": "n", "reference": "R", "subject": "s",
                                               "summary": "", "category": "", "first_response_due": "",
                                               "resolution_due": "", "reply": "", "agent": "",
                                               "follow_up_by": "chat", "ticket_url": "u", "survey_url": "s"})

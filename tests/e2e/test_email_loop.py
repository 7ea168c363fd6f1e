"""Issue 18: the loop a customer lives through, with the real processes and a real mailbox (Dovecot): a
ticket opened in the chat is confirmed by e-mail; the customer answers that e-mail; the answer lands on
the ticket; the agent's reply and the resolution go back by e-mail; the customer answers the survey from
the link in the last one. The steps are printed."""

from __future__ import annotations

import email
import re
import time
from email import policy

import httpx
import pytest
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
REFERENCE = re.compile(r"TCK-[A-Z2-7]{6}")


def wait_for(what: str, check, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {seconds:.0f} s")


def e_mail(stack, reference: str, subject_part: str):
    def found():
        for path in sorted(stack.outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if reference in message["Subject"] and subject_part in message["Subject"]:
                return message
        return None
    return wait_for(f"an e-mail '{subject_part}' about {reference}", found)


def test_chat_ticket_e_mail_reply_by_e_mail_agent_reply_and_resolution(stack, chat):
    if stack.mailbox is None:
        pytest.skip(f"no support mailbox: {stack.why_no_mailbox}")
    # The stack's mailbox is shared with the other end-to-end tests (the desk's): count what this one adds.
    processed_before = stack.mailbox.count("Processed")
    engine = make_engine(stack.database_url)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email="max.agent@example.com", name="Max", role="agent",
                                                     password=PASSWORD))
    engine.dispose()
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1", timeout=30)
    max_ = {"Authorization": "Bearer " + api.post("/auth/token", data={
        "username": "max.agent@example.com", "password": PASSWORD}).json()["access_token"]}
    steps = []

    chat.say("I'd like to open a support ticket")
    chat.say("Iris Novak")
    chat.say("iris.novak@example.com")
    chat.say('/inform{"ticket_category":"orders_shipping"}')
    chat.say("My order 55120 shows delivered but nothing arrived.")
    created = chat.text(chat.say("/affirm"))
    reference = REFERENCE.search(created).group(0)
    steps.append(f"chat, bot: {created.splitlines()[0]}")

    opened = e_mail(stack, reference, "We have your request")
    steps.append(f"e-mail to {opened['To']}: {opened['Subject']} (Reply-To {opened['Reply-To']})")
    assert opened["Reply-To"].startswith(f"support+{reference}.")
    assert "reply to this e-mail" in opened.get_body(("plain",)).get_content()

    answer = (f"From: Iris Novak <iris.novak@example.com>\r\nTo: {opened['Reply-To']}\r\n"
              f"Subject: Re: {opened['Subject']}\r\nMessage-ID: <iris-1@example.com>\r\n"
              f"In-Reply-To: {opened['Message-ID']}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
              "The parcel was left at number 12, not 21. Could you check with the courier?\r\n\r\n"
              f"On Mon, 7 Dec 2026, {opened['From']} wrote:\r\n> Thank you for contacting Brightside.\r\n")
    stack.mailbox.deliver(answer.encode())
    steps.append("e-mail from iris.novak@example.com: The parcel was left at number 12, not 21. ...")

    def customer_note():
        events = api.get(f"/tickets/{reference}", headers=max_).json()["events"]
        return [e for e in events if e["kind"] == "note"]
    [note] = wait_for("the e-mailed answer on the ticket", customer_note)
    assert note["body"] == "The parcel was left at number 12, not 21. Could you check with the courier?"
    steps.append(f"ticket {reference}, note by {note['actor']}: {note['body']}")

    assert api.post(f"/tickets/{reference}/comments", headers=max_, json={
        "text": "The courier confirms number 21; a new parcel leaves today.", "public": True}).status_code == 201
    replied = e_mail(stack, reference, "Max replied")
    steps.append(f"e-mail to {replied['To']}: {replied['Subject']}")
    assert "a new parcel leaves today" in replied.get_body(("plain",)).get_content()

    assert api.patch(f"/tickets/{reference}", headers=max_, json={"status": "resolved"}).status_code == 200
    solved = e_mail(stack, reference, "Solved")
    steps.append(f"e-mail to {solved['To']}: {solved['Subject']}")
    token = re.search(r"/survey#token=([A-Za-z0-9_-]+)", solved.get_body(("plain",)).get_content()).group(1)
    link = {"Authorization": f"Bearer {token}"}
    for key, answer in (("csat", "5"), ("solved", "yes"), ("speed", "4"), ("solution", "5"), ("courtesy", "5"),
                        ("comment", "Quick once I wrote back")):
        survey = api.post("/ticket-page/survey/answers", headers=link, json={"key": key, "answer": answer})
        assert survey.status_code == 200, survey.text
    assert survey.json()["completed"] is True
    steps.append("survey from the link in that e-mail: " + ", ".join(
        f"{q['key']} {q['answer']}" for q in survey.json()["questions"]))
    assert (stack.mailbox.count("INBOX"), stack.mailbox.count("Processed")) == (0, processed_before + 1)
    print("\nthe loop:\n" + "\n".join(f"  {n}. {step}" for n, step in enumerate(steps, 1)))

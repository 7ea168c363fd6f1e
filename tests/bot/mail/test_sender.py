"""Issue 18: the outbox is sent through a real SMTP server (aiosmtpd, in this process): delivered once, in
plain text and HTML with the headers a mail program needs; kept and tried again while the server is down;
given up, visibly, when it refuses; written as .eml files when there is no SMTP server."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.db import transaction, utcnow
from bot.mail.models import OutboxMail
from bot.mail.sender import LEASE, claim_due, reply_signature, retry_delay, send_due
from bot.recovery.models import RecoveryItem
from bot.recovery.service import follow_up
from harness.stack import free_port
from tests.actions.test_server import outward_address
from tests.factories import make_feedback, make_ticket, make_user


class Mailbox:
    """An SMTP server's handler: keeps every message, or refuses every recipient with `refuse`."""

    def __init__(self, refuse: str | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(configure) -> Iterator[tuple[Mailbox, Controller]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    configure(smtp_url=f"smtp://127.0.0.1:{controller.port}", mail_send_seconds=0)
    yield mailbox, controller
    controller.stop()


def opened(customer_email: str = "ada@example.com", **fields) -> str:
    with transaction() as session:
        return make_ticket(session, customer_email=customer_email, **fields).reference


def mails() -> list[OutboxMail]:
    with transaction() as session:
        return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_an_e_mail_is_delivered_once_with_text_html_and_threading_headers(app_db, smtp, configure):
    mailbox, _ = smtp
    configure(mail_reply_to="support@example.com", mail_from="Brightside support <support@example.com>")
    reference = opened(description="My parcel 48213 never came")
    delivery = send_due()
    assert len(delivery.sent) == 1 and not delivery.retrying and not delivery.failed
    [message] = mailbox.messages
    assert message["To"] == "ada@example.com" and message["From"] == "Brightside support <support@example.com>"
    assert message["Subject"].startswith(f"[{reference}] We have your request")
    assert message["Message-ID"] == f"<ticket.{reference}@example.com>"
    assert message["Reply-To"] == f"support+{reference}.{reply_signature(reference)}@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert "My parcel 48213 never came" in message.get_body(("plain",)).get_content()
    assert "<strong>" + reference in message.get_body(("html",)).get_content()
    [mail] = mails()
    assert mail.status == "sent" and mail.attempts == 1 and mail.sent_at is not None
    assert send_due().sent == [] and len(mailbox.messages) == 1  # nothing is sent twice


def test_a_follow_up_with_no_ticket_is_answered_to_the_plain_support_address(app_db, smtp, configure):
    mailbox, _ = smtp
    configure(mail_reply_to="support@example.com")
    with transaction() as session:
        meg = make_user(session, name="Meg", role="manager")
        make_feedback(session, category="complaint", text="Rude.", customer_email="bo@example.com")
        item = session.scalar(select(RecoveryItem))
        follow_up(session=session, item_id=item.id, by=meg, message="We are sorry. A voucher is on its way.")
    assert len(send_due().sent) == 1
    [message] = mailbox.messages
    assert (message["To"], message["Reply-To"], message["In-Reply-To"]) == ("bo@example.com", "support@example.com",
                                                                            None)
    assert "A voucher is on its way." in message.get_body(("plain",)).get_content()


def test_while_the_server_is_down_nothing_is_lost_and_it_goes_once_it_is_back(app_db, configure):
    port = free_port()  # nothing listens here yet
    configure(smtp_url=f"smtp://127.0.0.1:{port}", mail_send_seconds=0)
    opened()
    now = utcnow()
    assert len(send_due(now=now).retrying) == 1
    [mail] = mails()
    assert mail.status == "pending" and mail.attempts == 1 and "ConnectionRefusedError" in mail.last_error
    assert abs((mail.next_attempt_at - (now + retry_delay(1))).total_seconds()) < 1
    assert send_due(now=now + timedelta(seconds=5)).retrying == []  # not yet due again
    assert len(send_due(now=now + timedelta(seconds=31)).retrying) == 1
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert len(send_due(now=now + timedelta(minutes=5)).sent) == 1
    finally:
        controller.stop()
    [mail] = mails()
    assert mail.status == "sent" and mail.attempts == 3 and len(mailbox.messages) == 1


def test_a_server_down_for_good_ends_in_a_failure_agents_can_see(app_db, configure):
    configure(smtp_url=f"smtp://127.0.0.1:{free_port()}", mail_max_attempts=3)
    opened()
    later = utcnow()
    for _ in range(3):
        send_due(now=later)
        later += timedelta(hours=2)
    [mail] = mails()
    assert mail.status == "failed" and mail.attempts == 3
    assert send_due(now=later + timedelta(days=1)).retrying == []


def test_a_refused_address_fails_at_once_with_the_server_s_answer(app_db, smtp):
    mailbox, _ = smtp
    mailbox.refuse = "550 5.1.1 <ada@example.com>: no such mailbox"
    opened()
    assert len(send_due().failed) == 1
    [mail] = mails()
    assert mail.status == "failed" and mail.attempts == 1 and "550" in mail.last_error
    assert "no such mailbox" in mail.last_error and mailbox.messages == []


def test_two_workers_never_take_the_same_e_mail_and_a_dead_one_s_is_taken_again(app_db, smtp):
    for number in range(4):
        opened(customer_email=f"c{number}@example.com")
    now = utcnow()
    first, second = claim_due(now=now, limit=3), claim_due(now=now, limit=3)
    assert len(first) == 3 and len(second) == 1 and not set(first) & set(second)
    assert claim_due(now=now + timedelta(minutes=1)) == []  # still held by the worker that took them
    # The first worker died before sending: after the lease another takes them, with the same ids.
    assert sorted(claim_due(now=now + LEASE + timedelta(seconds=1))) == sorted(first + second)


def test_without_an_smtp_server_each_e_mail_is_an_eml_file_to_read(app_db, configure, tmp_path):
    configure(smtp_url=None, mail_outbox_dir=tmp_path / "outbox")
    reference = opened()
    assert len(send_due().sent) == 1
    [path] = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith(f"[{reference}]") and message["To"] == "ada@example.com"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


def test_a_password_is_never_sent_to_a_remote_server_without_starttls(app_db, configure):
    # A server on this machine's network address (not loopback) that offers no STARTTLS.
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback, so no server can stand in for a remote one")
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname=address, port=free_port())
    controller.start()
    try:
        configure(smtp_url=f"smtp://user:secret@{address}:{controller.port}")
        opened()
        send_due()
    finally:
        controller.stop()
    [mail] = mails()
    assert mail.status == "pending" and "no STARTTLS" in mail.last_error and mailbox.messages == []


def test_an_e_mail_that_cannot_be_written_fails_alone_and_the_others_go(app_db, smtp):
    mailbox, _ = smtp
    opened(customer_email="ok@example.com")
    opened(customer_email="second@example.com")
    with transaction() as session:  # a header that would inject another (no validated path makes one)
        session.scalars(select(OutboxMail).order_by(OutboxMail.id)).first().to_address = "x@example.com\r\nBcc: all"
    delivery = send_due()
    assert len(delivery.failed) == 1 and len(delivery.sent) == 1
    [broken, good] = mails()
    assert broken.status == "failed" and "cannot be written" in broken.last_error
    assert good.status == "sent" and [m["To"] for m in mailbox.messages] == ["second@example.com"]


def test_the_solved_e_mail_lets_the_mail_program_stop_the_surveys_in_one_click(app_db, smtp):
    from bot.tickets.service import change_status, get_ticket

    mailbox, _ = smtp
    reference = opened()
    with transaction() as session:
        change_status(session=session, ticket=get_ticket(session=session, reference=reference), to_status="resolved",
                      actor="agent:1")
    send_due()
    solved, opened_mail = [m for m in mailbox.messages if "Solved" in m["Subject"]], mailbox.messages[0]
    [message] = solved
    assert message["List-Unsubscribe"].startswith("<") and "/api/v1/ticket-page/unsubscribe?token=" in \
        message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert opened_mail["List-Unsubscribe"] is None  # about the request itself: nothing to turn off

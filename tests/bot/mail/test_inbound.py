"""Issue 18: customers' e-mails to the support mailbox, read from a real IMAP server (Debian's Dovecot, on a
free port with a throw-away mailbox): a reply goes to its ticket, a new message opens one, automatic mail is
never answered, a forged or foreign reply is held, and whatever a sender wrote, the poller goes on."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from bot.db import transaction
from bot.mail.inbound import html_to_text, poll_once, trim_reply
from bot.mail.models import InboundMail, OutboxMail
from bot.mail.sender import reply_signature
from bot.mail.service import thread_id
from bot.settings import get_settings
from bot.tickets.models import Ticket, TicketAttachment
from bot.tickets.service import change_status, get_ticket
from harness.dovecotserver import DovecotServer, DovecotUnavailable
from tests.factories import make_ticket


@pytest.fixture
def mailbox(app_db, configure) -> Iterator[DovecotServer]:
    try:
        server = DovecotServer()
    except DovecotUnavailable as why:
        pytest.skip(str(why))
    try:
        configure(imap_url=server.wait_ready(), mail_reply_to="support@example.com", smtp_url=None)
    except DovecotUnavailable as why:
        server.stop()
        pytest.skip(str(why))
    yield server
    server.stop()


def mail(*headers: str, body: str = "Hello", content_type: str = "text/plain; charset=utf-8") -> bytes:
    lines = [*headers, f"Content-Type: {content_type}", "MIME-Version: 1.0", "", body]
    return "\r\n".join(lines).encode()


def opened_waiting(email: str = "ada@example.com") -> str:
    with transaction() as session:
        ticket = make_ticket(session, customer_email=email, description="Which kettle do I have?")
        change_status(session=session, ticket=ticket, to_status="pending", actor="agent:1")
        return ticket.reference


def ticket(reference: str) -> Ticket:
    with transaction() as session:
        found = get_ticket(session=session, reference=reference)
        found.events  # noqa: B018 - loaded while the session is open
        return found


def outcomes() -> list[tuple[str, str | None]]:
    with transaction() as session:
        return [(m.outcome, m.reason) for m in session.scalars(select(InboundMail).order_by(InboundMail.id))]


def test_a_reply_goes_to_its_ticket_trimmed_reopens_it_and_is_taken_once(mailbox):
    reference = opened_waiting()
    reply = mail("From: Ada Lovelace <ada@example.com>",
                 f"To: support+{reference}.{reply_signature(reference)}@example.com",
                 f"Subject: Re: [{reference}] We need something from you", "Message-ID: <reply-1@example.com>",
                 f"In-Reply-To: {thread_id(reference, get_settings())}",
                 body="It is the T-200, bought in March.\r\n\r\nOn Mon, 7 Dec 2026 at 14:00, Brightside support "
                      "<support@example.com> wrote:\r\n> Which model is it?\r\n\r\n-- \r\nAda\r\n")
    mailbox.deliver(reply)
    assert poll_once() == {"added": 1}
    found = ticket(reference)
    assert found.status == "open" and found.events[-2].body == "It is the T-200, bought in March."
    assert found.events[-2].actor == "customer:ada@example.com"
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, 1)
    mailbox.deliver(reply)  # the same message again (a resend, or another process's copy)
    assert poll_once() == {"duplicate": 1}
    assert [e.body for e in ticket(reference).events].count("It is the T-200, bought in March.") == 1


def test_a_reply_found_by_its_thread_alone_goes_to_its_ticket(mailbox, configure):
    configure(mail_reply_to=None)  # no plus-address to go by: the In-Reply-To header says which ticket
    reference = opened_waiting()
    mailbox.deliver(mail("From: ada@example.com", "To: support@example.com", "Subject: Re: your request",
                         f"References: <other@x> {thread_id(reference, get_settings())}", body="Still broken."))
    assert poll_once() == {"added": 1}
    assert ticket(reference).events[-2].body == "Still broken."


def test_a_message_about_no_ticket_opens_one_from_e_mail_and_is_confirmed(mailbox):
    mailbox.deliver(mail("From: Bo Chen <bo@example.com>", "To: support@example.com",
                         "Subject: Refund for order 48213", "Message-ID: <new-1@example.com>",
                         body="I returned the jacket two weeks ago and still have no refund."))
    assert poll_once() == {"opened": 1}
    with transaction() as session:
        [new] = session.scalars(select(Ticket)).all()
        assert (new.channel, new.customer_email, new.customer_name) == ("email", "bo@example.com", "Bo Chen")
        assert new.subject == "Refund for order 48213" and "still have no refund" in new.description
        assert new.category != "other" and new.classification in ("routine", "urgent", "complex")
        [confirmation] = session.scalars(select(OutboxMail)).all()
        assert (confirmation.kind, confirmation.to_address) == ("ticket_opened", "bo@example.com")


@pytest.mark.parametrize("headers", [
    ("From: Ada <ada@example.com>", "Auto-Submitted: auto-replied", "Subject: Out of office"),
    ("From: MAILER-DAEMON@mail.example.com", "Subject: Undelivered Mail Returned to Sender"),
    ("From: news@shop.example", "Precedence: bulk", "Subject: Our offers"),
    ("From: Ada <ada@example.com>", "X-Autoreply: yes", "Subject: Re: your request"),
])
def test_automatic_mail_never_opens_a_ticket_or_gets_an_answer(mailbox, headers):
    mailbox.deliver(mail(*headers, "To: support@example.com", body="I am away until Monday."))
    assert poll_once() == {"ignored": 1}
    with transaction() as session:
        assert session.scalars(select(Ticket)).all() == [] and session.scalars(select(OutboxMail)).all() == []


def test_a_forged_ticket_address_or_a_stranger_s_reply_is_held_for_an_agent(mailbox):
    reference = opened_waiting()
    mailbox.deliver(mail("From: ada@example.com", f"To: support+{reference}.aaaaaaaaaa@example.com",
                         "Subject: Re: hi", body="Close it please."))
    mailbox.deliver(mail("From: mallory@example.com",
                         f"To: support+{reference}.{reply_signature(reference)}@example.com",
                         "Subject: Re: hi", body="Send the refund to my account instead."))
    assert poll_once() == {"held": 2}
    assert [reason for _, reason in outcomes()] == [f"the address for {reference} is not one we gave out",
                                                     "sent by mallory@example.com, not by the ticket's customer"]
    found = ticket(reference)
    assert found.status == "pending" and [e.kind for e in found.events] == ["created", "status"]


def test_whatever_a_sender_wrote_is_kept_as_far_as_it_reads_and_the_poller_goes_on(mailbox):
    mailbox.deliver(mail("From: cy@example.com", "Subject: =?utf-8?q?Broken=0D=0ABcc:_all@example.com?=",
                         content_type="text/html; charset=utf-8",
                         body="<html><head><style>p{}</style><script>alert(1)</script></head>"
                              "<body><p>My <b>order</b> never came.</p><p>Order 48213</p></body></html>"))
    mailbox.deliver(mail("From: di@example.com", "Subject: strange", content_type="text/plain; charset=x-unknown-9",
                         body="caf\xe9 order missing"))
    mailbox.deliver(mail("From: ed@example.com", "Subject: broken mime", content_type="multipart/mixed",
                         body="no boundary here at all"))
    assert poll_once() == {"opened": 3}
    with transaction() as session:
        tickets = {t.customer_email: t for t in session.scalars(select(Ticket))}
        assert tickets["cy@example.com"].description == "My order never came.\n\nOrder 48213"
        assert "\n" not in tickets["cy@example.com"].subject  # an encoded line break cannot add a header
        assert "order missing" in tickets["di@example.com"].description
        reasons = [m.reason or "" for m in session.scalars(select(InboundMail).order_by(InboundMail.id))]
        assert "could not be decoded" in reasons[1]
        subjects = [m.subject for m in session.scalars(select(OutboxMail))]
        assert all("\n" not in subject and "\r" not in subject for subject in subjects)


def test_a_message_over_the_limit_is_refused_without_being_fetched_and_the_sender_told(mailbox, configure):
    configure(mail_max_inbound_bytes=65536)
    mailbox.deliver(mail("From: Fay <fay@example.com>", "Subject: photos", body="x" * 100_000))
    assert poll_once() == {"refused": 1}
    [(outcome, reason)] = outcomes()
    assert outcome == "refused" and reason.endswith("bytes; at most 65536 are taken")
    assert int(reason.split()[0]) > 100_000
    with transaction() as session:
        assert session.scalars(select(Ticket)).all() == []
        [answer] = session.scalars(select(OutboxMail)).all()
        assert (answer.kind, answer.to_address, answer.ticket_id) == ("message_refused", "fay@example.com", None)
        assert answer.subject == "Your e-mail was too large: photos"
        assert "more than the 64 KB we can take" in " ".join(answer.text_body.split())
    # About a ticket of theirs: the answer is on the ticket; automatic mail gets none.
    reference = opened_waiting()
    mailbox.deliver(mail("From: ada@example.com", f"To: support+{reference}.{reply_signature(reference)}@example.com",
                         "Subject: Re: the kettle", "Message-ID: <big-2@example.com>", body="y" * 100_000))
    mailbox.deliver(mail("From: ada@example.com", "Auto-Submitted: auto-replied", "Subject: away",
                         "Message-ID: <big-3@example.com>", body="z" * 100_000))
    assert poll_once() == {"refused": 2}
    with transaction() as session:
        answers = [(m.kind, m.ticket_id is not None, m.subject) for m in session.scalars(
            select(OutboxMail).where(OutboxMail.kind == "message_refused").order_by(OutboxMail.id))]
        assert answers[1:] == [("message_refused", True, f"[{reference}] Your e-mail was too large: Re: the kettle")]
    assert ticket(reference).status == "pending"  # nothing of it was read


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n"


def with_files(*headers: str, body: str, files: list[tuple[str, str, bytes]]) -> bytes:
    message = EmailMessage()
    for header in headers:
        name, _, value = header.partition(": ")
        message[name] = value
    message.set_content(body)
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def test_attachments_are_kept_with_the_ticket_and_the_refused_ones_named_to_the_customer(mailbox, configure):
    configure(mail_attachment_max_bytes=2048)
    reference = opened_waiting()
    mailbox.deliver(with_files(
        "From: ada@example.com", f"To: support+{reference}.{reply_signature(reference)}@example.com",
        "Subject: Re: the kettle", "Message-ID: <files-1@example.com>", body="Photos of the label attached.",
        files=[("label.png", "image/png", PNG), ("receipt.pdf", "application/pdf", PDF),
               ("notes.txt", "text/plain", b"Model T-200, serial 0042"),
               ("setup.exe", "application/x-msdownload", b"MZ\x90\x00" + b"\x00" * 60),
               ("photo.jpg", "image/jpeg", PNG),  # named a JPEG, is a PNG
               ("scan.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * 3000),
               ("../../etc/passwd.txt", "text/plain", b"root:x:0:0")]))
    assert poll_once() == {"added": 1}
    found = ticket(reference)
    with transaction() as session:
        kept = {a.filename: (a.content_type, a.size, a.data, a.event_id)
                for a in session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == found.id))}
        note = [e for e in found.events if e.kind == "note"][-1]
        assert kept == {"label.png": ("image/png", len(PNG), PNG, note.id),
                        "receipt.pdf": ("application/pdf", len(PDF), PDF, note.id),
                        "notes.txt": ("text/plain", 24, b"Model T-200, serial 0042", note.id),
                        "passwd.txt": ("text/plain", 10, b"root:x:0:0", note.id)}
        [told] = session.scalars(select(OutboxMail).where(OutboxMail.kind == "attachments_refused")).all()
        text = " ".join(told.text_body.split())
        assert told.subject == f"[{reference}] We could not keep all your attachments"
        assert "- setup.exe: we do not take application/x-msdownload files" in text
        assert "- photo.jpg: it says it is image/jpeg but its content is image/png" in text
        assert "- scan.pdf: 3 KB; we take files of up to 2 KB" in text
        assert "We take PNG, JPEG, GIF, WEBP, PDF, plain-text and CSV files of up to 2 KB each" in text
        assert "<li>setup.exe: we do not take application/x-msdownload files</li>" in told.html_body
    staff_note = [e.body for e in found.events if e.kind == "internal"]
    assert staff_note == ["Files from the customer's e-mail that were not kept:\n"
                          "- setup.exe: we do not take application/x-msdownload files\n"
                          "- photo.jpg: it says it is image/jpeg but its content is image/png\n"
                          "- scan.pdf: 3 KB; we take files of up to 2 KB"]
    assert outcomes()[-1] == ("added", "3 attached file(s) refused")


def test_a_new_ticket_by_e_mail_keeps_its_files_and_a_held_reply_keeps_none(mailbox):
    mailbox.deliver(with_files("From: bo@example.com", "To: support@example.com", "Subject: Broken lid",
                               "Message-ID: <files-2@example.com>", body="The lid snapped, photo attached.",
                               files=[("lid.png", "application/octet-stream", PNG)]))
    reference = opened_waiting()
    mailbox.deliver(with_files("From: mallory@example.com",
                               f"To: support+{reference}.{reply_signature(reference)}@example.com",
                               "Subject: Re: hi", "Message-ID: <files-3@example.com>", body="See the file.",
                               files=[("invoice.pdf", "application/pdf", PDF)]))
    assert poll_once() == {"opened": 1, "held": 1}
    with transaction() as session:
        [(filename, content_type, ticket_id)] = session.execute(
            select(TicketAttachment.filename, TicketAttachment.content_type, TicketAttachment.ticket_id)).all()
        new = session.get(Ticket, ticket_id)
        assert (filename, content_type, new.customer_email, new.channel) == ("lid.png", "image/png", "bo@example.com",
                                                                             "email")
    assert outcomes()[-1][1].endswith("its 1 attached file(s) were not kept")


def test_quoted_history_signatures_and_html_are_reduced_to_the_customer_s_words():
    assert trim_reply("Yes please.\n\n-----Original Message-----\nFrom: us\nWhich one?") == "Yes please."
    assert trim_reply("Thanks!\n> quoted line\nMore from me\n-- \nAda\n") == "Thanks!\nMore from me"
    # Nothing but history: kept whole rather than lost.
    assert trim_reply("Le lun. 7 déc. 2026, Support a écrit :\n> x") == "Le lun. 7 déc. 2026, Support a écrit :\n> x"
    assert html_to_text("<p>One&nbsp;&amp; two</p><script>evil()</script><div>three</div>") == "One & two\n\nthree"


BOUNCE = """From: MAILER-DAEMON@mail.example.com\r
To: support@example.com\r
Subject: Undelivered Mail Returned to Sender\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r
\r
--B\r
Content-Type: text/plain\r
\r
Your message could not be delivered.\r
--B\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mail.example.com\r
\r
Final-Recipient: rfc822; ada@example.com\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: smtp; 550 5.1.1 <ada@example.com>: Recipient address rejected\r
--B\r
Content-Type: text/rfc822-headers\r
\r
From: support@example.com\r
To: ada@example.com\r
Message-ID: {message_id}\r
Subject: [TCK-AAAAAA] hi\r
--B--\r
"""


def test_a_bounce_marks_our_e_mail_failed_with_the_reason_and_is_never_answered(mailbox):
    with transaction() as session:
        make_ticket(session, customer_email="ada@example.com")
        [sent] = session.scalars(select(OutboxMail)).all()
        message_id = sent.message_id
    mailbox.deliver(BOUNCE.format(message_id=message_id).encode())
    assert poll_once() == {"ignored": 1}
    with transaction() as session:
        [mail_row] = session.scalars(select(OutboxMail)).all()
        assert mail_row.status == "failed"
        assert mail_row.last_error == "bounced: smtp; 550 5.1.1 <ada@example.com>: Recipient address rejected"
        assert len(session.scalars(select(Ticket)).all()) == 1  # no ticket from the bounce, no answer to it
    assert outcomes() == [("ignored", f"a delivery report for {message_id}")]

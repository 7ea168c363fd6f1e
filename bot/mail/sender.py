"""Sending the outbox: each due e-mail is taken by one worker (a conditional UPDATE, so however many API
processes send, one sends each), sent through SMTP_URL or written as an .eml file to MAIL_OUTBOX_DIR when
there is no SMTP server, and marked sent; a failure is tried again later (30 s, 1, 2, 4 ... minutes, at
most an hour apart) until MAIL_MAX_ATTEMPTS, and a refusal (5xx) is final. A worker that dies while
sending leaves its e-mails to be taken again after LEASE; a second sending carries the same Message-ID."""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
import ssl
from base64 import b32encode
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import select, update

from bot.db import transaction, utcnow
from bot.mail.models import OutboxMail
from bot.settings import Settings, get_settings, is_loopback
from bot.tickets.models import Ticket
from bot.users.security import secret_key

logger = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
FIRST_RETRY_SECONDS = 30
LAST_RETRY_SECONDS = 3600
BATCH = 50
SMTP_TIMEOUT_SECONDS = 30
# Headers up to SMTP's line limit stay on one line: the standard library folds a long subject by
# starting it on the next line, which some mail programs show with a leading space.
HEADERS_ON_ONE_LINE = policy.SMTP.clone(max_line_length=998)


class Refused(Exception):
    """The SMTP server said no for good (a 5xx): sending again would not help."""


@dataclass
class Delivery:
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def reply_signature(reference: str) -> str:
    """Ten characters that only this installation can make for a ticket: a reply to
    support+TCK-AB12CD.<signature>@... is about that ticket (a forged address is held for an agent)."""
    digest = hmac.new(secret_key().encode(), f"reply:{reference}".encode(), hashlib.sha256).digest()
    return b32encode(digest).decode()[:10].lower()


def reply_address(reference: str, settings: Settings) -> str | None:
    if not settings.mail_reply_to:
        return None
    local, _, domain = settings.mail_reply_to.strip().rpartition("@")
    return f"{local}+{reference}.{reply_signature(reference)}@{domain}"


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 30 s, 1 min, 2 min ... at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LAST_RETRY_SECONDS))


def claim_due(*, now: datetime, limit: int = BATCH) -> list[int]:
    """Take up to `limit` due e-mails for this worker (until now + LEASE); their ids."""
    with transaction() as session:
        due = session.execute(select(OutboxMail.id, OutboxMail.status, OutboxMail.next_attempt_at)
                              .where(OutboxMail.status.in_(("pending", "sending")), OutboxMail.next_attempt_at <= now)
                              .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(limit)).all()
    taken = []
    for mail_id, status, next_attempt_at in due:
        with transaction() as session:
            changed = session.execute(
                update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == status,
                                         OutboxMail.next_attempt_at == next_attempt_at)
                .values(status="sending", next_attempt_at=now + LEASE, attempts=OutboxMail.attempts + 1)).rowcount
        if changed == 1:
            taken.append(mail_id)
    return taken


def message_of(mail: OutboxMail, reference: str | None, settings: Settings) -> EmailMessage:
    message = EmailMessage(policy=HEADERS_ON_ONE_LINE)
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    if mail.thread_id:
        message["In-Reply-To"] = mail.thread_id
        message["References"] = mail.thread_id
    if reference and (address := reply_address(reference, settings)):
        message["Reply-To"] = address
    elif settings.mail_reply_to:  # no ticket (a follow-up of a complaint): a reply opens one
        message["Reply-To"] = settings.mail_reply_to.strip()
    if mail.unsubscribe_url:  # what may be turned off (the survey), in one click (RFC 2369, RFC 8058)
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # No out-of-office or other automatic answer to this (RFC 3834): no mail loops.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text_body)
    message.add_alternative(mail.html_body, subtype="html")
    return message


class SmtpPost:
    """One connection to SMTP_URL for a batch of e-mails."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpPost:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT_SECONDS,
                                                     context=ssl.create_default_context())
        elif parts.scheme == "smtp":
            client = smtplib.SMTP(host, parts.port or 587, timeout=SMTP_TIMEOUT_SECONDS)
        else:
            raise ValueError(f"SMTP_URL must start smtp:// or smtps://, not {parts.scheme}://")
        self.client = client
        try:
            client.ehlo()
            if parts.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            elif parts.scheme == "smtp" and parts.username and not is_loopback(host):
                raise ValueError(f"{host} offers no STARTTLS: the SMTP password is not sent in clear text")
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
        except Exception:
            client.close()
            raise
        return self

    def send(self, message: EmailMessage) -> None:
        assert self.client is not None
        try:
            refused = self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise Refused("; ".join(f"{code} {text.decode(errors='replace')}"
                                    for code, text in error.recipients.values())) from None
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600:
                raise Refused(f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}") from None
            raise
        if refused:
            raise Refused("; ".join(f"{code} {text.decode(errors='replace')}" for code, text in refused.values()))

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (smtplib.SMTPException, OSError):
                self.client.close()


class FilePost:
    """No SMTP server (make run): each e-mail becomes an .eml file to read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> FilePost:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def send(self, message: EmailMessage) -> None:
        name = message["Message-ID"].strip("<>").replace("/", "_").replace("@", "_at_")
        path = self.folder / f"{name}.eml"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(bytes(message))
        temporary.replace(path)  # a reader never sees half an e-mail; a second sending overwrites the first

    def __exit__(self, *exc: object) -> None:
        return None


def post_office(settings: Settings) -> SmtpPost | FilePost:
    if settings.smtp_url is not None:
        return SmtpPost(settings.smtp_url.get_secret_value())
    return FilePost(settings.mail_outbox_dir)


def _settle(mail_id: int, *, now: datetime, error: str | None, final: bool, settings: Settings) -> str:
    with transaction() as session:
        mail = session.get(OutboxMail, mail_id)
        if error is None:
            mail.status, mail.sent_at, mail.last_error = "sent", now, None
        elif final or mail.attempts >= settings.mail_max_attempts:
            mail.status, mail.last_error = "failed", error[:500]
        else:
            mail.status, mail.last_error = "pending", error[:500]
            mail.next_attempt_at = now + retry_delay(mail.attempts)
        return mail.status


def send_due(*, settings: Settings | None = None, now: datetime | None = None) -> Delivery:
    """Send what is due now; what happened to each."""
    settings = settings or get_settings()
    now = now or utcnow()
    delivery = Delivery()
    taken = claim_due(now=now)
    if not taken:
        return delivery
    with transaction() as session:
        rows = session.execute(select(OutboxMail, Ticket.reference).outerjoin(Ticket, Ticket.id == OutboxMail.ticket_id)
                               .where(OutboxMail.id.in_(taken)).order_by(OutboxMail.id)).all()
        messages, unwritable = [], []
        for mail, reference in rows:
            try:
                messages.append((mail.id, message_of(mail, reference, settings)))
            except (ValueError, TypeError) as error:  # e.g. a line break in a header: never sendable
                unwritable.append((mail.id, f"cannot be written: {error}"))
    for mail_id, error in unwritable:
        _settle(mail_id, now=now, error=error, final=True, settings=settings)
        delivery.failed.append(mail_id)
    try:
        with post_office(settings) as post:
            for mail_id, message in messages:
                try:
                    post.send(message)
                    outcome = _settle(mail_id, now=now, error=None, final=False, settings=settings)
                except Refused as refused:
                    outcome = _settle(mail_id, now=now, error=f"refused: {refused}", final=True, settings=settings)
                except (smtplib.SMTPException, OSError) as error:
                    outcome = _settle(mail_id, now=now, error=f"{type(error).__name__}: {error}", final=False,
                                      settings=settings)
                (delivery.sent if outcome == "sent" else delivery.failed if outcome == "failed"
                 else delivery.retrying).append(mail_id)
    except (smtplib.SMTPException, OSError, ValueError) as error:  # no connection at all: every one waits
        logger.warning("cannot send e-mail now (%s: %s); %d wait for the next try", type(error).__name__, error,
                       len(messages) - len(delivery.sent) - len(delivery.failed) - len(delivery.retrying))
        for mail_id, _ in messages:
            if mail_id not in delivery.sent + delivery.failed + delivery.retrying:
                outcome = _settle(mail_id, now=now, error=f"{type(error).__name__}: {error}", final=False,
                                  settings=settings)
                (delivery.failed if outcome == "failed" else delivery.retrying).append(mail_id)
    if delivery.sent or delivery.failed:
        logger.info("e-mail: %d sent, %d failed for good, %d to try again", len(delivery.sent), len(delivery.failed),
                    len(delivery.retrying))
    return delivery

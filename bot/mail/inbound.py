"""Customers' e-mails to the support mailbox, read by IMAP (IMAP_URL) and made into ticket comments or new
tickets. Each message is taken once (by its Message-ID, in the transaction of what it changes) and then
moved out of the inbox, so however many API processes poll, and whenever one dies, nothing is added twice
or lost. Automatic messages (out of office, bounces, lists) never open tickets and are never answered (no
mail loops); a reply to a forged ticket address, or from someone who is not the ticket's customer, is held
for an agent. Quoted history and signatures are trimmed, HTML is read as text, and a message that cannot
be read whole is kept as far as it can be."""

from __future__ import annotations

import hashlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.actors import SYSTEM, customer_actor
from bot.db import transaction, utcnow
from bot.mail.models import InboundMail, OutboxMail
from bot.mail.sender import reply_signature
from bot.mail.service import tell_address, tell_customer
from bot.settings import Settings, get_settings, is_loopback
from bot.textscan import is_valid_email
from bot.tickets.attachments import Offered, keep, size_text
from bot.tickets.classification import guess_category
from bot.tickets.models import Ticket, TicketEvent
from bot.tickets.schemas import MAX_DESCRIPTION, TicketCreate
from bot.tickets.service import add_comment, add_customer_info, create_ticket, get_ticket
from bot.tickets.textcat import read_request

logger = logging.getLogger(__name__)
IMAP_TIMEOUT_SECONDS = 30
_PLUS = re.compile(r"^(?P<local>[^+@]+)\+(?P<reference>TCK-[A-Z2-7]{6})\.(?P<signature>[a-z2-7]{10})@(?P<domain>.+)$",
                   re.IGNORECASE)
# Where a reply's own words end and the quoted history begins.
_QUOTE_HEADERS = [re.compile(pattern, re.IGNORECASE) for pattern in (
    r"^\s*on\b.{0,200}\bwrote:\s*$", r"^\s*le\b.{0,200}\ba écrit\s*:\s*$", r"^\s*am\b.{0,200}\bschrieb\b.*:\s*$",
    r"^\s*-{2,}\s*original message\s*-{2,}\s*$", r"^\s*_{10,}\s*$", r"^\s*from:\s.+$", r"^\s*sent from my \w+",
)]
_AUTOMATIC_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+@.-]|$)", re.I)


@dataclass
class Incoming:
    message_id: str
    from_name: str
    from_address: str
    recipients: list[str]
    subject: str
    answers: list[str]
    text: str
    automatic: str | None = None
    # A delivery report: the Message-ID of our e-mail that could not be delivered, and why.
    bounced: tuple[str, str] | None = None
    problems: list[str] = field(default_factory=list)
    attachments: list[Offered] = field(default_factory=list)


class _Text(HTMLParser):
    """HTML read as text: the words, line breaks where blocks end, nothing of scripts or styles."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_reply(text: str) -> str:
    """The customer's own words: up to the quoted history ("On ... wrote:", "-----Original Message-----",
    lines quoted with ">") and the signature ("-- ")."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.rstrip() == "--" or any(pattern.match(line) for pattern in _QUOTE_HEADERS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()


def _decoded(part: EmailMessage, problems: list[str]) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError) as error:
        problems.append(f"{part.get_content_type()} could not be decoded ({type(error).__name__}); read as UTF-8")
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)


def _body(message: EmailMessage, problems: list[str]) -> str:
    try:
        plain = message.get_body(("plain",))
        html = None if plain is not None else message.get_body(("html",))
    except Exception as error:  # noqa: BLE001 - malformed MIME: take what reads
        problems.append(f"the MIME structure is malformed ({type(error).__name__})")
        plain, html = None, None
    if plain is not None:
        return _decoded(plain, problems)
    if html is not None:
        return html_to_text(_decoded(html, problems))
    if not message.is_multipart():
        return _decoded(message, problems)
    return ""


def _attachments(message: EmailMessage, problems: list[str]) -> list[Offered]:
    """The files attached to the message (not the body, nor the pictures inside an HTML body)."""
    files: list[Offered] = []
    try:
        for part in message.iter_attachments():
            if part.get_content_maintype() in ("multipart", "message"):  # a forwarded e-mail: as it came
                data = part.as_bytes()
            else:
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
            files.append(Offered(filename=part.get_filename() or "", content_type=part.get_content_type(),
                                 data=data))
    except Exception as error:  # noqa: BLE001 - malformed MIME: keep what read
        problems.append(f"the attachments could not all be read ({type(error).__name__})")
    return files


def _automatic(message: EmailMessage, sender: str) -> str | None:
    """Why this is an automatic message we must not answer (RFC 3834 and common practice), or None."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    if str(message.get("Precedence", "")).strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {message.get('Precedence')}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"):
        if message.get(header) is not None:
            return f"{header} present"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    if not sender or _AUTOMATIC_SENDERS.match(sender.partition("@")[0] + "@"):
        return f"from {sender or 'nobody'}"
    return None


def _bounce(message: EmailMessage) -> tuple[str, str] | None:
    """For a delivery report (RFC 3464): the Message-ID of the message it returns, and the reason."""
    if message.get_content_type() != "multipart/report":
        return None
    returned, reason = None, "returned as undeliverable"
    try:
        for part in message.walk():
            kind = part.get_content_type()
            if kind == "message/delivery-status":
                for fields in part.get_payload():
                    if fields.get("Action", "").strip().lower() == "failed" or fields.get("Diagnostic-Code"):
                        reason = " ".join(str(fields.get("Diagnostic-Code") or fields.get("Status") or reason).split())
            elif kind in ("text/rfc822-headers", "message/rfc822") and returned is None:
                content = part.get_content()
                headers = content if isinstance(content, EmailMessage) else message_from_bytes(
                    str(content).encode(errors="replace"), policy=policy.default)
                returned = " ".join(str(headers.get("Message-ID", "")).split()) or None
    except Exception:  # noqa: BLE001 - a malformed report: it is still ignored, just not matched
        return None
    return (returned, reason[:300]) if returned else None


def read_message(raw: bytes) -> Incoming:
    """An e-mail as far as it reads; never an exception for what a sender wrote."""
    problems: list[str] = []
    message = message_from_bytes(raw, policy=policy.default)

    def header(name: str) -> str:
        try:
            return " ".join(str(message.get(name, "")).split())
        except Exception:  # noqa: BLE001 - a header that will not decode
            problems.append(f"the {name} header could not be read")
            return ""

    name, address = parseaddr(header("From"))
    address = address.strip().lower()
    recipients = [a.strip().lower() for _, a in getaddresses(
        [header(h) for h in ("To", "Cc", "Delivered-To", "X-Original-To")]) if a]
    answers = re.findall(r"<[^<>\s]+>", f"{header('In-Reply-To')} {header('References')}")
    message_id = header("Message-ID") or f"<sha256.{hashlib.sha256(raw).hexdigest()}@inbound>"
    text = trim_reply(_body(message, problems))
    return Incoming(message_id=message_id[:250], from_name=name.strip()[:200], from_address=address[:254],
                    recipients=recipients, subject=header("Subject")[:300] or "(no subject)", answers=answers,
                    text=text[:MAX_DESCRIPTION], automatic=_automatic(message, address), bounced=_bounce(message),
                    problems=problems, attachments=_attachments(message, problems))


def _addressed_ticket(session: Session, incoming: Incoming, settings: Settings) -> tuple[Ticket | None, str | None]:
    """The ticket this replies to, and why it must be held, if it must."""
    mailbox = (settings.mail_reply_to or "").strip().lower()
    local, _, domain = mailbox.partition("@")
    for recipient in incoming.recipients:
        plus = _PLUS.match(recipient)
        if plus and plus["local"].lower() == local and plus["domain"].lower() == domain:
            reference = plus["reference"].upper()
            ticket = get_ticket(session=session, reference=reference)
            if ticket is None or plus["signature"].lower() != reply_signature(reference):
                return ticket, f"the address for {reference} is not one we gave out"
            return ticket, None
    if incoming.answers:
        ids = incoming.answers
        ticket_id = session.scalar(select(OutboxMail.ticket_id).where(
            or_(OutboxMail.message_id.in_(ids), OutboxMail.thread_id.in_(ids)), OutboxMail.ticket_id.is_not(None))
            .limit(1))
        if ticket_id is not None:
            return session.get(Ticket, ticket_id), None
    return None, None


def take(session: Session, incoming: Incoming, *, settings: Settings | None = None,
         now: datetime | None = None) -> InboundMail:
    """Do what the e-mail asks (in the caller's transaction) and record it."""
    settings = settings or get_settings()
    now = now or utcnow()
    record = InboundMail(message_id=incoming.message_id, received_at=now, from_address=incoming.from_address,
                         subject=incoming.subject, text=incoming.text)
    if incoming.bounced:
        # Our e-mail did not arrive: it shows as failed, with the reason, on its ticket and in the counts.
        returned, why = incoming.bounced
        bounced = session.scalar(select(OutboxMail).where(OutboxMail.message_id == returned))
        if bounced is not None:
            bounced.status, bounced.last_error = "failed", f"bounced: {why}"[:500]
            record.ticket_id = bounced.ticket_id
        record.outcome = "ignored"
        record.reason = (f"a delivery report for {returned}" + ("" if bounced else ", which is not one of ours"))[:300]
    elif incoming.automatic:
        record.outcome, record.reason = "ignored", incoming.automatic[:300]
    elif not is_valid_email(incoming.from_address):
        record.outcome, record.reason = "ignored", "no sender address to answer"
    else:
        ticket, suspicious = _addressed_ticket(session, incoming, settings)
        if ticket is not None and suspicious is None and (ticket.customer_email or "") != incoming.from_address:
            suspicious = f"sent by {incoming.from_address}, not by the ticket's customer"
        if suspicious:
            if incoming.attachments:
                suspicious += f"; its {len(incoming.attachments)} attached file(s) were not kept"
            record.outcome, record.reason, record.ticket_id = "held", suspicious[:300], ticket.id if ticket else None
        elif ticket is not None:
            event = add_customer_info(session=session, ticket=ticket, text=incoming.text or incoming.subject,
                                      actor=customer_actor(incoming.from_address), now=now)
            record.outcome, record.ticket_id = "added", ticket.id
            _keep_files(session, ticket, event, incoming, record, settings, now)
        else:
            text = incoming.text or incoming.subject
            categories = settings.ticket_categories
            keys = [category.key for category in categories]
            category = (guess_category(f"{incoming.subject}\n{text}", categories,
                                       read_request(f"{incoming.subject}\n{text}", keys))
                        or ("other" if "other" in keys else keys[-1]))
            ticket = create_ticket(session=session, settings=settings, now=now, actor=SYSTEM, data=TicketCreate(
                description=text, category=category, customer_email=incoming.from_address,
                customer_name=incoming.from_name or None, subject=incoming.subject[:200], channel="email"))
            record.outcome, record.ticket_id = "opened", ticket.id
            created = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                               TicketEvent.kind == "created"))
            _keep_files(session, ticket, created, incoming, record, settings, now)
    if incoming.problems:
        record.reason = "; ".join([*([record.reason] if record.reason else []), *incoming.problems])[:300]
    session.add(record)
    session.flush()
    return record


def limits(settings: Settings) -> dict[str, str]:
    """The limits an e-mail that refuses something states: what files we take, and how large."""
    names = {"image/jpeg": "JPEG", "text/plain": "plain-text", "application/pdf": "PDF"}
    kinds = [names.get(kind, kind.rpartition("/")[2].upper()) for kind in settings.mail_attachment_types]
    return {"accepted_types": (", ".join(kinds[:-1]) + f" and {kinds[-1]}") if len(kinds) > 1 else kinds[0],
            "max_size": size_text(settings.mail_attachment_max_bytes),
            "max_message_size": size_text(settings.mail_max_inbound_bytes)}


def _keep_files(session: Session, ticket: Ticket, event: TicketEvent | None, incoming: Incoming,
                record: InboundMail, settings: Settings, now: datetime) -> None:
    """The message's files the settings accept are kept with the ticket; for the others, staff get a private
    note and the customer an e-mail that names each with the reason."""
    if not incoming.attachments:
        return
    _, refused = keep(session=session, ticket=ticket, event=event, files=incoming.attachments, settings=settings,
                      now=now)
    if not refused:
        return
    lines = [str(one) for one in refused]
    note = "Files from the customer's e-mail that were not kept:\n" + "\n".join(f"- {line}" for line in lines)
    add_comment(session=session, ticket=ticket, public=False, actor=SYSTEM, now=now, text=note)
    tell_customer(session=session, ticket=ticket, kind="attachments_refused", actor=SYSTEM, settings=settings,
                  now=now, extra={"refused": lines, **limits(settings)})
    record.reason = "; ".join([*([record.reason] if record.reason else []),
                               f"{len(refused)} attached file(s) refused"])[:300]


def take_raw(raw: bytes, *, settings: Settings | None = None, now: datetime | None = None) -> str:
    """One message from the mailbox, in its own transaction; its outcome ("duplicate" when it was taken
    before, by this process or another)."""
    incoming = read_message(raw)
    return _once(incoming, lambda session: take(session, incoming, settings=settings, now=now).outcome)


def _once(incoming: Incoming, record: Callable[[Session], str]) -> str:
    """`record` the message in its own transaction, unless it was taken before ("duplicate")."""
    try:
        with transaction() as session:
            if session.scalar(select(InboundMail.id).where(InboundMail.message_id == incoming.message_id)):
                return "duplicate"
            return record(session)
    except IntegrityError:  # another process took it a moment ago
        return "duplicate"


class Mailbox:
    """The support mailbox at IMAP_URL: imap://user:pass@host:143 (STARTTLS when offered, and required
    before a password goes to any host but this machine) or imaps://user:pass@host:993."""

    def __init__(self, url: str, folder: str, done_folder: str) -> None:
        self.url, self.folder, self.done_folder = url, folder, done_folder

    def __enter__(self) -> Mailbox:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        if parts.scheme == "imaps":
            self.client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, parts.port or 993, ssl_context=ssl.create_default_context(), timeout=IMAP_TIMEOUT_SECONDS)
        elif parts.scheme == "imap":
            self.client = imaplib.IMAP4(host, parts.port or 143, timeout=IMAP_TIMEOUT_SECONDS)
            if "STARTTLS" in self.client.capabilities:
                self.client.starttls(ssl_context=ssl.create_default_context())
            elif not is_loopback(host):
                self.client.shutdown()
                raise ValueError(f"{host} offers no STARTTLS: the mailbox password is not sent in clear text")
        else:
            raise ValueError(f"IMAP_URL must start imap:// or imaps://, not {parts.scheme}://")
        try:
            self.client.login(unquote(parts.username or ""), unquote(parts.password or ""))
            self.client.create(self.done_folder)  # "already exists" is fine
            status, _ = self.client.select(self.folder)
            if status != "OK":
                raise ValueError(f"the mailbox has no folder {self.folder!r}")
        except Exception:
            self.client.shutdown()
            raise
        return self

    def waiting(self) -> list[tuple[bytes, int]]:
        """Each message in the folder: its UID and size."""
        status, data = self.client.uid("SEARCH", None, "ALL")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        sizes = []
        for uid in uids:
            status, fetched = self.client.uid("FETCH", uid, "(RFC822.SIZE)")
            found = re.search(rb"RFC822\.SIZE (\d+)", fetched[0] if fetched and fetched[0] else b"")
            sizes.append((uid, int(found.group(1)) if found else 0))
        return sizes

    def _section(self, uid: bytes, section: str) -> bytes | None:
        """BODY[section] of a message, without marking it seen; None if the server sent none."""
        _, data = self.client.uid("FETCH", uid, f"(BODY.PEEK[{section}])")
        return next((item[1] for item in data or [] if isinstance(item, tuple)), None)

    def fetch(self, uid: bytes) -> bytes:
        whole = self._section(uid, "")
        if whole is None:
            raise ValueError(f"message {uid!r} could not be fetched")
        return whole

    def headers(self, uid: bytes) -> bytes:
        return self._section(uid, "HEADER") or b""

    def done(self, uid: bytes) -> None:
        """Out of the inbox, into the done folder (kept there for people to see)."""
        if "MOVE" in self.client.capabilities:
            self.client.uid("MOVE", uid, self.done_folder)
            return
        self.client.uid("COPY", uid, self.done_folder)
        self.client.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
        self.client.expunge()

    def __exit__(self, *exc: object) -> None:
        try:
            self.client.logout()
        except (imaplib.IMAP4.error, OSError):
            self.client.shutdown()


def poll_once(*, settings: Settings | None = None) -> dict[str, int]:
    """Take every message waiting in the mailbox; how many had each outcome."""
    settings = settings or get_settings()
    if settings.imap_url is None:
        return {}
    counts: dict[str, int] = {}
    with Mailbox(settings.imap_url.get_secret_value(), settings.imap_folder, settings.imap_done_folder) as box:
        for uid, size in box.waiting():
            try:
                if size > settings.mail_max_inbound_bytes:
                    outcome = _refuse_large(box.headers(uid), size, settings)
                else:
                    outcome = take_raw(box.fetch(uid), settings=settings)
            except (imaplib.IMAP4.error, OSError):
                raise  # the mailbox went away: the next round starts again
            except Exception:  # this message only (the database, or a bug): it stays, the others go on
                logger.exception("could not take message %s from the support mailbox; it stays there", uid)
                counts["left"] = counts.get("left", 0) + 1
                continue
            box.done(uid)
            counts[outcome] = counts.get(outcome, 0) + 1
    if counts:
        logger.info("support mailbox: %s", ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    return counts


def _refuse_large(headers: bytes, size: int, settings: Settings) -> str:
    """A message over MAIL_MAX_INBOUND_BYTES is not fetched: recorded from its headers, as refused."""
    incoming = read_message(headers + b"\r\n")

    def refuse(session: Session) -> str:
        record = InboundMail(message_id=incoming.message_id, from_address=incoming.from_address,
                             subject=incoming.subject, outcome="refused", text="",
                             reason=f"{size} bytes; at most {settings.mail_max_inbound_bytes} are taken")
        session.add(record)
        if incoming.automatic or not is_valid_email(incoming.from_address):
            return "refused"  # never answered (no mail loops)
        # The sender is told, on their ticket when it is theirs; a forged ticket address is not answered.
        ticket, suspicious = _addressed_ticket(session, incoming, settings)
        if ticket is not None and suspicious is None and (ticket.customer_email or "") != incoming.from_address:
            suspicious = "not the ticket's customer"
        extra = {"original_subject": incoming.subject, "size": size_text(size), **limits(settings)}
        if ticket is not None and suspicious is None:
            record.ticket_id = ticket.id
            tell_customer(session=session, ticket=ticket, kind="message_refused", actor=SYSTEM, extra=extra,
                          settings=settings)
        elif suspicious is None:
            tell_address(session=session, kind="message_refused", to_address=incoming.from_address,
                         name=incoming.from_name or None, actor=SYSTEM, extra=extra, settings=settings)
        return "refused"

    return _once(incoming, refuse)

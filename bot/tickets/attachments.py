"""Files customers send with their words (an e-mail's attachments): each checked against the settings' size
and types, by its content and not only its name, and kept with the ticket; the refused ones are named with
the reason, for the customer and for staff."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import puremagic
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import utcnow
from bot.settings import Settings
from bot.tickets.models import Ticket, TicketAttachment, TicketEvent

MAX_FILES = 10  # in one message; the rest are refused
FILENAME_CHARS = 200
# What mail programs also call the accepted types.
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png",
           "application/csv": "text/csv", "text/x-csv": "text/csv", "text/comma-separated-values": "text/csv"}
# Declared when the sender's program did not know: the content decides.
UNKNOWN_TYPES = ("application/octet-stream", "binary/octet-stream", "application/unknown")


@dataclass(frozen=True)
class Offered:
    """A file as it came: its name, the type it claims, its bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Refused:
    filename: str
    reason: str

    def __str__(self) -> str:
        return f"{self.filename}: {self.reason}"


def size_text(size: int) -> str:
    """1.5 MB, 2.9 KB, 12 bytes (never rounded down to a limit it is over)."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit:
            return f"{math.ceil(size * 10 / unit) / 10:.1f}".removesuffix(".0") + f" {name}"
    return f"{size} bytes"


def clean_filename(name: str | None, number: int) -> str:
    """The name without any folder, control character or line break; "attachment-<n>" when there is none."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:FILENAME_CHARS] or f"attachment-{number}"


def _sniffed(data: bytes) -> str | None:
    """The type the content shows itself to be (its magic numbers), when it can tell."""
    try:
        return puremagic.from_string(data, mime=True) or None
    except (puremagic.PureError, ValueError):
        return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Latin-1 and the like: text if nearly all of it is printable.
        printable = sum(byte >= 32 or byte in (9, 10, 13) for byte in data)
        return printable >= 0.95 * len(data)
    return True


def accepted_type(offered: Offered, settings: Settings) -> tuple[str | None, str | None]:
    """(the type to keep it as, None) or (None, why it is refused)."""
    if len(offered.data) > settings.mail_attachment_max_bytes:
        return None, (f"{size_text(len(offered.data))}; we take files of up to "
                      f"{size_text(settings.mail_attachment_max_bytes)}")
    allowed = {kind.lower() for kind in settings.mail_attachment_types}
    declared = offered.content_type.lower()
    declared = ALIASES.get(declared, declared)
    sniffed = _sniffed(offered.data)
    sniffed = ALIASES.get(sniffed, sniffed) if sniffed else None
    if declared in UNKNOWN_TYPES:
        declared = sniffed or ("text/plain" if offered.data and _is_text(offered.data) else declared)
    if declared not in allowed:
        return None, f"we do not take {declared} files"
    if declared.startswith("text/"):
        if not _is_text(offered.data) or (sniffed and not sniffed.startswith("text/")):
            return None, f"it says it is {declared} but is not text"
    elif sniffed != declared:
        return None, f"it says it is {declared} but its content is {sniffed or 'something else'}"
    return declared, None


def keep(*, session: Session, ticket: Ticket, event: TicketEvent | None, files: list[Offered], settings: Settings,
         now: datetime | None = None) -> tuple[list[TicketAttachment], list[Refused]]:
    """Keep the files the settings accept, with the ticket (and the customer's words they came with);
    name the others with the reason."""
    now = now or utcnow()
    kept: list[TicketAttachment] = []
    refused: list[Refused] = []
    for number, offered in enumerate(files, start=1):
        name = clean_filename(offered.filename, number)
        if number > MAX_FILES:
            refused.append(Refused(name, f"we take at most {MAX_FILES} files in one e-mail"))
            continue
        content_type, why = accepted_type(offered, settings)
        if why is not None:
            refused.append(Refused(name, why))
            continue
        attachment = TicketAttachment(ticket_id=ticket.id, event_id=event.id if event is not None else None,
                                      filename=name, content_type=content_type, size=len(offered.data),
                                      sha256=hashlib.sha256(offered.data).hexdigest(), data=offered.data,
                                      created_at=now)
        session.add(attachment)
        kept.append(attachment)
    session.flush()
    return kept, refused


def attachments_of(*, session: Session, ticket_id: int) -> list[TicketAttachment]:
    """A ticket's files, oldest first, without their bytes."""
    return list(session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket_id)
                                .order_by(TicketAttachment.id)))

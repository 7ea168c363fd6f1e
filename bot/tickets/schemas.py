"""Shapes of ticket input, checked before anything is written."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, field_validator

from bot.conversations.schemas import MessageOut
from bot.inputs import RowId
from bot.mail.models import KINDS
from bot.textscan import EMAIL_MAX_CHARS, EMAIL_PATTERN, NOT_BLANK, TICKET_CATEGORY, clean_email

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "resolved", "closed"]

# Long enough for a detailed account (a 5,000-character message is kept whole).
MAX_DESCRIPTION = 10_000


class TicketCreate(BaseModel):
    description: str = Field(min_length=1, json_schema_extra={"pattern": NOT_BLANK})
    category: str = Field(json_schema_extra={TICKET_CATEGORY: True})
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = Field(default=None, max_length=EMAIL_MAX_CHARS,
                                       json_schema_extra={"pattern": EMAIL_PATTERN})
    subject: str | None = Field(default=None, max_length=200)
    # Set when the customer or the situation asks for it (e.g. service recovery).
    priority: Priority | None = None
    conversation_id: str | None = None
    channel: str = "chat"
    # The key of the customer's line that asked for it (tickets.models.Ticket.source_line).
    source_line: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("description")
    @classmethod
    def _description_fits(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the description is empty")
        if len(value) > MAX_DESCRIPTION:
            raise ValueError(f"the description is longer than {MAX_DESCRIPTION} characters")
        return value

    @field_validator("customer_email")
    @classmethod
    def _email_is_valid(cls, value: str | None) -> str | None:
        return None if value is None else clean_email(value)


class TicketOut(BaseModel):
    reference: str
    subject: str
    description: str
    category: str
    priority: Priority
    classification: Literal["routine", "urgent", "complex"]
    classification_reason: str
    status: Status
    customer_name: str | None
    customer_email: str | None
    assignee_id: int | None
    assignee_name: str | None = None
    conversation_id: str | None
    channel: str
    created_at: datetime
    updated_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    first_response_overdue: bool = Field(
        default=False, description="not resolved or closed, no public reply yet, and the first-response due "
        "time has passed")
    resolution_overdue: bool = Field(
        default=False, description="not resolved or closed and the resolution due time has passed")

    model_config = {"from_attributes": True}


class TicketEventOut(BaseModel):
    id: int
    kind: Literal["created", "status", "priority", "assignee", "note", "reply", "internal"] = Field(
        description="note: information the customer added; reply: an agent's public answer; "
                    "internal: a private note for staff")
    actor: str = Field(description="who: bot, system, customer, customer:<e-mail>, or a staff member as "
                       "<role>:<user id> (agent:<user id> when set while resolving a live chat)")
    actor_name: str | None = None
    from_value: str | None
    to_value: str | None
    body: str | None
    created_at: datetime

    model_config = {"from_attributes": True}


class MailOut(BaseModel):
    """An e-mail to the customer about the ticket, and whether it went."""

    kind: Literal[KINDS]
    to_address: str
    subject: str
    status: Literal["pending", "sending", "sent", "failed"] = Field(
        description="pending: waiting to be sent (again); sent; failed: given up (last_error says why)")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    model_config = {"from_attributes": True}


class AttachmentOut(BaseModel):
    """A file the customer sent (GET /api/v1/tickets/{reference}/attachments/{id} downloads it)."""

    id: int
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    event_id: int | None = Field(description="the customer's words it came with")
    created_at: datetime

    model_config = {"from_attributes": True}


class TicketDetail(BaseModel):
    ticket: TicketOut
    events: list[TicketEventOut]
    transcript: list[MessageOut] = Field(
        default=[], description="the chat the ticket came from (customer, bot, agent and system lines), if any")
    mails: list[MailOut] = Field(default=[], description="e-mails to the customer about this ticket, oldest first")
    attachments: list[AttachmentOut] = Field(default=[], description="files the customer sent, oldest first")


class TicketPage(BaseModel):
    total: int = Field(description="tickets matching the filters, before paging")
    limit: int
    offset: int
    items: list[TicketOut]


class TicketPatch(BaseModel):
    """Only the fields sent change; `"assignee_id": null` unassigns."""

    status: Status | None = None
    priority: Priority | None = None
    assignee_id: RowId | None = None

    model_config = {"extra": "forbid"}


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": NOT_BLANK})
    public: StrictBool = Field(
        default=False,
        description="true: a reply the customer sees when they check the ticket (the first one sets "
                    "first_responded_at); false (default): a private note for staff")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the comment is empty")
        return value.strip()

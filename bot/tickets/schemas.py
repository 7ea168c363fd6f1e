"""Shapes of ticket input, checked before anything is written."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from bot.textscan import clean_email

Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "resolved", "closed"]

# Long enough for a detailed account (a 5,000-character message is kept whole).
MAX_DESCRIPTION = 10_000


class TicketCreate(BaseModel):
    description: str = Field(min_length=1)
    category: str
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = None
    subject: str | None = Field(default=None, max_length=200)
    # Set when the customer or the situation asks for it (e.g. service recovery).
    priority: Priority | None = None
    conversation_id: str | None = None
    channel: str = "chat"

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

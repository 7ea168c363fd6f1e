"""Shape of feedback input."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from bot.textscan import clean_email

FeedbackCategory = Literal["service_quality", "product", "process", "suggestion", "complaint"]
MAX_FEEDBACK = 4000


class FeedbackCreate(BaseModel):
    category: FeedbackCategory
    text: str = Field(min_length=1)
    anonymous: bool = False
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = None
    conversation_id: str | None = None
    channel: str = "chat"
    source_line: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("text")
    @classmethod
    def _text_fits(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the feedback is empty")
        if len(value) > MAX_FEEDBACK:
            raise ValueError(f"the feedback is longer than {MAX_FEEDBACK} characters")
        return value

    @field_validator("customer_email")
    @classmethod
    def _email_is_valid(cls, value: str | None) -> str | None:
        return None if value is None else clean_email(value)

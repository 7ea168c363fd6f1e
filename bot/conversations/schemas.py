"""Shape of chat input and output."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator

from bot.conversations.models import PAYLOAD_MAX_CHARS
from bot.textscan import EMAIL_MAX_CHARS, EMAIL_OR_BLANK_PATTERN, NOT_BLANK, NOT_BLANK_OR_SLASHES, clean_email


class SessionCreate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=EMAIL_MAX_CHARS,
                              json_schema_extra={"pattern": EMAIL_OR_BLANK_PATTERN})
    locale: str | None = Field(default=None, max_length=16)
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Ask the bot to greet at once; its greeting comes back with the new session.
    greet: StrictBool = False

    @field_validator("email")
    @classmethod
    def _email_is_valid(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else clean_email(value)

    @field_validator("metadata")
    @classmethod
    def _metadata_is_small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > 4000:
            raise ValueError("metadata is larger than 4,000 characters of JSON")
        return value


class CustomerMessageIn(BaseModel):
    """Exactly one of `text` (typed) or `payload` (a button the bot offered in its latest reply; any
    other payload is refused with 422)."""

    # Neither may be null; exactly one is sent.
    text: str = Field(default=None, json_schema_extra={"pattern": NOT_BLANK_OR_SLASHES})  # type: ignore[assignment]
    payload: str = Field(default=None, max_length=PAYLOAD_MAX_CHARS, json_schema_extra={"pattern": NOT_BLANK})  # type: ignore[assignment]

    model_config = {"json_schema_extra": {"oneOf": [{"required": ["text"]}, {"required": ["payload"]}]}}

    @model_validator(mode="after")
    def _one_of_text_or_payload(self) -> CustomerMessageIn:
        if (self.text is None) == (self.payload is None):
            raise ValueError("send either text or payload, not both and not neither")
        if self.text is not None and all(char == "/" or char.isspace() for char in self.text):
            raise ValueError("the message is empty")
        if self.payload is not None and not self.payload.strip():
            raise ValueError("the payload is empty")
        return self


class Button(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    id: int
    sender: Literal["customer", "bot", "agent", "system"]
    text: str
    buttons: list[Button] = []
    created_at: datetime
    agent_name: str | None = None


class ChatReply(BaseModel):
    messages: list[MessageOut]
    state: Literal["bot", "queued", "agent", "closed"]


class SessionOut(BaseModel):
    session_id: str
    token: str
    messages: list[MessageOut] = Field(default=[], description="the bot's greeting, when asked for with greet")
    state: Literal["bot", "queued", "agent", "closed"] = "bot"

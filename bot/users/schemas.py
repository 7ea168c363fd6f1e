"""Shape of user input."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from bot.textscan import EMAIL_MAX_CHARS, EMAIL_PATTERN, NOT_BLANK, clean_email

Role = Literal["agent", "manager", "admin"]
MIN_PASSWORD = 10
MAX_PASSWORD = 256


def check_password(value: str) -> str:
    """A password we accept (its length), or ValueError saying why not."""
    if len(value) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(value) > MAX_PASSWORD:
        raise ValueError(f"the password is longer than {MAX_PASSWORD} characters")
    return value


class UserCreate(BaseModel):
    email: str = Field(max_length=EMAIL_MAX_CHARS, json_schema_extra={"pattern": EMAIL_PATTERN})
    name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    role: Role
    # The bounds are checked by check_password (in its own words) and stated for the OpenAPI document.
    password: str = Field(repr=False, json_schema_extra={"minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD})

    @field_validator("email")
    @classmethod
    def _email_is_valid(cls, value: str) -> str:
        return clean_email(value)

    @field_validator("name")
    @classmethod
    def _name_is_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("the name is empty")
        return value

    @field_validator("password")
    @classmethod
    def _password_is_long_enough(cls, value: str) -> str:
        return check_password(value)


class UserOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    email: str
    name: str
    role: Role
    active: bool
    presence: Literal["online", "away", "offline"]

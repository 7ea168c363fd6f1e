"""Staff accounts for admins: invite, disable and enable, change a role, hand out a password-reset
link. Every change but an invitation ends the account's sessions (bot/users/service.py)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator
from sqlalchemy.orm import Session

from api.deps import Admin, PathId, SessionDep, client_address
from api.live.frames import sessions_ended
from bot.audit.service import record
from bot.textscan import EMAIL_MAX_CHARS, EMAIL_PATTERN, NOT_BLANK, clean_email
from bot.users.models import User
from bot.users.schemas import Role, UserOut
from bot.users.service import disable_user, enable_user, invite_user, reset_link, set_role

router = APIRouter(prefix="/api/v1/users", tags=["users"])


class InviteIn(BaseModel):
    email: str = Field(max_length=EMAIL_MAX_CHARS, json_schema_extra={"pattern": EMAIL_PATTERN})
    name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    role: Role

    @field_validator("email")
    @classmethod
    def _email_is_valid(cls, value: str) -> str:
        return clean_email(value)

    @field_validator("name")
    @classmethod
    def _name_is_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name is empty")
        return value.strip()


class LinkOut(BaseModel):
    link: str = Field(description="one-time: the page /reset, with the token after the #")
    expires_at: datetime


class InviteOut(LinkOut):
    user: UserOut


class UserChange(BaseModel):
    # Neither may be null: leave out what does not change (the schema says "at least one").
    active: StrictBool = None  # type: ignore[assignment]
    role: Role = None  # type: ignore[assignment]

    model_config = {"json_schema_extra": {"minProperties": 1}}

    @model_validator(mode="after")
    def _something(self) -> UserChange:
        if self.active is None and self.role is None:
            raise ValueError("send active, role or both")
        return self


def audit(session: Session, request: Request, admin: User, action: str, user: User, **details: object) -> None:
    record(session, action, actor=admin.email, actor_id=admin.id, target=f"user:{user.id}",
           address=client_address(request), details={"email": user.email, **details})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InviteOut)
def invite(body: InviteIn, request: Request, session: SessionDep, admin: Admin) -> InviteOut:
    """A new staff account and the one-time link its owner chooses a password with (pass it on;
    it works for PASSWORD_RESET_MINUTES). 409 for an e-mail that already has an account."""
    user, link, expires_at = invite_user(session=session, email=body.email, name=body.name.strip(), role=body.role)
    audit(session, request, admin, "user.invited", user, role=user.role)
    return InviteOut(user=UserOut.model_validate(user), link=link, expires_at=expires_at)


@router.patch("/{user_id}", response_model=UserOut)
def change(user_id: PathId, body: UserChange, request: Request, session: SessionDep, admin: Admin) -> User:
    """Disable (`"active": false`), enable, or give another role. Disabling and a new role end the
    account's sessions at once. 409 for the last active admin; 404 for no such account."""
    user = None
    if body.role is not None:
        before = session.get(User, user_id)
        was = before.role if before else None
        user = set_role(session=session, user_id=user_id, role=body.role)
        if was != user.role:
            audit(session, request, admin, "user.role_changed", user, old=was, new=user.role)
            sessions_ended(request, user.id)
    if body.active is False:
        user = disable_user(session=session, user_id=user_id)
        audit(session, request, admin, "user.disabled", user)
        sessions_ended(request, user.id)
    elif body.active is True:
        user = enable_user(session=session, user_id=user_id)
        audit(session, request, admin, "user.enabled", user)
    return user


@router.post("/{user_id}/reset-link", response_model=LinkOut)
def new_reset_link(user_id: PathId, request: Request, session: SessionDep, admin: Admin) -> LinkOut:
    """A one-time link for the account's owner to choose a new password (their sessions go on until
    they use it). 409 for a disabled account."""
    link, expires_at = reset_link(session=session, user_id=user_id)
    audit(session, request, admin, "user.reset_link", session.get(User, user_id))
    return LinkOut(link=link, expires_at=expires_at)

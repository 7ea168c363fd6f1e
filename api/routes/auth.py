"""Staff sign-in (OAuth2 password flow), who am I, presence, and the user list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, field_validator

from api.deps import (
    TOKEN_COOKIE,
    CurrentUser,
    Manager,
    SessionDep,
    client_address,
    cookie_token,
    oauth2_scheme,
    signed_in,
)
from api.live.frames import sessions_ended
from bot.audit.service import record, record_now
from bot.db import transaction
from bot.settings import get_settings
from bot.users.models import User
from bot.users.schemas import MAX_PASSWORD, MIN_PASSWORD, UserOut, check_password
from bot.users.security import create_access_token
from bot.users.service import WrongPassword, end_sessions, list_users, reset_password, set_presence
from bot.users.service import sign_in as signed_in_user

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserOut


class ResetIn(BaseModel):
    token: str = Field(min_length=1, max_length=2000, description="from the one-time link, after `#token=`")
    password: str = Field(repr=False, json_schema_extra={"minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD},
                          description=f"{MIN_PASSWORD} to {MAX_PASSWORD} characters")

    @field_validator("password")
    @classmethod
    def _acceptable(cls, value: str) -> str:
        return check_password(value)


class PresenceIn(BaseModel):
    presence: Literal["online", "away", "offline"]


@router.post("/auth/token", response_model=TokenOut)
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, response: Response) -> TokenOut:
    """OAuth2 password flow: `username` is the e-mail. The token goes back in the body (for the
    `Authorization: Bearer` header) and in an HttpOnly, SameSite=Strict cookie for the console.
    Failed sign-ins are limited per e-mail and per address (SIGNIN_FAILURES_PER_*): over either,
    429 with Retry-After, the same for an account that does not exist."""
    rates, email, address = request.app.state.rates, form.username.strip().lower(), client_address(request)
    try:
        rates.may_sign_in(email=email, address=address)
    except HTTPException:
        record_now("signin.throttled", actor=email, address=address)
        raise
    try:
        user = signed_in_user(email=form.username, password=form.password)
    except WrongPassword:
        rates.failed_sign_in(email=email, address=address)
        record_now("signin.failed", actor=email, address=address)
        raise
    record_now("signin.succeeded", actor=user.email, actor_id=user.id, address=address)
    token, expires_at = create_access_token(user_id=user.id, role=user.role, version=user.session_version)
    response.set_cookie(TOKEN_COOKIE, token, max_age=get_settings().access_token_minutes * 60,
                        httponly=True, secure=get_settings().cookie_secure, samesite="strict", path="/")
    return TokenOut(access_token=token, expires_at=expires_at, user=UserOut.model_validate(user))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(request: Request, response: Response,
             header_token: Annotated[str | None, Depends(oauth2_scheme)] = None) -> None:
    """End the caller's sessions, on every device: their tokens (copied or not) stop working and
    their open consoles close within seconds. The cookie is forgotten; without a valid token this
    only forgets the cookie."""
    token = header_token or cookie_token(request)
    user = signed_in(token) if token else None
    if user is not None:
        with transaction() as session:
            end_sessions(session.get(User, user.id))
            record(session, "signout", actor=user.email, actor_id=user.id, address=client_address(request))
        sessions_ended(request, user.id)
    response.delete_cookie(TOKEN_COOKIE, path="/")


@router.post("/auth/reset", status_code=status.HTTP_204_NO_CONTENT)
def choose_password(body: ResetIn, request: Request, session: SessionDep) -> None:
    """A new password through a one-time link (`python -m bot users reset-password`, or an admin).
    The link then stops working, and so does every earlier sign-in of that account; sign in
    with the new password. 422 for a link that is forged, expired or used."""
    user = reset_password(session=session, token=body.token, password=body.password)
    record(session, "password.reset", actor=user.email, actor_id=user.id, target=f"user:{user.id}",
           address=client_address(request))
    sessions_ended(request, user.id)


@router.get("/auth/me", response_model=UserOut)
def who_am_i(user: CurrentUser) -> User:
    return user


@router.put("/auth/me/presence", response_model=UserOut)
def change_presence(body: PresenceIn, user: CurrentUser, session: SessionDep) -> User:
    return set_presence(session=session, user=session.merge(user), presence=body.presence)


@router.get("/users", response_model=list[UserOut])
def users(session: SessionDep, _: Manager) -> list[User]:
    """Every staff account (manager or admin)."""
    return list_users(session=session)

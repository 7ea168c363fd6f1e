"""Staff sign-in (OAuth2 password flow), who am I, presence, and the user list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import TOKEN_COOKIE, CurrentUser, Manager, SessionDep
from bot.settings import get_settings
from bot.users.models import User
from bot.users.schemas import UserOut
from bot.users.security import create_access_token
from bot.users.service import list_users, set_presence
from bot.users.service import sign_in as signed_in_user

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserOut


class PresenceIn(BaseModel):
    presence: Literal["online", "away", "offline"]


@router.post("/auth/token", response_model=TokenOut)
def sign_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], response: Response) -> TokenOut:
    """OAuth2 password flow: `username` is the e-mail. The token goes back in the body (for the
    `Authorization: Bearer` header) and in an HttpOnly, SameSite=Strict cookie for the console."""
    user = signed_in_user(email=form.username, password=form.password)
    token, expires_at = create_access_token(user_id=user.id, role=user.role)
    response.set_cookie(TOKEN_COOKIE, token, max_age=get_settings().access_token_minutes * 60,
                        httponly=True, secure=get_settings().cookie_secure, samesite="strict", path="/")
    return TokenOut(access_token=token, expires_at=expires_at, user=UserOut.model_validate(user))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(response: Response) -> None:
    """Forget the console cookie. (A token copied elsewhere stays valid until it expires.)"""
    response.delete_cookie(TOKEN_COOKIE, path="/")


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

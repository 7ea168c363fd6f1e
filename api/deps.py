"""Request dependencies: one database transaction per request, the signed-in staff member."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Path, Query, Request, WebSocket, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from bot.db import transaction
from bot.users.models import User
from bot.users.security import InvalidToken, TokenClaims, decode_access_token
from bot.users.service import get_user, has_role

# The largest id or offset a request may name: PostgreSQL's integer. A larger one (2**63 and up) made the
# database driver raise OverflowError, a 500; now it is a 422 like any out-of-range value.
MAX_ID = 2**31 - 1
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]

# Dates and times as the OpenAPI document promises them (format date: YYYY-MM-DD; date-time: RFC 3339
# with its offset). pydantic alone also takes "0.5" as a Unix time and a date with a time of day.
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _full_date(value: object) -> object:
    if isinstance(value, str) and not _FULL_DATE.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


def _moment(value: object) -> object:
    if not isinstance(value, datetime) and not (isinstance(value, str) and _RFC3339.fullmatch(value)):
        raise ValueError("a time is written as in RFC 3339, with its offset: 2026-12-07T14:02:00Z")
    return value


Day = Annotated[date, BeforeValidator(_full_date)]
Moment = Annotated[datetime, BeforeValidator(_moment)]

TOKEN_URL = "/api/v1/auth/token"
# The console may keep the token in this HttpOnly cookie instead of sending the header.
TOKEN_COOKIE = "support_token"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def client_address(connection: Request | WebSocket) -> str | None:
    """The peer's address (behind a proxy, run uvicorn with --proxy-headers to get the client's)."""
    return connection.client.host if connection.client else None


def db_session() -> Iterator[Session]:
    """The request's one unit of work: committed when the route returns, rolled back on error."""
    with transaction() as session:
        yield session


# scope="function": the transaction commits (or rolls back) when the route returns, before the
# response is sent, so a write is stored before it is acknowledged and no lock is held while a
# slow client reads the response.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(connection: Request | WebSocket) -> bool:
    """Whether the page that sent this was served by this API: its Origin names our host. Browsers
    send Origin with every POST, PUT, PATCH and DELETE and on WebSockets; SameSite=Strict alone
    does not stop a sibling subdomain."""
    origin = connection.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc == connection.headers.get("host", "")


def cookie_token(request: Request) -> str | None:
    """The console's cookie token, for a request that may use it: a state-changing request with the
    cookie must come from one of our own pages (403 otherwise: a cross-site form or script)."""
    token = request.cookies.get(TOKEN_COOKIE)
    if token and request.method not in SAFE_METHODS and not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="a request signed in by cookie must come from this site's own pages "
                                   "(its Origin header); scripts send the token as Authorization: Bearer")
    return token


def current_user(request: Request, header_token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The signed-in staff member, read in a short transaction of its own (so a route's own
    transactions never wait on the sign-in check). The object is detached: a route that
    changes it merges it into its session first."""
    token = header_token or cookie_token(request)
    if not token:
        raise _unauthorised("sign in first: no token was sent")
    try:
        claims = decode_access_token(token)
    except InvalidToken:
        raise _unauthorised("the token is invalid or has expired; sign in again") from None
    user = _active(claims)
    if user is None:
        raise _unauthorised("this sign-in has ended (signed out, password or role changed, or account disabled); "
                            "sign in again")
    return user


def _active(claims: TokenClaims) -> User | None:
    """The token's staff member, if the account is active and the token is from its current sessions."""
    with transaction() as session:
        user = get_user(session=session, user_id=claims.user_id)
        if user is None or not user.active or user.session_version != claims.version:
            return None
        session.expunge(user)
    return user


def signed_in(token: str) -> User | None:
    """The active staff member a token belongs to, or None (for sockets, which cannot get a 401)."""
    try:
        claims = decode_access_token(token)
    except InvalidToken:
        return None
    return _active(claims)


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(minimum: str) -> Callable[[User], User]:
    """Roles are ranked agent < manager < admin; a route names the lowest it admits.
    The role is read from the database on every request, so a changed role applies at once."""
    def check(user: CurrentUser) -> User:
        if not has_role(user, minimum):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this needs the {minimum} role or above")
        return user

    return check


# The signed-in staff member, admitted from that role up (see `require_role`).
Agent = Annotated[User, Depends(require_role("agent"))]
Manager = Annotated[User, Depends(require_role("manager"))]
Admin = Annotated[User, Depends(require_role("admin"))]

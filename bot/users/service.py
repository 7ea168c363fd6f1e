"""Creating staff accounts, checking passwords, presence."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from bot.db import transaction, utcnow
from bot.errors import Conflict, NotFound, Unauthenticated
from bot.settings import get_settings
from bot.users.models import PRESENCE, ROLES, User
from bot.users.schemas import UserCreate, check_password
from bot.users.security import (
    InvalidToken,
    burn_a_verification,
    create_reset_token,
    decode_reset_token,
    hash_password,
    password_fingerprint,
    verify_password,
)


class UserError(Conflict):
    """A user change that cannot be made, in words fit for the person who asked."""


class NoSuchUser(NotFound, UserError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"there is no user with id {user_id}")


class WrongPassword(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("wrong e-mail or password")


def staff_names(db: Session | Connection, user_ids: set[int]) -> dict[int, str]:
    """The names staff are shown by (to customers and colleagues), by user id."""
    if not user_ids:
        return {}
    return {user_id: name for user_id, name in db.execute(select(User.id, User.name).where(User.id.in_(user_ids)))}


def create_user(*, session: Session, data: UserCreate) -> User:
    if get_user_by_email(session=session, email=data.email) is not None:
        raise UserError(f"a user with the e-mail {data.email} already exists")
    user = User(email=data.email, name=data.name, role=data.role,
                password_hash=hash_password(data.password), active=True, presence="offline")
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def active_user(*, session: Session, user_id: int) -> User | None:
    """The staff member with this id, if their account is active."""
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(*, session: Session, role: str | None = None) -> list[User]:
    query = select(User).order_by(User.id)
    if role is not None:
        query = query.where(User.role == role)
    return list(session.scalars(query))


def has_role(user: User, minimum: str) -> bool:
    """Roles rank agent < manager < admin: whether `user` has `minimum` or a higher one."""
    return ROLES.index(user.role) >= ROLES.index(minimum)


def active_staff(*, session: Session) -> list[User]:
    """Every active staff account, by name."""
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.id)))


def password_matches(user: User | None, password: str) -> bool:
    """Whether `user` is an active account with this password. No user costs as much time as a
    wrong password, so the answer time does not tell which accounts exist. Needs no database:
    the (slow) hash check can run outside any transaction."""
    if user is None:
        burn_a_verification()
        return False
    return verify_password(password, user.password_hash) and user.active


def authenticate(*, session: Session, email: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this e-mail and password, or None; a success is recorded."""
    user = get_user_by_email(session=session, email=email)
    if not password_matches(user, password):
        return None
    user.last_login_at = now or utcnow()
    return user


def sign_in(*, email: str, password: str, now: datetime | None = None) -> User:
    """`authenticate` in three short steps, each with its own transaction, so that the slow
    password hash holds none and sign-ins never hold up the chats. The user comes back detached;
    WrongPassword for an unknown e-mail, a wrong password or a disabled account alike."""
    with transaction() as session:
        user = get_user_by_email(session=session, email=email)
        if user is not None:
            session.expunge(user)
    if not password_matches(user, password):
        raise WrongPassword()
    user.last_login_at = now or utcnow()
    with transaction() as session:
        session.get(User, user.id).last_login_at = user.last_login_at
    return user


def set_presence(*, session: Session, user: User, presence: str) -> User:
    if presence not in PRESENCE:
        raise UserError(f"presence must be one of: {', '.join(PRESENCE)}")
    user.presence = presence
    return user


def console_seen(*, session: Session, user_id: int, now: datetime | None = None) -> User | None:
    """The agent's console is there: remember when, and show an agent whose connection had
    dropped as online again (an agent who chose "away" stays away)."""
    user = session.get(User, user_id)
    if user is None:
        return None
    user.last_seen_at = now or utcnow()
    if user.presence == "offline":
        user.presence = "online"
    return user


def console_gone(*, session: Session, user_id: int, now: datetime | None = None) -> None:
    """The agent's last console connection closed: an online agent shows as offline from now
    (an agent who chose "away" stays away, and comes back away)."""
    user = session.get(User, user_id)
    if user is not None:
        if user.presence == "online":
            user.presence = "offline"
        user.last_seen_at = now or utcnow()


def mark_silent_consoles_offline(*, session: Session, silent_since: datetime) -> list[int]:
    """Agents shown online whose console has not been heard from since `silent_since` (the
    process holding their socket died): offline now. Their ids."""
    silent = list(session.scalars(select(User).where(User.presence == "online", User.last_seen_at.is_not(None),
                                                     User.last_seen_at < silent_since)))
    for user in silent:
        user.presence = "offline"
    return [user.id for user in silent]


def end_sessions(user: User) -> None:
    """Void every sign-in token `user` holds (their consoles' sockets close within seconds)."""
    user.session_version = (user.session_version or 0) + 1


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).where(User.role == "admin", User.active.is_(True)))


def _keep_an_admin(session: Session, user: User, *, losing: bool) -> None:
    if losing and user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise UserError("this is the only active admin; make another admin first")


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NoSuchUser(user_id)
    return user


def disable_user(*, session: Session, user_id: int) -> User:
    """The account can no longer sign in; its sessions end and it leaves the team's presence."""
    user = _target(session, user_id)
    _keep_an_admin(session, user, losing=True)
    user.active = False
    user.presence = "offline"
    end_sessions(user)
    return user


def enable_user(*, session: Session, user_id: int) -> User:
    user = _target(session, user_id)
    user.active = True
    return user


def set_role(*, session: Session, user_id: int, role: str) -> User:
    """A new role, effective at the next sign-in: the sessions under the old one end."""
    if role not in ROLES:
        raise UserError(f"role must be one of: {', '.join(ROLES)}")
    user = _target(session, user_id)
    if role == user.role:
        return user
    _keep_an_admin(session, user, losing=True)
    user.role = role
    end_sessions(user)
    return user


def set_password(*, session: Session, user_id: int, password: str) -> User:
    """A new password (checked like one at creation); every session under the old one ends."""
    user = _target(session, user_id)
    try:
        user.password_hash = hash_password(check_password(password))
    except ValueError as error:
        raise UserError(str(error)) from None
    end_sessions(user)
    return user


class ResetLinkInvalid(Unauthenticated):
    def __init__(self) -> None:
        super().__init__("this reset link has expired or has been used; ask an admin for a new one")


def reset_link(*, session: Session, user_id: int, now: datetime | None = None) -> tuple[str, datetime]:
    """A one-time link that lets the staff member choose a new password (it works once, until it
    expires, and not after any other password change), and when it expires. The token is after
    the #, so it reaches no server log and no Referer."""
    user = _target(session, user_id)
    if not user.active:
        raise UserError(f"{user.email} is disabled; enable the account first")
    token, expires_at = create_reset_token(user_id=user.id, password_hash=user.password_hash, now=now)
    return f"{get_settings().base_url}/reset#token={token}", expires_at


def reset_password(*, session: Session, token: str, password: str) -> User:
    """The password a reset link's holder chose; ResetLinkInvalid for a link that is forged, expired,
    used, or for a disabled account."""
    try:
        user_id, fingerprint = decode_reset_token(token)
    except InvalidToken:
        raise ResetLinkInvalid() from None
    user = session.get(User, user_id, with_for_update=True)
    if user is None or not user.active or password_fingerprint(user.password_hash) != fingerprint:
        raise ResetLinkInvalid()
    return set_password(session=session, user_id=user.id, password=password)


def invite_user(*, session: Session, email: str, name: str, role: str,
                now: datetime | None = None) -> tuple[User, str, datetime]:
    """A new account with no password anyone knows, and the one-time link with which its owner
    chooses one (to be passed on by the admin until the product sends e-mail)."""
    user = create_user(session=session, data=UserCreate(email=email, name=name, role=role,
                                                        password=secrets.token_urlsafe(32)))
    link, expires_at = reset_link(session=session, user_id=user.id, now=now)
    return user, link, expires_at

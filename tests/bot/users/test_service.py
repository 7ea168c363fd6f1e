"""Staff accounts: creation, password checks, presence (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.users.schemas import UserCreate
from bot.users.service import UserError, authenticate, create_user, get_user_by_email, list_users, set_presence

PASSWORD = "correct horse battery"


def make(session, email="Sam.Agent@Example.com", role="agent", name="Sam"):
    return create_user(session=session, data=UserCreate(email=email, name=name, role=role, password=PASSWORD))


def test_created_user_keeps_an_argon2_hash_never_the_password(session):
    user = make(session)
    assert user.email == "sam.agent@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.active and user.presence == "offline" and user.last_login_at is None


def test_the_same_email_cannot_be_registered_twice(session):
    make(session)
    with pytest.raises(UserError, match="already exists"):
        make(session, email="SAM.agent@example.com")


def test_right_password_signs_in_and_records_the_time(session):
    make(session)
    user = authenticate(session=session, email=" sam.agent@EXAMPLE.com ", password=PASSWORD)
    assert user is not None and user.last_login_at is not None


@pytest.mark.parametrize("email,password", [
    ("sam.agent@example.com", "wrong password!"),
    ("sam.agent@example.com", PASSWORD.upper()),
    ("nobody@example.com", PASSWORD),
])
def test_wrong_password_or_unknown_email_gets_nothing(session, email, password):
    make(session)
    assert authenticate(session=session, email=email, password=password) is None


def test_a_disabled_account_cannot_sign_in(session):
    make(session).active = False
    assert authenticate(session=session, email="sam.agent@example.com", password=PASSWORD) is None


def test_list_filters_by_role(session):
    make(session)
    make(session, email="mia@example.com", role="manager", name="Mia")
    assert [u.email for u in list_users(session=session)] == ["sam.agent@example.com", "mia@example.com"]
    assert [u.email for u in list_users(session=session, role="manager")] == ["mia@example.com"]
    assert get_user_by_email(session=session, email="MIA@example.com").role == "manager"


def test_presence_accepts_only_known_states(session):
    user = make(session)
    assert set_presence(session=session, user=user, presence="online").presence == "online"
    with pytest.raises(UserError):
        set_presence(session=session, user=user, presence="busy")


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "valid e-mail"),
    ("password", "short", "at least 10"),
    ("password", "x" * 257, "longer than 256"),
    ("role", "owner", "Input should be"),
    ("name", "   ", "name is empty"),
])
def test_bad_input_is_refused_with_a_clear_reason(field, value, message):
    data = {"email": "a@example.com", "name": "A", "role": "agent", "password": PASSWORD, field: value}
    with pytest.raises(ValidationError, match=message):
        UserCreate(**data)


def test_the_password_never_shows_in_a_repr():
    assert PASSWORD not in repr(UserCreate(email="a@example.com", name="A", role="agent", password=PASSWORD))


def test_sign_in_records_the_time_and_refuses_wrong_passwords_and_disabled_accounts_alike(app_db):
    from bot.db import transaction
    from bot.users.service import WrongPassword, sign_in

    with transaction() as session:
        make(session)
        make(session, email="gone@example.com", name="Gone").active = False
    user = sign_in(email=" Sam.Agent@example.com", password=PASSWORD)
    assert user.name == "Sam" and user.last_login_at is not None
    with transaction() as session:
        assert get_user_by_email(session=session, email="sam.agent@example.com").last_login_at is not None
    for email, password in (("sam.agent@example.com", "wrong password!"), ("nobody@example.com", PASSWORD),
                            ("gone@example.com", PASSWORD)):
        with pytest.raises(WrongPassword, match="wrong e-mail or password"):
            sign_in(email=email, password=password)

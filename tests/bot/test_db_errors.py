"""Issue 17: a database error names the statement, never the customer's values bound to it."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bot.users.models import User


def test_a_database_error_carries_no_bound_values(session):
    session.add(User(email="private.person@example.com", name="Secret Name", role="agent", password_hash="!"))
    session.flush()
    session.add(User(email="private.person@example.com", name="Another Secret", role="agent", password_hash="!"))
    with pytest.raises(IntegrityError) as error:
        session.flush()
    text = str(error.value)
    assert "INSERT INTO users" in text and "hidden due to hide_parameters" in text
    assert "Another Secret" not in text  # only the bound values held it
    # PostgreSQL's own DETAIL names the duplicate key; api/logredact.py keeps that line out of the logs.

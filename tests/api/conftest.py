"""Fixtures for the API tests: the app wired to a scripted Rasa, with staff accounts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from bot.db import transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user
from tests.api.support import PASSWORD, FakeRasa


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(app_db, rasa, configure, tmp_path) -> TestClient:
    """Agents ann and ben (online), manager meg (offline); each agent may hold two live chats."""
    configure(secret_key_file=tmp_path / "secret_key", agent_max_live_chats=2)
    with transaction() as session:
        for name, role in (("ann", "agent"), ("ben", "agent"), ("meg", "manager")):
            user = create_user(session=session, data=UserCreate(email=f"{name}@example.com", name=name.title(),
                                                                role=role, password=PASSWORD))
            user.presence = "online" if role == "agent" else "offline"
    return TestClient(create_app(rasa=rasa))

"""What several end-to-end tests do as staff: add an agent to the running stack and sign them in, and wait
for an e-mail the API wrote to its outbox folder."""

from __future__ import annotations

import email
import time
from email import policy

import httpx
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user

PASSWORD = "a long enough password"


def e_mail_about(stack, reference: str, kind: str) -> email.message.EmailMessage:
    """The .eml the API wrote for this ticket (no SMTP server in the tests' stack), waited for."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in stack.outbox.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if reference in message["Subject"] and kind in path.name:
                return message
        time.sleep(0.5)
    raise AssertionError(f"no {kind} e-mail about {reference} in {stack.outbox}")


def signed_in_agent(stack, email_address: str, name: str) -> tuple[httpx.Client, dict]:
    """A new agent of the stack, signed in: an API client and their headers."""
    engine = make_engine(stack.database_url)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email=email_address, name=name, role="agent", password=PASSWORD))
    engine.dispose()
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1", timeout=30)
    signed = api.post("/auth/token", data={"username": email_address, "password": PASSWORD}).json()
    return api, {"Authorization": f"Bearer {signed['access_token']}"}

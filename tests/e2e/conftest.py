"""The real stack (trained Rasa server, action server, API) on free ports, once per run."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot import migrate
from harness.dovecotserver import USER as MAILBOX_USER
from harness.dovecotserver import DovecotServer, DovecotUnavailable
from harness.modelhash import model_path
from harness.stack import RASA_BIN, Stack, free_port


class Chat:
    """One customer talking to the Rasa REST channel."""

    def __init__(self, rasa_url: str, token: str) -> None:
        self.rasa_url = rasa_url
        self.sender = f"e2e-{uuid.uuid4().hex[:12]}"
        # The REST channel answers the API only (channels/rest.py): these tests speak as the API.
        self.client = httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"})

    def say(self, text: str) -> list[dict]:
        response = self.client.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": self.sender, "message": text}
        )
        response.raise_for_status()
        return response.json()

    @staticmethod
    def text(replies: list[dict]) -> str:
        return "\n".join(reply.get("text", "") for reply in replies if reply.get("text"))


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    model = model_path()
    if not model.is_file() or not RASA_BIN.is_file():
        pytest.skip(f"end-to-end tests need the trained model {model.name} and .venv-rasa: run `make test`")
    database = tmp_path_factory.mktemp("e2e") / "support.db"
    url = f"sqlite:///{database}"
    migrate.upgrade(url=url)
    logs: list[str] = []
    # E-mail as `make run` sends it with no SMTP server: .eml files, here in the test's own folder; and a
    # real support mailbox (Dovecot) that the API reads, when Dovecot is installed.
    env = {"DATABASE_URL": url, "MAIL_OUTBOX_DIR": str(database.parent / "outbox"), "MAIL_SEND_SECONDS": "0.5"}
    mailbox, why_no_mailbox = None, None
    try:
        mailbox = DovecotServer()
        env.update(IMAP_URL=mailbox.wait_ready(), MAIL_REPLY_TO=MAILBOX_USER, IMAP_POLL_SECONDS="1")
    except DovecotUnavailable as why:
        if mailbox is not None:
            mailbox.stop()
        mailbox, why_no_mailbox = None, str(why)
    running = Stack(
        model=model, rasa_port=free_port(), action_port=free_port(), api_port=free_port(),
        env=env, emit=logs.append,
        tracker_store=f"sqlite:///{database.parent / 'rasa-trackers.db'}",
    )
    running.logs = logs  # type: ignore[attr-defined]
    running.database_url = url  # type: ignore[attr-defined]
    running.outbox = database.parent / "outbox"  # type: ignore[attr-defined]
    running.mailbox, running.why_no_mailbox = mailbox, why_no_mailbox  # type: ignore[attr-defined]
    try:
        with started(running, logs, timeout=400):
            yield running
    finally:
        if mailbox is not None:
            mailbox.stop()


@contextmanager
def started(stack: Stack, logs: list[str], timeout: float) -> Iterator[Stack]:
    """`stack` started and healthy (its last log lines printed when it is not), stopped afterwards."""
    stack.start()
    try:
        stack.wait_ready(timeout=timeout)
    except Exception:
        stack.stop()
        print("\n".join(logs[-80:]))
        raise
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def chat(stack) -> Chat:
    return Chat(f"http://{stack.host}:{stack.rasa_port}", stack.rasa_token)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


# Per module, not per session: Playwright's sync API keeps an event loop running in this thread while
# it is open, and a later test's asyncio.run() would fail ("cannot be called from a running event loop").
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium); `make test` installs it as root")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.txt")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        yield browser
        browser.close()

"""Issue 16: an API worker killed during a live agent chat. The stack runs two API workers
(API_WORKERS=2) on PostgreSQL, with live events between them through Redis; the customer chats
in the widget, the agent in the console (two Chromium pages). Both API workers are SIGKILLed in
turn while the chat is live, and lines are written right after each kill, while sockets are down
or reconnecting. Both pages reconnect, and each line is shown once, in order, and stored once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.conversations.models import Message
from bot.db import make_engine, transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user
from harness.modelhash import model_path
from harness.pgserver import fresh_database
from harness.stack import RASA_BIN, Stack, free_port, workers_of
from tests.e2e.conftest import started

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
WAIT_MS = 60_000  # the bot's first answers on a cold server can take seconds
STARTED = "Application startup complete."  # each uvicorn worker logs it once it serves


@pytest.fixture(scope="module")
def two_worker_stack(postgres_url, redis_url, tmp_path_factory) -> Iterator[Stack]:
    model = model_path()
    if not model.is_file() or not RASA_BIN.is_file():
        pytest.skip(f"end-to-end tests need the trained model {model.name} and .venv-rasa: run `make test`")
    database = fresh_database(postgres_url, "worker_kill_browser")
    migrate.upgrade(url=database)
    logs: list[str] = []
    running = Stack(
        model=model, rasa_port=free_port(), action_port=free_port(), api_port=free_port(), api_workers=2,
        env={"DATABASE_URL": database, "REDIS_URL": redis_url}, emit=logs.append,
        tracker_store=f"sqlite:///{tmp_path_factory.mktemp('worker-kill') / 'rasa-trackers.db'}",
    )
    running.logs = logs  # type: ignore[attr-defined]
    running.database_url = database  # type: ignore[attr-defined]
    with started(running, logs, timeout=400):
        wait_until(lambda: len(workers_of(running.service("api").process.pid)) == 2
                   and sum(STARTED in line for line in logs) >= 2, "two API workers serving", logs)
        yield running


def wait_until(condition: Callable[[], bool], what: str, logs: list[str], timeout: float = 60,
               pause: Callable[[], object] = lambda: time.sleep(0.05)) -> None:
    """For what no page shows: processes coming and going, sockets seen by Playwright (a Playwright
    `expect` waits for the rest). Playwright hands over its events only while it is called, so a
    condition on them pauses with page.wait_for_timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            print("\n".join(logs[-60:]))
            raise AssertionError(f"not so after {timeout:.0f} s: {what}")
        pause()


def dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


class Sockets:
    """The WebSockets a page opens to one path, and the frames each has received."""

    def __init__(self, page, path: str) -> None:
        self.opened: list[tuple[object, list[str]]] = []
        page.on("websocket", lambda ws: self._track(ws) if path in ws.url else None)

    def _track(self, ws) -> None:
        frames: list[str] = []
        ws.on("framereceived", lambda payload: frames.append(str(payload)))
        self.opened.append((ws, frames))

    def live(self) -> bool:
        """The newest socket is open and the server has spoken on it."""
        return bool(self.opened) and not self.opened[-1][0].is_closed() and bool(self.opened[-1][1])


def test_killed_api_workers_lose_and_repeat_no_line_of_a_live_agent_chat(two_worker_stack, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    stack, logs = two_worker_stack, two_worker_stack.logs
    supervisor = stack.service("api").process.pid
    engine = make_engine(stack.database_url)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email="ria.workers@example.com", name="Ria", role="agent",
                                                     password=PASSWORD))
    engine.dispose()
    base = f"http://{stack.host}:{stack.api_port}"
    agent_page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    customer_page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    errors: list[str] = []
    for page in (agent_page, customer_page):
        page.on("pageerror", lambda error: errors.append(str(error)))
    console_sockets = Sockets(agent_page, "/api/v1/agent/ws")
    widget_sockets = Sockets(customer_page, "/ws?")

    agent_page.goto(f"{base}/agent")
    agent_page.get_by_test_id("login-email").fill("ria.workers@example.com")
    agent_page.get_by_test_id("login-password").fill(PASSWORD)
    agent_page.get_by_test_id("login-submit").click()
    expect(agent_page.get_by_test_id("agent-name")).to_have_text("Ria")

    customer_page.goto(base + "/")
    customer_page.get_by_test_id("widget-open").click()
    log = customer_page.get_by_test_id("widget-log")
    expect(log.locator('.sw-line[data-sender="bot"]').first).to_contain_text("Brightside")
    customer_input = customer_page.get_by_test_id("widget-input")
    customer_input.fill("I want to speak to a real person")
    customer_page.get_by_test_id("widget-send").click()
    expect(customer_page.get_by_test_id("widget-status")).to_contain_text("number 1 in the queue")
    agent_page.get_by_test_id("queue-item").get_by_test_id("claim").click()
    expect(agent_page.get_by_test_id("mine-item")).to_have_count(1)
    agent_page.get_by_test_id("mine-item").click()
    chat_log = agent_page.get_by_test_id("chat-log")
    expect(chat_log).to_contain_text("I want to speak to a real person")
    expect(log).to_contain_text("Ria joined the chat.")
    agent_input = agent_page.get_by_test_id("chat-input")

    said: list[tuple[str, str]] = [("customer", "I want to speak to a real person")]

    def agent_says(text: str) -> None:
        agent_input.fill(text)
        agent_page.get_by_test_id("chat-send").click()
        expect(agent_input).to_have_value("")  # emptied once the server has stored the line
        said.append(("agent", text))

    def customer_says(text: str) -> None:
        customer_input.fill(text)
        customer_page.get_by_test_id("widget-send").click()
        expect(customer_input).to_have_value("")
        said.append(("customer", text))

    def both_show_every_line() -> None:
        for sender, text in said:
            expect(log.locator(f'.sw-line[data-sender="{sender}"]', has_text=text)).to_have_count(1)
            expect(chat_log.locator(f'.line[data-sender="{sender}"]', has_text=text)).to_have_count(1)

    agent_says("Hello, Ria here. Let me look into that parcel.")
    customer_says("Thanks. It is order 48213, it never came.")
    both_show_every_line()
    assert console_sockets.live() and widget_sockets.live()

    # Kill each worker that served the chat so far, one after the other; uvicorn's supervisor
    # starts a replacement each time. Whichever worker held a page's socket, both drop at least once.
    for kill, victim in enumerate(sorted(workers_of(supervisor)), start=1):
        serving = sum(STARTED in line for line in logs)
        stack.emit(f"test | SIGKILL API worker {victim}")
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda victim=victim: dead(victim), f"worker {victim} gone", logs)
        # Written at once, by the worker still standing, while a socket may be down or reconnecting.
        agent_says(f"Kill {kill}: the agent writes while a worker is down.")
        customer_says(f"Kill {kill}: the customer answers straight away.")
        wait_until(lambda victim=victim, serving=serving: victim not in workers_of(supervisor)
                   and len(workers_of(supervisor)) == 2 and sum(STARTED in line for line in logs) > serving,
                   f"a worker in place of {victim}", logs)
        both_show_every_line()

    # Both pages are back on a live socket (a new one each), and lines written now arrive over it.
    expect(agent_page.get_by_test_id("reconnecting")).to_be_hidden()
    wait_until(lambda: console_sockets.live() and widget_sockets.live(), "both pages connected again", logs,
               pause=lambda: agent_page.wait_for_timeout(50))
    assert len(console_sockets.opened) >= 2 and len(widget_sockets.opened) >= 2
    agent_says("Back to normal: a replacement parcel goes out today.")
    customer_says("Great, thank you!")
    both_show_every_line()
    assert any("replacement parcel goes out" in frame for frame in widget_sockets.opened[-1][1])
    assert any("Great, thank you!" in frame for frame in console_sockets.opened[-1][1])

    # Each line exactly once, in the order written: on both pages and in the database.
    widget_lines = log.locator('.sw-line[data-sender="customer"], .sw-line[data-sender="agent"]').evaluate_all(
        "lines => lines.map(l => [l.dataset.sender, Array.from(l.childNodes)"
        ".filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('')])")
    console_lines = chat_log.locator('.line[data-sender="customer"], .line[data-sender="agent"]').evaluate_all(
        "lines => lines.map(l => [l.dataset.sender, l.querySelector('.line-text').textContent])")
    assert [tuple(line) for line in widget_lines] == said
    assert [tuple(line) for line in console_lines] == said
    engine = create_engine(stack.database_url)
    with engine.connect() as connection:
        conversation_id = connection.scalar(select(Message.conversation_id).where(
            Message.text == "Thanks. It is order 48213, it never came."))
        stored = connection.execute(select(Message.sender, Message.text).where(
            Message.conversation_id == conversation_id, Message.sender.in_(("customer", "agent")))
            .order_by(Message.id)).all()
    engine.dispose()
    assert [tuple(row) for row in stored] == said
    assert errors == [], errors

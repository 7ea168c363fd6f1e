"""Issue 17: an admin runs the team in a real browser (Debian's Chromium): invites an agent, whose
one-time link opens /reset to choose a password; the agent signs in to the console; the admin
disables them and their open console is closed within seconds."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, transaction
from bot.users.schemas import UserCreate
from bot.users.service import create_user

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
WAIT_MS = 30_000


def test_invite_reset_sign_in_and_disable(stack, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    engine = make_engine(stack.database_url)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email="ada.admin@example.com", name="Ada", role="admin",
                                                     password=PASSWORD))
    engine.dispose()
    base = f"http://{stack.host}:{stack.api_port}"
    errors: list[str] = []
    admin = browser.new_context().new_page()
    admin.on("pageerror", lambda error: errors.append(str(error)))
    admin.goto(f"{base}/admin")
    admin.get_by_test_id("login-email").fill("ada.admin@example.com")
    admin.get_by_test_id("login-password").fill(PASSWORD)
    admin.get_by_test_id("login-submit").click()
    expect(admin.get_by_test_id("admin-name")).to_have_text("Ada")

    admin.get_by_test_id("invite-email").fill("noor.agent@example.com")
    admin.get_by_test_id("invite-name").fill("Noor")
    admin.get_by_test_id("invite-submit").click()
    expect(admin.get_by_test_id("link")).to_contain_text("/reset#token=")
    link = admin.get_by_test_id("link").inner_text()
    noor = admin.locator('[data-testid="user-row"][data-email="noor.agent@example.com"]')
    expect(noor).to_contain_text("active")

    agent = browser.new_context().new_page()
    agent.on("pageerror", lambda error: errors.append(str(error)))
    agent.goto(link)
    assert "#" not in agent.url  # the token leaves the address bar once read
    agent.get_by_test_id("reset-password").fill("noor's own password")
    agent.get_by_test_id("reset-again").fill("noor's own password")
    agent.get_by_test_id("reset-submit").click()
    expect(agent.get_by_test_id("reset-done")).to_contain_text("Your password is saved")
    agent.goto(f"{base}/agent")
    agent.get_by_test_id("login-email").fill("noor.agent@example.com")
    agent.get_by_test_id("login-password").fill("noor's own password")
    agent.get_by_test_id("login-submit").click()
    expect(agent.get_by_test_id("agent-name")).to_have_text("Noor")

    noor.get_by_test_id("user-toggle").click()
    expect(noor).to_contain_text("disabled")
    # The console's socket is closed (4401) at once, and the console goes back to its sign-in.
    try:
        expect(agent.get_by_test_id("login-submit")).to_be_visible(timeout=10_000)
    except AssertionError:
        print("\n".join(stack.logs[-60:]))  # what the servers said (a failure in a full run, 7 Dec)
        raise
    assert errors == []

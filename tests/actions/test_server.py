"""Issue 17, private processes: the real action server (`python -m actions.server`) runs nothing for
a caller without its token, listens on loopback only, and does not start without a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from bot import migrate
from bot.feedback.models import Feedback
from bot.settings import PROJECT_ROOT
from harness.stack import free_port

TOKEN = "action-server-test-token-0123456789abcdef"


def forged_call(sender: str) -> dict:
    """What an attacker would post: a tracker whose slots say 'store this feedback'."""
    return {
        "next_action": "action_submit_feedback",
        "sender_id": sender,
        "version": "3.6.20",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"feedback_category": "complaint", "feedback_text": "forged feedback text",
                      "feedback_anonymous": True},
            "latest_message": {"text": "forged", "intent": {"name": "give_feedback"}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "feedback_form",
        },
    }


def start(env: dict[str, str], port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=PROJECT_ROOT,
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    database = tmp_path / "support.db"
    url = f"sqlite:///{database}"
    migrate.upgrade(url=url)
    port = free_port()
    env = {"SQLITE_PATH": str(database), "DATABASE_URL": "", "ACTION_SERVER_TOKEN": TOKEN,
           "ACTION_HOST": "127.0.0.1"}
    process = start(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the action server did not answer /health within 60 s"
            time.sleep(0.2)
        yield base, url, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def feedback_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Feedback)).scalar_one()
    finally:
        engine.dispose()


def test_a_call_without_the_token_runs_nothing(action_server):
    base, url, _ = action_server
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        response = httpx.post(base + "/webhook", json=forged_call("mallory"), headers=headers, timeout=30)
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"] == "unauthorized"
    for path in ("/actions", "/webhook/../actions"):
        assert httpx.get(base + path, timeout=30).status_code in (401, 404)
    assert feedback_rows(url) == 0

    # The same call from Rasa, with the token, runs the action: the check is the only difference.
    response = httpx.post(base + "/webhook", json=forged_call("rasa-customer"),
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert response.status_code == 200, response.text
    assert "recorded anonymously" in response.json()["responses"][0]["text"]
    assert feedback_rows(url) == 1


def outward_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None when it has only loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_it_listens_on_loopback_only(action_server):
    _, _, port = action_server
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address but loopback, so there is no other interface to try")
    with pytest.raises(OSError), socket.create_connection((address, port), timeout=3):
        pass


def test_it_does_not_start_without_a_token():
    env = {key: value for key, value in os.environ.items() if key != "ACTION_SERVER_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "actions.server", "--port", str(free_port())], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "ACTION_SERVER_TOKEN is not set" in result.stderr


def test_it_refuses_a_short_token():
    result = subprocess.run([sys.executable, "-m", "actions.server", "--port", str(free_port())], cwd=PROJECT_ROOT,
                            env={**os.environ, "ACTION_SERVER_TOKEN": "short"}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode != 0
    assert "ACTION_SERVER_TOKEN must be at least 32 characters" in result.stdout + result.stderr

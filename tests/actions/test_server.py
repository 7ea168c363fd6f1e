"""Issue 17, private processes: the real action server (`python -m actions.server`) runs nothing for
a caller without its token, listens on loopback only, and does not start without a token."""

from __future__ import annotations

import json
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
METRICS_TOKEN = "metrics-scraper-token-0123456789abcdefghij"


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


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with open(log, "w", encoding="utf-8") as output:  # a file, not a pipe: Sanic's worker keeps it open
        return subprocess.Popen([sys.executable, "-m", "actions.server", "--port", str(port)], cwd=PROJECT_ROOT,
                                env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def action_server(tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    database = tmp_path / "support.db"
    url = f"sqlite:///{database}"
    migrate.upgrade(url=url)
    port = free_port()
    env = {"SQLITE_PATH": str(database), "DATABASE_URL": "", "ACTION_SERVER_TOKEN": TOKEN,
           "ACTION_HOST": "127.0.0.1", "METRICS_TOKEN": METRICS_TOKEN, "LOG_FORMAT": "json"}
    LOGS[port] = tmp_path / "actions.log"
    process = start(env, port, LOGS[port])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, LOGS[port].read_text(encoding="utf-8")
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


LOGS: dict[int, Path] = {}  # what each server writes, by port


def json_lines(port: int) -> list[dict]:
    return [json.loads(line) for line in LOGS[port].read_text(encoding="utf-8").splitlines() if line.startswith("{")]


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


def test_each_action_is_counted_timed_and_logged_with_the_api_s_request_id(action_server):
    """Issue 19: the API's request id travels in the line's metadata; every log line the action run
    causes carries it (JSON here), and /metrics, for the scraper's token only, counts the run."""
    from prometheus_client.parser import text_string_to_metric_families

    base, _, port = action_server
    call = forged_call("rasa-customer-2")
    call["tracker"]["latest_message"]["metadata"] = {"request_id": "trace-action-9", "line": "abc"}
    assert httpx.post(base + "/webhook", json=call, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30).status_code == 200
    assert httpx.get(base + "/metrics", timeout=30).status_code == 404
    assert httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).status_code == 404
    scraped = httpx.get(base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
    assert scraped.status_code == 200
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(scraped.text) for s in family.samples}
    assert samples[("support_actions_total", (("action", "action_submit_feedback"), ("outcome", "ok")))] == 1
    assert samples[("support_action_seconds_count", (("action", "action_submit_feedback"),))] == 1
    deadline = time.monotonic() + 10
    while not any(line.get("action") for line in json_lines(port)) and time.monotonic() < deadline:
        time.sleep(0.2)  # the line is flushed a moment after the answer
    traced = [line for line in json_lines(port) if line.get("request_id") == "trace-action-9"]
    assert traced and {line["process_name"] for line in traced} == {"actions"}
    assert any(line.get("action") == "action_submit_feedback" and line.get("status") == 200 for line in traced)
    assert all(line.get("conversation_id") == "rasa-customer-2" for line in traced)
    assert "forged feedback text" not in json.dumps(traced)

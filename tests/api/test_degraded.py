"""Issue 16, item 5: the API with its database restarted under it, and with Redis down from the start
(real servers, a real API process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from bot import migrate
from bot.settings import PROJECT_ROOT
from harness.pgserver import PostgresServer, PostgresUnavailable
from harness.stack import free_port


def start_api(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_ROOT, env={**os.environ, "SECRET_KEY": "k" * 40, "RASA_URL": "http://127.0.0.1:9",
                               "HANDOFF_SWEEP_SECONDS": "3600", "ALERT_CHECK_SECONDS": "0", **env},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, f"http://127.0.0.1:{port}"


def wait_until(check, seconds: float, what: str) -> float:
    """Seconds until `check()` is true (polled every 0.2 s), or a failure naming `what`."""
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < seconds, f"{what} within {seconds:.0f} s"
        time.sleep(0.2)
    return time.monotonic() - began


def answers(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        migrate.upgrade(url=server.url)
        yield server
    finally:
        server.stop()


def test_a_database_restart_gets_a_clear_503_meanwhile_and_the_api_recovers_by_itself(own_postgres):
    process, base = start_api({"DATABASE_URL": own_postgres.url})
    try:
        wait_until(lambda: answers(base), 60, "the API started")
        assert httpx.post(f"{base}/api/v1/chat/sessions", json={"name": "Ada"}).status_code == 201

        own_postgres.pause()
        down = httpx.post(f"{base}/api/v1/chat/sessions", json={"name": "Bo"})
        assert down.status_code == 503, down.text
        assert "database is not answering" in down.json()["detail"]
        assert down.headers["Retry-After"] == "5"
        assert httpx.get(f"{base}/health").status_code == 503

        own_postgres.resume()
        recovered = wait_until(
            lambda: httpx.post(f"{base}/api/v1/chat/sessions", json={"name": "Cy"}).status_code == 201,
            30, "chats accepted again after the database came back")
        assert httpx.get(f"{base}/health").status_code == 200
        print(f"accepted again {recovered:.1f} s after the database answered")
        assert process.poll() is None
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_redis_down_at_start_is_a_degraded_mode_not_a_crash(tmp_path, migrated_sqlite_template):
    database = tmp_path / "support.db"
    database.write_bytes(migrated_sqlite_template.read_bytes())
    process, base = start_api({"DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": "redis://127.0.0.1:9/0"})
    try:
        wait_until(lambda: answers(base) or process.poll() is not None, 60, "the API answered or exited")
        assert process.poll() is None, process.stdout.read()
        assert httpx.get(f"{base}/health").status_code == 200
        created = httpx.post(f"{base}/api/v1/chat/sessions", json={"name": "Ada"})
        assert created.status_code == 201, created.text  # rate limits let customers through meanwhile
    finally:
        process.terminate()
        process.wait(timeout=15)
    log = process.stdout.read()
    assert "Redis at redis://127.0.0.1:9/0 is not answering: live events stay in this process" in log, log[-2000:]

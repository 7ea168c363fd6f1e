"""Issue 16, item 3: `API_WORKERS=2` as `make run` starts it (uvicorn --workers 2), on PostgreSQL
and Redis. The loops every process runs do their work once between them, and a worker killed with
SIGKILL is replaced while the other keeps answering."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from bot import migrate
from bot.settings import PROJECT_ROOT, Settings
from harness.pgserver import fresh_database
from harness.stack import Stack, free_port, workers_of


class Webhook(ThreadingHTTPServer):
    """An alert receiver: keeps every body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def two_workers(postgres_url, redis_url) -> Iterator[tuple[str, subprocess.Popen, Webhook, str]]:
    database = fresh_database(postgres_url, "api_workers")  # this test's own, migrated to head
    migrate.upgrade(url=database)
    webhook = Webhook()
    port = free_port()
    rule = {"key": "always", "metric": "sla_breaching", "above": -1}  # 0 tickets breaching > -1: fires at once
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SECRET_KEY": "k" * 40,
           "RASA_URL": "http://127.0.0.1:9", "API_WORKERS": "2", "ALERT_RULES": json.dumps([rule]),
           "ALERT_CHECK_SECONDS": "0.5", "ALERT_WEBHOOK_URL": f"http://127.0.0.1:{webhook.server_port}/"}
    [command] = [s.command for s in Stack(model=Path("unused"), api_port=port, api_workers=2)._services()
                 if s.name == "api"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the API exited"
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200 and len(workers_of(process.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not start two workers"
            time.sleep(0.2)
        yield base, process, webhook, database
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        webhook.shutdown()


def test_two_api_workers_fire_an_alert_once_and_post_it_once(two_workers):
    base, process, webhook, database = two_workers
    time.sleep(4)  # eight evaluations in each worker
    engine = create_engine(database)
    with engine.connect() as connection:
        alerts = connection.execute(text("SELECT rule_key, webhook_status FROM alerts")).all()
    engine.dispose()
    assert alerts == [("always", "sent")]
    assert [body["alert"] for body in webhook.bodies] == ["always"]


def test_a_killed_api_worker_is_replaced_and_the_other_answers_meanwhile(two_workers):
    base, process, _, _ = two_workers
    before = workers_of(process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    answered = 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/health", timeout=5)
        assert response.status_code == 200
        answered += 1
        now = workers_of(process.pid)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.1)
    assert len(now) == 2 and victim not in now, f"workers after the kill: {now}"
    assert answered >= 1


def test_several_api_workers_without_redis_are_refused_at_start(monkeypatch):
    monkeypatch.setenv("API_WORKERS", "2")
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValidationError, match="API_WORKERS=2 needs REDIS_URL"):
        Settings()


def test_make_run_passes_the_worker_count_to_uvicorn():
    [api] = [s for s in Stack(model=Path("unused"), api_workers=3)._services() if s.name == "api"]
    assert api.command[-2:] == ["--workers", "3"]
    [single] = [s for s in Stack(model=Path("unused"))._services() if s.name == "api"]
    assert "--workers" not in single.command
    assert sys.executable == single.command[0]

"""Two API processes on different ports, sharing the database and Redis: the customer's socket
is on one, the agent works through the other, and every line crosses between them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import sessionmaker
from websockets.sync.client import connect

from bot import migrate
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import request_handoff, start_conversation
from bot.db import make_engine, transaction
from bot.settings import PROJECT_ROOT
from bot.users.schemas import UserCreate
from bot.users.service import create_user
from harness.stack import free_port

PASSWORD = "a long enough password"


@pytest.fixture
def two_apis(redis_url, tmp_path) -> Iterator[tuple[str, str, str]]:
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    migrate.upgrade(url=database)
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SECRET_KEY": "k" * 40,
           "RASA_URL": "http://127.0.0.1:9", "HANDOFF_SWEEP_SECONDS": "3600"}
    ports = [free_port(), free_port()]
    processes = [subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory",
                                   "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                  cwd=PROJECT_ROOT, env=env) for port in ports]
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, "an API process exited"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "an API process did not start"
                time.sleep(0.2)
        yield database, f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


def test_a_line_written_on_one_process_reaches_a_socket_on_the_other(two_apis):
    database, customer_side, agent_side = two_apis
    engine = make_engine(database)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email="sam@example.com", name="Sam", role="agent",
                                                     password=PASSWORD))
        conversation, token = start_conversation(session=session, data=SessionCreate(name="Ada"))
        request_handoff(session=session, conversation=conversation, reason="requested")
        session_id = conversation.id
    engine.dispose()

    agent = httpx.Client(base_url=f"http://{agent_side}/api/v1", timeout=10)
    signed_in = agent.post("/auth/token", data={"username": "sam@example.com", "password": PASSWORD}).json()
    staff = {"Authorization": f"Bearer {signed_in['access_token']}"}

    with connect(f"ws://{customer_side}/api/v1/chat/sessions/{session_id}/ws?token={token}",
                 open_timeout=10) as socket:
        def frame() -> dict:
            return json.loads(socket.recv(timeout=10))

        assert frame() == {"type": "state", "state": "queued"}
        assert frame()["type"] == "queue"
        [waiting] = agent.get("/handoffs", headers=staff).json()
        assert agent.post(f"/handoffs/{waiting['id']}/claim", headers=staff).status_code == 200
        assert frame()["message"]["text"] == "Sam joined the chat."
        assert frame() == {"type": "state", "state": "agent"}
        agent.post(f"/handoffs/{waiting['id']}/messages", json={"text": "Hi Ada, Sam here."}, headers=staff)
        line = frame()["message"]
        assert (line["sender"], line["text"], line["agent_name"]) == ("agent", "Hi Ada, Sam here.", "Sam")
        agent.post(f"/handoffs/{waiting['id']}/typing", json={"typing": True}, headers=staff)
        assert frame() == {"type": "typing", "typing": True, "name": "Sam"}

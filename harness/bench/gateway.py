"""`make bench`, the gateway part: what the API adds in front of Rasa, and how fast an agent's
line reaches the customer's WebSocket with many live chats. Load goes only to the processes
`make bench` started on 127.0.0.1, in loops bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass

import httpx

BOT_ONLY_SCRIPT = ["hello", "how long does delivery take?", "what is your return policy?",
                   "which payment methods do you accept?", "do you ship abroad?"]
# Rate limits and capacity the benchmarks need raised (one client address does all the talking).
BENCH_ENV = {"CHAT_RATE_PER_SESSION": "100000/minute", "CHAT_RATE_PER_ADDRESS": "1000000/minute",
             "CHAT_SESSIONS_PER_ADDRESS": "100000/minute", "AGENT_MAX_LIVE_CHATS": "10",
             "HANDOFF_QUEUE_TIMEOUT_SECONDS": "3600"}


@dataclass
class Overhead:
    direct_ms: list[float]
    gateway_ms: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.gateway_ms) / statistics.median(self.direct_ms)


def gateway_overhead(rasa_url: str, api_url: str, rasa_token: str, rounds: int = 40) -> Overhead:
    """The same bot-only conversation, alternately straight to Rasa's REST channel and through
    the API (which stores every line and relays), one message at a time."""
    direct, gateway = [], []
    as_api = {"Authorization": f"Bearer {rasa_token}"}  # the REST channel answers the API only
    with httpx.Client(timeout=60) as client:
        client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": "warm-up", "message": "hello"}, headers=as_api)
        for _ in range(rounds):
            sender = f"bench-direct-{uuid.uuid4().hex[:10]}"
            for text in BOT_ONLY_SCRIPT:
                began = time.perf_counter()
                client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                            headers=as_api).raise_for_status()
                direct.append((time.perf_counter() - began) * 1000)
            created = client.post(f"{api_url}/api/v1/chat/sessions", json={})
            created.raise_for_status()
            headers = {"Authorization": f"Bearer {created.json()['token']}"}
            url = f"{api_url}/api/v1/chat/sessions/{created.json()['session_id']}/messages"
            for text in BOT_ONLY_SCRIPT:
                began = time.perf_counter()
                client.post(url, json={"text": text}, headers=headers).raise_for_status()
                gateway.append((time.perf_counter() - began) * 1000)
    return Overhead(direct, gateway)


def _live_chats(database_url: str, chats: int, agents: int) -> tuple[list[tuple[str, str]], list[str]]:
    """`chats` customers waiting for a person and `agents` agents (password 'bench password'),
    straight in the database: the bench measures the relay, not the bot."""
    from sqlalchemy.orm import sessionmaker

    from bot.conversations.schemas import SessionCreate
    from bot.conversations.service import request_handoff, start_conversation
    from bot.db import make_engine, transaction
    from bot.users.schemas import UserCreate
    from bot.users.service import create_user

    engine = make_engine(database_url)
    customers, emails = [], []
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        for number in range(agents):
            email = f"bench.agent{number}.{uuid.uuid4().hex[:6]}@example.com"
            create_user(session=session, data=UserCreate(email=email, name=f"Agent {number}", role="agent",
                                                         password="bench password"))
            emails.append(email)
        for number in range(chats):
            conversation, token = start_conversation(session=session, data=SessionCreate(name=f"Customer {number}"))
            request_handoff(session=session, conversation=conversation, reason="requested")
            customers.append((conversation.id, token))
    engine.dispose()
    return customers, emails


async def _relay(api_url: str, customers: list[tuple[str, str]], agent_emails: list[str],
                 lines_per_chat: int, gap_seconds: float) -> list[float]:
    from websockets.asyncio.client import connect

    host = api_url.removeprefix("http://")
    latencies: list[float] = []
    sent_at: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=f"{api_url}/api/v1", timeout=30,
                                 limits=httpx.Limits(max_connections=100)) as client:
        tokens = []
        for email in agent_emails:
            signed_in = await client.post("/auth/token", data={"username": email, "password": "bench password"})
            tokens.append({"Authorization": f"Bearer {signed_in.json()['access_token']}"})
        waiting = (await client.get("/handoffs", headers=tokens[0])).json()
        holder: dict[str, tuple[int, dict]] = {}
        for index, handoff in enumerate(waiting):
            headers = tokens[index % len(tokens)]
            (await client.post(f"/handoffs/{handoff['id']}/claim", headers=headers)).raise_for_status()
            holder[handoff["conversation_id"]] = (handoff["id"], headers)

        async def customer(session_id: str, token: str, ready: asyncio.Event) -> None:
            async with connect(f"ws://{host}/api/v1/chat/sessions/{session_id}/ws?token={token}&after=0") as ws:
                ready.set()
                expected = lines_per_chat
                while expected:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    text = frame.get("message", {}).get("text", "") if frame["type"] == "message" else ""
                    if text in sent_at:
                        latencies.append((time.perf_counter() - sent_at.pop(text)) * 1000)
                        expected -= 1

        async def agent(session_id: str, ready: asyncio.Event) -> None:
            await ready.wait()
            handoff_id, headers = holder[session_id]
            await asyncio.sleep(random.uniform(0, gap_seconds))
            for number in range(lines_per_chat):
                text = f"line {number} for {session_id} {uuid.uuid4().hex[:6]}"
                sent_at[text] = time.perf_counter()
                (await client.post(f"/handoffs/{handoff_id}/messages", json={"text": text}, headers=headers)
                 ).raise_for_status()
                await asyncio.sleep(gap_seconds * random.uniform(0.5, 1.5))

        tasks = []
        for session_id, token in customers:
            ready = asyncio.Event()
            tasks += [customer(session_id, token, ready), agent(session_id, ready)]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=lines_per_chat * gap_seconds * 3 + 120)
    return latencies


def relay_latency(api_url: str, database_url: str, chats: int = 50, lines_per_chat: int = 20,
                  gap_seconds: float = 1.0) -> list[float]:
    """Agent line (POST) -> the customer's WebSocket, `chats` live chats at once, each agent
    writing about once a second."""
    customers, agents = _live_chats(database_url, chats, agents=max(1, chats // 10))
    return asyncio.run(_relay(api_url, customers, agents, lines_per_chat, gap_seconds))

"""`make bench`: training time, NLU parse latency, the gateway's overhead and the handoff relay
latency (one Rasa server, SQLite), then (scale.py) saturation, burst, capacity, memory and failover
with one Rasa server and two behind the gateway (PostgreSQL), and (reports.py) the KPI summary and
exports.

Load is sent only to processes this command starts on 127.0.0.1, in bounded loops.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot import migrate
from bot.conversations.relay import BOT_UNAVAILABLE
from harness.bench.gateway import BENCH_ENV
from harness.modelhash import model_path
from harness.rasa import HOLDOUT, nlu_examples, run_rasa, write_figures
from harness.stack import Stack, free_port

P95_BUDGET_MS = 300.0
PAUSE_SECONDS = 10.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def mixed_script(ticket_ref: str, email: str) -> list[str]:
    """One customer's visit: FAQ, open a ticket, check one, answer the survey."""
    return [
        "hi",
        "how long does delivery take?",
        "I want to open a ticket",
        "Alex Bench",
        "alex.bench@example.com",
        '/inform{"ticket_category":"orders_shipping"}',
        "My parcel never arrived and the tracking has not moved for a week.",
        "/affirm",
        "what's the status of my ticket?",
        ticket_ref,
        email,
        "thanks, bye",
        "/affirm",
        "4", "yes", "4", "5", "5", "skip",
    ]


# Where a visit may be joined when a load level starts: at hello, at "open a ticket", or at
# the status check (which, like the others, earns the survey at the end). Without this, a
# 90-second level would only ever measure the first half of the script.
PHASE_STARTS = (0, 2, 8)

# Polite replies that still mean the system failed (action server unreachable, database
# down); the benchmark counts them as errors. Kept in step with channels/rest.py and
# actions/common.py by tests/bot/test_bench.py.
FAILURE_MARKERS = ("Sorry, something went wrong on our side", "Sorry, I'm having trouble saving")


def is_failure(replies: object) -> bool:
    if not isinstance(replies, list) or not replies:
        return True
    texts = [reply.get("text") or "" for reply in replies if isinstance(reply, dict)]
    return any(text.startswith(FAILURE_MARKERS) for text in texts)


@dataclass
class LoadResult:
    customers: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


class Line:
    """One customer's conversation: `say` sends a line and tells whether it was answered."""

    def __init__(self, conversation: str, say: Callable[[str], Awaitable[bool]]) -> None:
        self.conversation = conversation
        self.say = say


class RasaTarget:
    """Straight to a Rasa server's REST channel; a conversation is a new sender id."""

    def __init__(self, rasa_url: str, token: str) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.headers = {"Authorization": f"Bearer {token}"}  # the channel answers the API only

    async def open(self, client: httpx.AsyncClient) -> Line:
        sender = f"bench-{uuid.uuid4().hex[:12]}"

        async def say(text: str) -> bool:
            response = await client.post(self.url, json={"sender": sender, "message": text}, headers=self.headers)
            return response.status_code == 200 and not is_failure(response.json())

        return Line(sender, say)


class GatewayTarget:
    """Through the API, as the chat widget talks: a conversation is a chat session (opening it is
    not timed), a line starting with / is a button's payload."""

    def __init__(self, api_url: str) -> None:
        self.base = f"{api_url}/api/v1/chat/sessions"

    async def open(self, client: httpx.AsyncClient) -> Line:
        created = await client.post(self.base, json={})
        created.raise_for_status()
        session = created.json()
        headers = {"Authorization": f"Bearer {session['token']}"}
        url = f"{self.base}/{session['session_id']}/messages"

        async def say(text: str) -> bool:
            response = await client.post(url, json={"payload" if text.startswith("/") else "text": text},
                                         headers=headers)
            if response.status_code != 200:
                return False
            replies = [m for m in response.json()["messages"] if m["sender"] != "customer"]
            return not is_failure(replies) and not any(m["text"] == BOT_UNAVAILABLE for m in replies)

        return Line(session["session_id"], say)


Target = RasaTarget | GatewayTarget


async def _customer(client: httpx.AsyncClient, target: Target, script: list[str], pause: float,
                    deadline: float, result: LoadResult, start_delay: float) -> None:
    """Visit after visit until the deadline; each visit is a new conversation."""
    await asyncio.sleep(start_delay)
    position = random.choice(PHASE_STARTS)
    while time.monotonic() < deadline:
        try:
            line = await target.open(client)
        except (httpx.HTTPError, ValueError, KeyError):
            result.errors += 1
            await asyncio.sleep(pause or 1.0)
            continue
        for text in script[position:]:
            if time.monotonic() >= deadline:
                return
            began = time.perf_counter()
            try:
                if not await line.say(text):
                    result.errors += 1
            except (httpx.HTTPError, ValueError, KeyError):
                result.errors += 1
            result.latencies_ms.append((time.perf_counter() - began) * 1000)
            if pause:
                await asyncio.sleep(pause * random.uniform(0.8, 1.2))
        position = 0


async def run_load(target: Target, customers: int, *, pause: float, seconds: float,
                   ticket_ref: str, email: str) -> LoadResult:
    result = LoadResult(customers)
    limits = httpx.Limits(max_connections=customers + 10, max_keepalive_connections=customers + 10)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        began = time.monotonic()
        deadline = began + seconds
        ramp = min(pause, seconds / 4) if pause else 0.0
        await asyncio.gather(*[
            _customer(client, target, mixed_script(ticket_ref, email), pause, deadline, result,
                      start_delay=random.uniform(0, ramp))
            for _ in range(customers)
        ])
        result.seconds = time.monotonic() - began
    return result


def parse_latencies(rasa_url: str, token: str) -> list[float]:
    texts = [text for _, text in nlu_examples(HOLDOUT)]
    latencies = []
    with httpx.Client(timeout=30) as client:
        client.post(f"{rasa_url}/model/parse", params={"token": token}, json={"text": "warm up"})
        for text in texts:
            began = time.perf_counter()
            client.post(f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}).raise_for_status()
            latencies.append((time.perf_counter() - began) * 1000)
    return latencies


def time_training() -> float:
    """A cold training run, as on a fresh clone: Rasa's training cache (~/.rasa/cache) would
    otherwise restore every component trained before and time almost nothing."""
    with tempfile.TemporaryDirectory() as out:
        began = time.monotonic()
        result = run_rasa("train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
                          "--out", out, "--fixed-model-name", "bench", capture=True,
                          env={"RASA_CACHE_DIRECTORY": str(Path(out) / "cache")})
        elapsed = time.monotonic() - began
    if result.returncode != 0:
        raise RuntimeError("training failed:\n" + result.stdout[-2000:] + result.stderr[-2000:])
    return elapsed


def gateway_lines(rasa_url: str, api_url: str, database_url: str, rasa_token: str) -> list[str]:
    from harness.bench.gateway import gateway_overhead, relay_latency

    lines = []
    # In a process of its own: this one pumps the three servers' logs in threads, which would
    # compete with the timing loop for the interpreter and add to the gateway's side only.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        overhead = pool.submit(gateway_overhead, rasa_url, api_url, rasa_token).result()
    lines.append(f"| gateway overhead: bot-only script through the API vs Rasa's REST channel | median "
                 f"{statistics.median(overhead.gateway_ms):.0f} vs {statistics.median(overhead.direct_ms):.0f} ms, "
                 f"ratio {overhead.ratio:.2f} ({len(overhead.gateway_ms)} messages each) | \u2264 1.2 |")
    print(lines[-1], flush=True)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        relay = pool.submit(relay_latency, api_url, database_url).result()
    lines.append(f"| handoff relay: agent line to the customer's WebSocket, 50 live chats | p50 "
                 f"{percentile(relay, 50):.0f} ms, p95 {percentile(relay, 95):.0f} ms ({len(relay)} lines) "
                 f"| p95 \u2264 50 ms |")
    print(lines[-1], flush=True)
    return lines


def main(levels: list[int], level_seconds: float, skip_training: bool, gateway_only: bool = False,
         conversations: int = 10_000, scale_only: bool = False) -> int:
    from harness.bench.scale import scale_lines

    if scale_only:
        scale_lines(levels, level_seconds, conversations)
        return 0
    lines: list[str] = ["| figure | measured | target |", "| --- | --- | --- |"]
    if not skip_training and not gateway_only:
        print("timing a full training run (config.yml, domain.yml, data/)...", flush=True)
        training = time_training()
        lines.append(f"| training time | {training / 60:.1f} min | \u2264 6 min |")
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        migrate.upgrade(url=url)
        # The servers write their logs to files: reading them here would compete with what is timed.
        stack = Stack(model=model_path(), rasa_port=free_port(), action_port=free_port(), api_port=free_port(),
                      env={"DATABASE_URL": url, **BENCH_ENV}, log_dir=Path(workdir) / "logs")
        stack.start()
        try:
            stack.wait_ready(timeout=400)
            rasa_url = f"http://{stack.host}:{stack.rasa_port}"
            if gateway_only:
                for line in gateway_lines(rasa_url, f"http://{stack.host}:{stack.api_port}", url, stack.rasa_token):
                    print(line)
                return 0
            parse = parse_latencies(rasa_url, stack.rasa_token)
            p50, p95 = percentile(parse, 50), percentile(parse, 95)
            lines.append(f"| NLU parse latency p50 / p95 | {p50:.0f} / {p95:.0f} ms "
                         f"| ({len(parse)} held-out messages, one at a time) |")
            print(lines[-1], flush=True)

            lines += gateway_lines(rasa_url, f"http://{stack.host}:{stack.api_port}", url, stack.rasa_token)
        except Exception:
            print(stack.log_tail(), flush=True)  # what the servers said before it went wrong
            raise
        finally:
            stack.stop()
    from harness.bench.reports import reports_lines

    # After the single server above stopped: they would share the 2 cores.
    lines += scale_lines(levels, level_seconds, conversations)
    lines += reports_lines()
    write_figures("bench", "\n".join(lines) + "\n\nMeasured by `make bench` on this 2-core machine.")
    return 0

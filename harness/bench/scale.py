"""`make bench`, the scale part (issue 16, item 6): one Rasa server against two behind the
gateway, set up as a company runs several (PostgreSQL for our tables and for Rasa's trackers),
side by side in one run. Load goes only to the processes started here on 127.0.0.1, in loops
bounded in count and time."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.rasa_shards import preference
from bot import migrate
from harness.bench import (
    P95_BUDGET_MS,
    PAUSE_SECONDS,
    GatewayTarget,
    LoadResult,
    RasaTarget,
    mixed_script,
    percentile,
    run_load,
)
from harness.bench.gateway import BENCH_ENV
from harness.modelhash import model_path
from harness.pgserver import PostgresServer, fresh_database
from harness.stack import Stack, free_port

# What customers open with when they all arrive at once (after a newsletter, during an outage).
FIRST_LINES = ("hi", "how long does delivery take?", "I want to open a ticket", "what's the status of my ticket?",
               "I was charged twice for my order", "can I talk to a person?", "what is your return policy?")
# Customers sending back to back for the saturation figure. A conversation stays on its shard, so
# with 20 one shard at times held most of the busy conversations while the other idled (measured:
# 40 against 19 ms of each shard's CPU per message); with 40 both stay busy (30 and 30 ms).
SATURATION_CUSTOMERS = 40


@dataclass
class Scale:
    """Figures of one stack (one or two Rasa shards)."""

    shards: int
    saturation: LoadResult | None = None
    burst_ms: list[float] = field(default_factory=list)
    burst_errors: int = 0
    capacity: int = 0
    levels: list[str] = field(default_factory=list)


def resident_mb(process_group: int) -> float:
    """Resident memory of every process in a process group (a Rasa server and any child), from /proc."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
            if int(stat.rsplit(")", 1)[1].split()[2]) != process_group:
                continue
            status = (entry / "status").read_text()
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


async def burst(target: GatewayTarget, customers: int = 100, rounds: int = 3) -> tuple[list[float], int]:
    """`rounds` times: `customers` new chats (opened beforehand, not timed) whose first line is sent
    within the same second; the latency of those first lines."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=customers + 10, max_keepalive_connections=customers + 10)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for _ in range(rounds):
            lines = await asyncio.gather(*[target.open(client) for _ in range(customers)])
            start = time.monotonic() + 0.5

            async def first(line, text: str, at: float) -> None:
                nonlocal errors
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                began = time.perf_counter()
                try:
                    if not await line.say(text):
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - began) * 1000)

            await asyncio.gather(*[first(line, FIRST_LINES[n % len(FIRST_LINES)], start + random.uniform(0, 1))
                                   for n, line in enumerate(lines)])
            await asyncio.sleep(3)
    return latencies, errors


async def memory(stack: Stack, conversations: int, checkpoints: tuple[int, ...], senders: int = 8
                 ) -> dict[str, list[tuple[int, float]]]:
    """Each shard's resident memory as it serves `conversations` new conversations (straight to its
    REST channel, several at a time): a customer asking for a ticket, so each tracker holds an
    open form."""
    samples: dict[str, list[tuple[int, float]]] = {}
    async with httpx.AsyncClient(timeout=60) as client:

        async def shard(name: str, url: str) -> None:
            group = stack.service(name).process.pid
            target = RasaTarget(url, stack.rasa_token)
            served = 0
            samples[name] = [(0, resident_mb(group))]

            async def one() -> None:
                nonlocal served
                while served < conversations:
                    served += 1
                    number = served
                    line = await target.open(client)
                    if not await line.say("I want to open a ticket"):
                        raise RuntimeError(f"{name} did not answer conversation {number}")
                    if number in checkpoints:
                        samples[name].append((number, resident_mb(group)))

            await asyncio.gather(*[one() for _ in range(senders)])

        await asyncio.gather(*[shard(f"rasa-{n}", url) for n, url in enumerate(stack.rasa_urls)])
    return samples


async def failover(stack: Stack, target: GatewayTarget, ticket_ref: str, email: str, customers: int = 20,
                   pause: float = 1.0, before: float = 8.0, after: float = 15.0) -> tuple[list[float], int, int]:
    """`customers` chat through the gateway, a line a second; rasa-0 is killed (SIGKILL) meanwhile.
    For each conversation rasa-0 was serving: seconds from the kill until a line of it is answered
    again. Also how many lines after the kill were not answered, and how many conversations moved."""
    script = mixed_script(ticket_ref, email)
    answered: dict[str, list[float]] = {}
    failed_after: list[float] = []
    killed_at = float("inf")
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=customers + 10)) as client:
        lines = await asyncio.gather(*[target.open(client) for _ in range(customers)])
        deadline = time.monotonic() + before + after

        async def customer(line, offset: int) -> None:
            answered[line.conversation] = []
            position = offset
            while time.monotonic() < deadline:
                ok = await line.say(script[position % len(script)])
                if ok:
                    answered[line.conversation].append(time.monotonic())
                elif time.monotonic() > killed_at:
                    failed_after.append(time.monotonic())
                position += 1
                await asyncio.sleep(pause * random.uniform(0.8, 1.2))

        async def kill() -> None:
            nonlocal killed_at
            await asyncio.sleep(before)
            killed_at = time.monotonic()
            os.killpg(stack.service("rasa-0").process.pid, signal.SIGKILL)

        # Each customer starts at hello, at the ticket form or at the status check, so all parts run.
        await asyncio.gather(kill(), *[customer(line, (0, 2, 8)[n % 3]) for n, line in enumerate(lines)])
    served_by_killed = [c for c in answered if preference(stack.rasa_urls, c)[0] == 0]
    gaps = []
    for conversation in served_by_killed:
        later = [t for t in answered[conversation] if t > killed_at]
        gaps.append(later[0] - killed_at if later else float("inf"))
    return gaps, len(failed_after), len(served_by_killed)


@contextmanager
def sharded_stack(server: PostgresServer, shards: int, workdir: Path) -> Iterator[tuple[Stack, str, str]]:
    """A stack with `shards` Rasa servers on fresh PostgreSQL databases, and a ticket to check."""
    from sqlalchemy.orm import Session

    from bot.db import make_engine
    from bot.tickets.schemas import TicketCreate
    from bot.tickets.service import create_ticket

    url = fresh_database(server.url, "bench_support")
    trackers = fresh_database(server.url, "bench_trackers", "postgresql")
    migrate.upgrade(url=url)
    engine = make_engine(url)
    email = "bench.status@example.com"
    with Session(engine) as session, session.begin():
        ticket_ref = create_ticket(session=session, data=TicketCreate(
            description="Bench ticket", category="other", customer_email=email)).reference
    engine.dispose()
    stack = Stack(model=model_path(), rasa_shards=shards, rasa_ports=[free_port() for _ in range(shards)],
                  action_port=free_port(), api_port=free_port(), tracker_store=trackers,
                  env={"DATABASE_URL": url, **BENCH_ENV}, log_dir=workdir / f"logs-{shards}")
    stack.start()
    try:
        stack.wait_ready(timeout=600)
        yield stack, ticket_ref, email
    except Exception:
        print(stack.log_tail(), flush=True)
        raise
    finally:
        stack.stop()


def measure(stack: Stack, shards: int, ticket_ref: str, email: str, levels: list[int], level_seconds: float,
            saturation_seconds: float) -> Scale:
    figures = Scale(shards)
    target = GatewayTarget(f"http://{stack.host}:{stack.api_port}")
    asyncio.run(run_load(target, 4, pause=0, seconds=10, ticket_ref=ticket_ref, email=email))  # warm every part
    figures.saturation = asyncio.run(run_load(target, SATURATION_CUSTOMERS, pause=0, seconds=saturation_seconds,
                                              ticket_ref=ticket_ref, email=email))
    print(f"  {shards} shard(s), {SATURATION_CUSTOMERS} customers back to back: "
          f"{figures.saturation.throughput:.1f} msg/s, "
          f"p95 {figures.saturation.p95:.0f} ms, {figures.saturation.errors} errors", flush=True)
    figures.burst_ms, figures.burst_errors = asyncio.run(burst(target))
    print(f"  {shards} shard(s), burst of 100 first lines in one second (3 rounds): p50 "
          f"{percentile(figures.burst_ms, 50):.0f} ms, p95 {percentile(figures.burst_ms, 95):.0f} ms, "
          f"{figures.burst_errors} errors", flush=True)
    for customers in levels:
        load = asyncio.run(run_load(target, customers, pause=PAUSE_SECONDS, seconds=level_seconds,
                                    ticket_ref=ticket_ref, email=email))
        ok = load.errors == 0 and load.p95 <= P95_BUDGET_MS
        errors = f", {load.errors} errors" if load.errors else ""
        figures.levels.append(f"{customers}: p95 {load.p95:.0f} ms{errors}")
        print(f"  {shards} shard(s), {customers} customers, 10 s pauses: {len(load.latencies_ms)} replies, "
              f"p50 {load.p50:.0f} ms, p95 {load.p95:.0f} ms, {load.errors} errors -> "
              f"{'ok' if ok else 'over budget'}", flush=True)
        if not ok:
            break
        figures.capacity = customers
    return figures


def scale_lines(levels: list[int], level_seconds: float, conversations: int = 10_000,
                saturation_seconds: float = 60.0) -> list[str]:
    """The scale rows of docs/performance.md: one shard and two, through the gateway."""
    server = PostgresServer()
    server.start()
    results: dict[int, Scale] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            workdir = Path(folder)
            with sharded_stack(server, 1, workdir) as (stack, ticket_ref, email):
                results[1] = measure(stack, 1, ticket_ref, email, levels, level_seconds, saturation_seconds)
            with sharded_stack(server, 2, workdir) as (stack, ticket_ref, email):
                results[2] = measure(stack, 2, ticket_ref, email, levels, level_seconds, saturation_seconds)
                checkpoints = tuple(sorted({1_000, conversations // 4, conversations // 2, conversations}))
                samples = asyncio.run(memory(stack, conversations, checkpoints))
                for name, points in samples.items():
                    print(f"  {name} resident memory by conversations served: "
                          + ", ".join(f"{n:,}: {mb:.0f} MB" for n, mb in points), flush=True)
                gaps, failed, moved = asyncio.run(failover(
                    stack, GatewayTarget(f"http://{stack.host}:{stack.api_port}"), ticket_ref, email))
                print(f"  rasa-0 killed with {moved} of 20 conversations: answered again after "
                      + ", ".join(f"{gap:.2f}" for gap in sorted(gaps)) + f" s; {failed} lines not answered",
                      flush=True)
    finally:
        server.stop()
    one, two = results[1], results[2]
    ratio = two.saturation.throughput / one.saturation.throughput
    lines = [
        f"| saturation through the gateway, {SATURATION_CUSTOMERS} customers back to back: 2 Rasa shards vs 1 | "
        f"{two.saturation.throughput:.1f} vs {one.saturation.throughput:.1f} msg/s, ratio {ratio:.2f} (p95 "
        f"{two.saturation.p95:.0f} vs {one.saturation.p95:.0f} ms; {two.saturation.errors + one.saturation.errors} "
        f"errors) | \u2265 1.5\u00d7 |",
        f"| burst: 100 customers' first lines in the same second, 3 rounds, through the gateway: 2 shards (1) | "
        f"p95 {percentile(two.burst_ms, 95) / 1000:.2f} s ({percentile(one.burst_ms, 95) / 1000:.2f} s), "
        f"{two.burst_errors + one.burst_errors} errors | p95 \u2264 1.5 s |",
        f"| capacity: p95 \u2264 300 ms, no errors, 10 s pauses, through the gateway: 2 shards (1) | "
        f"{two.capacity} ({one.capacity}) concurrent customers; p95 by level, 2 shards: {'; '.join(two.levels)}; "
        f"1 shard: {'; '.join(one.levels)} | \u2265 300 |",
    ]
    for name, points in samples.items():
        (first_n, first_mb), (last_n, last_mb) = points[1], points[-1]
        per_thousand = (last_mb - first_mb) / ((last_n - first_n) / 1000)
        lines.append(
            f"| resident memory of {name} (tracker store PostgreSQL, 60 min session expiry) | {points[0][1]:.0f} MB "
            f"started, {first_mb:.0f} MB after {first_n:,} conversations, {last_mb:.0f} MB after {last_n:,} "
            f"({per_thousand:+.2f} MB per 1,000) | flat |")
    lines.append(
        f"| failover: rasa-0 killed (SIGKILL) under 20 chatting customers, a line a second | its {moved} "
        f"conversations answered again after at most {max(gaps, default=float('nan')):.2f} s "
        f"(median {percentile(gaps, 50):.2f} s), "
        f"{failed} lines not answered | \u2264 5 s |")
    for line in lines:
        print(line, flush=True)
    return lines

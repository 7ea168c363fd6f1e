"""The gateway's Rasa shards (api/rasa_shards.py) against real HTTP servers that answer as Rasa's
REST channel does, and on request as a dead, hanging or broken one. The same behaviour with real
Rasa servers killed for real is in tests/e2e/test_shards.py."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from api.rasa_client import RasaUnavailable
from api.rasa_shards import LocalTurns, RasaShards, RedisTurns, preference
from bot.settings import Settings


class FakeRasa:
    """One shard: records every line it receives; `mode` makes it misbehave."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, str]] = []
        self.metadata: list[dict | None] = []
        self.mode = "ok"  # ok | hang | garbage | drop
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight: Counter[str] = Counter()
        self.most_at_once = 0
        self.server: TestServer | None = None

    def app(self) -> web.Application:
        async def webhook(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            sender = body["sender"]
            self.seen.append((sender, body["message"]))
            self.metadata.append(body.get("metadata"))
            if self.mode == "drop":  # the process dies with the line half done
                assert request.transport is not None
                request.transport.abort()
                raise ConnectionResetError
            if self.mode == "garbage":
                return web.json_response({"not": "a list"})
            self.in_flight[sender] += 1
            self.most_in_flight[sender] = max(self.most_in_flight[sender], self.in_flight[sender])
            self.most_at_once = max(self.most_at_once, sum(self.in_flight.values()))
            try:
                await asyncio.sleep(5 if self.mode == "hang" else 0.05)
            finally:
                self.in_flight[sender] -= 1
            return web.json_response([{"recipient_id": sender, "text": f"{self.name}: {body['message']}"}])

        async def root(request: web.Request) -> web.Response:
            if self.mode != "ok":
                return web.Response(status=500, text="broken")
            return web.Response(text="Hello from Rasa: 3.6.21")

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        app.router.add_get("/", root)
        return app

    async def start(self, port: int | None = None) -> str:
        self.server = TestServer(self.app(), port=port)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def stop(self) -> None:
        assert self.server is not None
        await self.server.close()


async def shards(count: int, timeout: float = 2.0) -> tuple[list[FakeRasa], RasaShards]:
    fakes = [FakeRasa(f"shard{i}") for i in range(count)]
    urls = [await fake.start() for fake in fakes]
    return fakes, RasaShards(urls, timeout=timeout, check_seconds=0.2)


async def close(fakes: list[FakeRasa], gateway: RasaShards) -> None:
    await gateway.close()
    for fake in fakes:
        if fake.server is not None and fake.server.runner is not None:
            await fake.stop()


def conversation_homed_on(gateway: RasaShards, shard: int) -> str:
    return next(f"conv-{n}" for n in range(1000) if preference(gateway.urls, f"conv-{n}")[0] == shard)


def test_a_conversation_keeps_its_shard_and_conversations_spread_over_all_of_them():
    urls = [f"http://rasa-{i}:5005" for i in range(3)]
    homes = Counter(preference(urls, f"conversation-{n}")[0] for n in range(3000))
    assert set(homes) == {0, 1, 2}
    assert min(homes.values()) > 800  # about 1,000 each
    assert all(preference(urls, f"conversation-{n}") == preference(list(urls), f"conversation-{n}")
               for n in range(100))


def test_adding_a_shard_moves_only_the_conversations_the_new_shard_takes():
    three = [f"http://rasa-{i}:5005" for i in range(3)]
    four = [*three, "http://rasa-3:5005"]
    ids = [f"conversation-{n}" for n in range(4000)]
    moved = [c for c in ids if three[preference(three, c)[0]] != four[preference(four, c)[0]]]
    assert all(preference(four, c)[0] == 3 for c in moved)  # nothing moves between the old shards
    assert 0.2 < len(moved) / len(ids) < 0.3  # about a quarter: what the new shard should carry


async def test_each_line_goes_to_its_conversations_home_shard():
    fakes, gateway = await shards(3)
    try:
        for n in range(30):
            replies = await gateway.send(f"c{n}", "hello")
            home = preference(gateway.urls, f"c{n}")[0]
            assert replies == [{"recipient_id": f"c{n}", "text": f"shard{home}: hello"}]
        assert sum(len(fake.seen) for fake in fakes) == 30
    finally:
        await close(fakes, gateway)


async def test_a_conversation_whose_shard_is_gone_is_answered_by_its_next_shard_and_goes_back_later():
    fakes, gateway = await shards(3)
    try:
        conversation = conversation_homed_on(gateway, 0)
        second = preference(gateway.urls, conversation)[1]
        port = fakes[0].server.port
        await fakes[0].stop()

        replies = await gateway.send(conversation, "are you there")
        assert replies[0]["text"] == f"shard{second}: are you there"
        assert gateway.up[0] is False
        assert fakes[second].seen == [(conversation, "are you there")]

        await fakes[0].start(port=port)  # the shard is back, on its address
        assert await gateway.check() == [True, True, True]
        replies = await gateway.send(conversation, "and now")
        assert replies[0]["text"] == "shard0: and now"
    finally:
        await close(fakes, gateway)


async def test_a_shard_that_drops_the_line_unanswered_is_down_and_the_line_goes_to_the_next_one():
    fakes, gateway = await shards(2)
    try:
        conversation = conversation_homed_on(gateway, 0)
        fakes[0].mode = "drop"
        replies = await gateway.send(conversation, "my order 48213")
        assert replies == [{"recipient_id": conversation, "text": "shard1: my order 48213"}]
        assert gateway.up == [False, True]
        # One reply to the customer's line, from the shard that finished it.
        assert fakes[1].seen == [(conversation, "my order 48213")]
        # Both attempts carry the same key for the line, so what an action makes, it makes once.
        assert fakes[0].metadata == fakes[1].metadata and len(fakes[0].metadata[0]["line"]) == 32
        await gateway.send(conversation, "another line")
        assert fakes[1].metadata[1]["line"] != fakes[1].metadata[0]["line"]
    finally:
        await close(fakes, gateway)


@pytest.mark.parametrize("mode", ["hang", "garbage"])
async def test_a_shard_that_hangs_or_answers_garbage_is_down_and_its_line_is_not_sent_twice(mode):
    fakes, gateway = await shards(2, timeout=0.5)
    try:
        conversation = conversation_homed_on(gateway, 0)
        fakes[0].mode = mode
        with pytest.raises(RasaUnavailable):
            await gateway.send(conversation, "hello")
        assert gateway.up == [False, True]
        assert fakes[1].seen == []  # it may still be working on it: not relayed, not resent
        # Until its health check passes, its conversations go to the next shard.
        replies = await gateway.send(conversation, "hello again")
        assert replies[0]["text"] == "shard1: hello again"
        assert await gateway.check() == [False, True]
        fakes[0].mode = "ok"
        assert await gateway.check() == [True, True]
        assert gateway.home(conversation) == 0
    finally:
        await close(fakes, gateway)


async def test_a_single_shard_that_answers_again_is_up_again_without_a_health_check():
    """With one shard there is no health-check loop: its next answer says it is back (issue 19: its
    support_rasa_shard_up gauge stayed 0 after a load run's timeouts)."""
    from prometheus_client import REGISTRY

    [fake], gateway = await shards(1)
    try:
        fake.mode = "garbage"
        with pytest.raises(RasaUnavailable):
            await gateway.send("c1", "hello")
        assert gateway.up == [False] and REGISTRY.get_sample_value("support_rasa_shard_up", {"shard": "0"}) == 0
        fake.mode = "ok"
        assert await gateway.send("c1", "hello again")
        assert gateway.up == [True] and REGISTRY.get_sample_value("support_rasa_shard_up", {"shard": "0"}) == 1
    finally:
        await close([fake], gateway)


async def test_with_every_shard_down_the_line_is_refused_as_unavailable():
    fakes, gateway = await shards(2)
    try:
        for fake in fakes:
            await fake.stop()
        with pytest.raises(RasaUnavailable):
            await gateway.send("c1", "hello")
        assert gateway.up == [False, False]
    finally:
        await close(fakes, gateway)


async def test_one_line_per_conversation_reaches_rasa_at_a_time_and_conversations_run_side_by_side():
    fakes, gateway = await shards(1)
    try:
        lines = [gateway.send(conversation, f"line {n}") for conversation in ("a", "b", "c", "d") for n in range(4)]
        await asyncio.gather(*lines)
        assert fakes[0].most_in_flight == {"a": 1, "b": 1, "c": 1, "d": 1}
        assert fakes[0].most_at_once > 1  # while other conversations' lines were in flight together
        assert [text for sender, text in fakes[0].seen if sender == "a"] == [f"line {n}" for n in range(4)]
        assert len(gateway.turns) == 0  # nothing kept once no line is in flight
    finally:
        await close(fakes, gateway)


async def test_turns_are_forgotten_when_a_line_fails():
    turns = LocalTurns()
    with pytest.raises(RuntimeError):
        async with turns.turn("a"):
            raise RuntimeError("boom")
    assert len(turns) == 0


@pytest.mark.parametrize(("variables", "message"), [
    ({"RASA_SHARDS": "0"}, "greater than or equal to 1"),
    ({"RASA_URL": "rasa:5005"}, "http(s):// URLs"),
    ({"RASA_URL": "http://a:5005,http://a:5005"}, "twice"),
])
def test_settings_that_cannot_work_are_refused(monkeypatch, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings()


def test_several_rasa_urls_are_read_as_shards(monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://rasa-0:5005, http://rasa-1:5005")
    assert Settings().rasa_urls == ["http://rasa-0:5005", "http://rasa-1:5005"]


async def test_two_api_processes_sharing_redis_let_one_line_per_conversation_through(redis_url):
    """Two gateways (as two API processes) with one Redis: a conversation's lines arriving at both
    still reach Rasa one at a time."""
    fakes, first = await shards(1)
    second = RasaShards(first.urls, timeout=2.0, turns=RedisTurns(redis_url, hold_seconds=10, wait_seconds=10))
    first.turns = RedisTurns(redis_url, hold_seconds=10, wait_seconds=10)
    try:
        lines = [gateway.send(conversation, f"line {n}")
                 for n in range(3) for gateway in (first, second) for conversation in ("a", "b")]
        replies = await asyncio.gather(*lines)
        assert len(replies) == 12 and all(reply[0]["text"].startswith("shard0: line") for reply in replies)
        assert fakes[0].most_in_flight == {"a": 1, "b": 1}
        assert fakes[0].most_at_once > 1
    finally:
        await second.close()
        await close(fakes, first)


async def test_with_redis_down_lines_still_go_through_one_at_a_time_in_each_process():
    fakes, gateway = await shards(1)
    gateway.turns = RedisTurns("redis://127.0.0.1:9/0", hold_seconds=10, wait_seconds=10)  # nothing listens
    try:
        replies = await asyncio.gather(*(gateway.send("a", f"line {n}") for n in range(3)))
        assert [reply[0]["text"] for reply in replies] == [f"shard0: line {n}" for n in range(3)]
        assert fakes[0].most_in_flight == {"a": 1}
    finally:
        await close(fakes, gateway)

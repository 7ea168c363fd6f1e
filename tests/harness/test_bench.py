"""The benchmark's own logic: what counts as an error, where visits start, percentiles."""

from actions.common import DATABASE_TROUBLE
from bot.settings import PROJECT_ROOT
from harness.bench import FAILURE_MARKERS, PHASE_STARTS, is_failure, mixed_script, percentile


def test_empty_or_malformed_replies_are_failures():
    assert is_failure([])
    assert is_failure(None)
    assert is_failure({"text": "hi"})


def test_apologies_for_a_broken_system_are_failures():
    assert is_failure([{"recipient_id": "x", "text": DATABASE_TROUBLE}])
    assert is_failure([{"text": "Here you go."}, {"text": FAILURE_MARKERS[0] + " and more"}])


def test_ordinary_answers_and_custom_payloads_are_not_failures():
    assert not is_failure([{"recipient_id": "x", "text": "Standard delivery takes 2-4 working days."}])
    assert not is_failure([{"recipient_id": "x", "custom": {"handoff": {"reason": "customer_asked"}}}])


def test_failure_markers_match_the_texts_the_system_sends():
    channel_source = (PROJECT_ROOT / "channels" / "rest.py").read_text(encoding="utf-8")
    assert FAILURE_MARKERS[0] in channel_source
    assert DATABASE_TROUBLE.startswith(FAILURE_MARKERS[1])


def test_visits_are_joined_at_the_start_of_a_phase():
    script = mixed_script("TCK-ABC234", "someone@example.com")
    assert [script[index] for index in PHASE_STARTS] == [
        "hi", "I want to open a ticket", "what's the status of my ticket?"]


def test_percentile_picks_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0


def _gateway_answering(messages: list[dict], status: int = 200):
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/sessions"):
            return httpx.Response(201, json={"session_id": "c1", "token": "t"})
        return httpx.Response(status, json={"messages": messages, "state": "bot"})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def _said(messages: list[dict], status: int = 200, text: str = "hello") -> bool:
    import asyncio

    from harness.bench import GatewayTarget

    async def go() -> bool:
        async with _gateway_answering(messages, status) as client:
            line = await GatewayTarget("http://api").open(client)
            assert line.conversation == "c1"
            return await line.say(text)

    return asyncio.run(go())


def test_through_the_gateway_the_apology_for_a_bot_that_is_not_answering_is_a_failure():
    from bot.conversations.relay import BOT_UNAVAILABLE

    customer = {"sender": "customer", "text": "hello"}
    assert _said([customer, {"sender": "bot", "text": "Hi! How can I help?"}])
    assert not _said([customer, {"sender": "system", "text": BOT_UNAVAILABLE}])
    assert not _said([customer])  # the customer's own line came back and nothing else
    assert not _said([], status=503)


def test_resident_memory_of_a_process_group_counts_this_process():
    import os

    from harness.bench.scale import resident_mb

    own = int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS:")).split()[1]) / 1024
    assert resident_mb(os.getpgid(0)) >= own * 0.9
    assert resident_mb(2**22 + 12345) == 0  # no such group

"""The brokers: channels added and dropped while subscribed, and Redis carrying events
between two brokers as between two API processes."""

from __future__ import annotations

import asyncio
import threading
import time

from api.live.broker import LocalBroker, RedisBroker, make_broker


async def next_event(subscription, timeout: float = 5.0) -> dict:
    return await asyncio.wait_for(subscription.get(), timeout)


async def test_a_subscription_hears_only_its_channels_and_can_change_them():
    broker = LocalBroker()
    async with broker.subscribe(["a"]) as subscription:
        broker.publish("b", {"n": 1})
        broker.publish("a", {"n": 2})
        assert await next_event(subscription) == {"n": 2, "channel": "a"}
        subscription.add("b")
        subscription.discard("a")
        broker.publish("a", {"n": 3})
        broker.publish("b", {"n": 4})
        assert await next_event(subscription) == {"n": 4, "channel": "b"}
    assert broker.subscriber_count("a") == broker.subscriber_count("b") == 0


async def test_events_cross_between_two_brokers_through_redis(redis_url):
    first, second = RedisBroker(redis_url, prefix="test1:"), RedisBroker(redis_url, prefix="test1:")
    await first.start()
    await second.start()
    try:
        async with second.subscribe(["conversation:x"]) as subscription:
            first.publish("conversation:x", {"type": "changed"})
            first.publish("conversation:y", {"type": "changed"})
            second.publish("conversation:x", {"type": "typing", "typing": True})
            # Each broker sends in its own order; between two of them, either may come first.
            heard = [await next_event(subscription), await next_event(subscription)]
            assert sorted(heard, key=lambda event: event["type"]) == [
                {"type": "changed", "channel": "conversation:x"},
                {"type": "typing", "typing": True, "channel": "conversation:x"}]
    finally:
        await first.stop()
        await second.stop()


def test_redis_is_used_only_when_configured(redis_url):
    assert type(make_broker(None)) is LocalBroker
    assert type(make_broker(redis_url)) is RedisBroker


async def test_one_broker_delivers_in_the_order_published(redis_url):
    broker = RedisBroker(redis_url, prefix="test2:")
    await broker.start()
    try:
        async with broker.subscribe(["conversation:x"]) as subscription:
            for n in range(50):
                broker.publish("conversation:x", {"n": n})
            assert [(await next_event(subscription))["n"] for _ in range(50)] == list(range(50))
    finally:
        await broker.stop()


def test_publishing_never_waits_on_redis_and_a_failed_send_is_logged(caplog):
    broker = RedisBroker("redis://127.0.0.1:1/0")  # nothing listens there
    sending, release = threading.Event(), threading.Event()
    real_pipeline = broker._client.pipeline

    def stuck_pipeline(*args, **kwargs):
        pipeline = real_pipeline(*args, **kwargs)
        send = pipeline.execute

        def execute():
            sending.set()
            release.wait(30)  # Redis is not answering
            return send()

        pipeline.execute = execute
        return pipeline

    broker._client.pipeline = stuck_pipeline
    broker.publish("queue", {"type": "changed"})
    assert sending.wait(10), "the first event never reached the sender"
    for _ in range(100):  # every one returns while the sender is still waiting on Redis
        broker.publish("queue", {"type": "changed"})
    assert broker._outbox.qsize() == 100
    release.set()
    deadline = time.monotonic() + 10
    while "could not publish to Redis" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "could not publish to Redis" in caplog.text


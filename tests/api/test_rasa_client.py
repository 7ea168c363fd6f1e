"""The API's Rasa client against a real HTTP server that answers as Rasa's REST channel and
trigger_intent API do (and, on request, as a broken or absent Rasa)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from api.rasa_client import RasaClient, RasaUnavailable


def rasa_app(seen: list) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(("webhook", body))
        if body["message"] == "broken":
            return web.json_response({"error": "not a list"})
        if body["message"] == "crash":
            return web.json_response({"message": "internal error"}, status=500)
        if body["message"] == "slow":
            await asyncio.sleep(2)
        return web.json_response([{"recipient_id": body["sender"], "text": f"You said: {body['message']}"},
                                  "not a message", {"recipient_id": body["sender"], "custom": {"handoff": {}}}])

    async def trigger(request: web.Request) -> web.Response:
        if request.query.get("token") != "rasa-secret":
            return web.json_response({"message": "not authorised"}, status=401)
        body = await request.json()
        seen.append(("trigger", request.match_info["sender"], request.query.get("output_channel"), body))
        return web.json_response({"tracker": {}, "messages": [{"recipient_id": "x", "text": "Welcome back"}]})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/trigger_intent", trigger)
    return app


def run(scenario, token: str | None = "rasa-secret", timeout: float = 5.0):
    """Run `scenario(client, seen)` against a fresh server; what it returns, and what Rasa saw."""
    seen: list = []

    async def main():
        async with TestServer(rasa_app(seen)) as server:
            client = RasaClient(str(server.make_url("/")), token=token, timeout=timeout)
            try:
                return await scenario(client)
            finally:
                await client.close()

    return asyncio.run(main()), seen


def test_send_posts_sender_and_message_and_keeps_only_message_objects():
    replies, seen = run(lambda client: client.send("abc", "hello"))
    assert seen == [("webhook", {"sender": "abc", "message": "hello"})]
    assert replies == [{"recipient_id": "abc", "text": "You said: hello"},
                       {"recipient_id": "abc", "custom": {"handoff": {}}}]


def test_one_client_serves_many_messages():
    async def chat(client):
        return [await client.send("abc", text) for text in ("one", "two", "three")]

    replies, seen = run(chat)
    assert [reply[0]["text"] for reply in replies] == ["You said: one", "You said: two", "You said: three"]
    assert len(seen) == 3


@pytest.mark.parametrize("message", ["broken", "crash"])
def test_an_unexpected_or_failed_answer_is_unavailable(message):
    with pytest.raises(RasaUnavailable):
        run(lambda client: client.send("abc", message))


def test_a_slow_bot_is_unavailable_after_the_timeout():
    with pytest.raises(RasaUnavailable):
        run(lambda client: client.send("abc", "slow"), timeout=0.3)


def test_an_absent_bot_is_unavailable():
    async def scenario():
        client = RasaClient("http://127.0.0.1:9", timeout=2)  # the discard port: nothing listens
        try:
            await client.send("abc", "hello")
        finally:
            await client.close()

    with pytest.raises(RasaUnavailable):
        asyncio.run(scenario())


def test_trigger_intent_sends_the_token_and_returns_the_bots_messages():
    messages, seen = run(lambda client: client.trigger_intent("abc", "EXTERNAL_handoff_done", {"agent": "Sam"}))
    assert messages == [{"recipient_id": "x", "text": "Welcome back"}]
    assert seen == [("trigger", "abc", "latest", {"name": "EXTERNAL_handoff_done", "entities": {"agent": "Sam"}})]


def test_trigger_intent_without_the_token_is_refused_by_rasa_and_unavailable():
    with pytest.raises(RasaUnavailable):
        run(lambda client: client.trigger_intent("abc", "EXTERNAL_handoff_done", {"agent": "Sam"}), token=None)

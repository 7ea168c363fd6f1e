"""Issue 19 in a real run: every process's /metrics (the API, the action server, the Rasa server) is
scraped with the stack's METRICS_TOKEN and refused without it; the counters move with a scripted
conversation (a line the bot does not understand, a request for a person, an agent's claim); and one
request id, given to the API, is found in the log lines of the API, of Rasa and of the action it ran."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.lines import unplaceable
from tests.e2e.staff import signed_in_agent

pytestmark = pytest.mark.e2e


def scrape(url: str, token: str) -> dict[tuple[str, tuple], float]:
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def total(samples, name: str, **labels) -> float:
    """The sum of `name` over the samples whose labels include `labels`."""
    return sum(value for (found, sample_labels), value in samples.items()
               if found == name and set(labels.items()) <= set(sample_labels))


def test_every_process_is_scraped_and_its_counters_move_with_a_conversation(stack):
    api_url = f"http://{stack.host}:{stack.api_port}"
    endpoints = {"api": f"{api_url}/metrics", "actions": f"http://{stack.host}:{stack.action_port}/metrics",
                 "rasa": f"http://{stack.host}:{stack.rasa_port}/webhooks/rest/metrics"}
    for url in endpoints.values():  # not public
        assert httpx.get(url, timeout=30).status_code == 404, url
        assert httpx.get(url, headers={"Authorization": "Bearer nope"}, timeout=30).status_code == 404, url
    before = {name: scrape(url, stack.metrics_token) for name, url in endpoints.items()}

    client, sam = signed_in_agent(stack, "obs.agent@example.com", "Obi")
    assert client.put("/auth/me/presence", json={"presence": "online"}, headers=sam).status_code == 200
    chat = httpx.Client(base_url=f"{api_url}/api/v1/chat", timeout=60)
    created = chat.post("/sessions", json={"name": "Olga"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    say = f"/sessions/{created['session_id']}/messages"
    assert chat.post(say, json={"text": "hello"}, headers=headers).json()["state"] == "bot"
    assert chat.post(say, json={"text": unplaceable(stack)}, headers=headers).json()["state"] == "bot"
    assert chat.post(say, json={"text": "I want to talk to a real person"}, headers=headers).json()["state"] == "queued"
    [waiting] = [handoff for handoff in client.get("/handoffs", headers=sam).json()
                 if handoff["conversation_id"] == created["session_id"]]
    assert client.post(f"/handoffs/{waiting['id']}/claim", headers=sam).status_code == 200

    after = {name: scrape(url, stack.metrics_token) for name, url in endpoints.items()}

    def moved(process: str, name: str, **labels) -> float:
        return total(after[process], name, **labels) - total(before[process], name, **labels)

    assert moved("api", "support_customer_lines_total") == 3
    assert moved("api", "support_bot_fallbacks_total") >= 1
    assert moved("api", "support_handoffs_requested_total", reason="requested", outcome="queued") == 1
    assert moved("api", "support_handoffs_claimed_total") == 1
    assert moved("api", "support_bot_reply_seconds_count", shard="0") == 3
    assert moved("api", "support_http_requests_total", route="/api/v1/handoffs/{handoff_id}/claim",
                 status="200") == 1
    assert total(after["api"], "support_rasa_shard_up", shard="0") == 1
    assert total(after["api"], "support_agents_online") >= 1
    assert moved("actions", "support_actions_total", action="action_request_human", outcome="ok") == 1
    assert moved("rasa", "support_rasa_lines_total") == 3
    assert moved("rasa", "support_rasa_line_seconds_count") == 3
    print({process: len(samples) for process, samples in after.items()}, "samples scraped")


def test_one_request_id_is_followed_from_the_api_through_rasa_to_the_action(stack):
    trace = f"e2e-trace-{uuid.uuid4().hex[:12]}"
    chat = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = chat.post("/sessions", json={"name": "Tess"}).json()
    answer = chat.post(f"/sessions/{created['session_id']}/messages", json={"text": "Can I speak to a human agent"},
                       headers={"Authorization": f"Bearer {created['token']}", "X-Request-ID": trace})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == trace

    def traced() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for line in list(stack.logs):
            if f"[request {trace}]" in line:
                found.setdefault(line.split("|", 1)[0].strip(), []).append(line)
        return found

    deadline = time.monotonic() + 20
    while set(traced()) < {"api", "rasa-0", "actions"} and time.monotonic() < deadline:
        time.sleep(0.5)  # a process's lines reach the collector a moment after they are written
    found = traced()
    assert {"api", "rasa-0", "actions"} <= set(found), found
    assert any("/api/v1/chat/sessions/{session_id}/messages 200" in line for line in found["api"]), found["api"]
    assert any("a line for" in line for line in found["rasa-0"]), found["rasa-0"]
    assert any("ran action_" in line for line in found["actions"]), found["actions"]
    assert not any("speak to a human" in line for lines in found.values() for line in lines)

"""Issue 19, the API's part: a request id on every answer and log line, Prometheus metrics behind
METRICS_TOKEN that move with what customers and agents do (by route template, never a conversation id),
JSON log lines, and liveness and readiness that mean something."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.main import create_app
from api.rasa_shards import RasaShards
from bot.observability import RequestContext, configure_logging, json_formatter, request_id
from harness.stack import free_port
from tests.api.support import queued_customer, staff

TOKEN = "metrics-" + "x" * 40


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def observed(client, configure):
    configure(metrics_token=TOKEN)
    return client


def test_each_answer_carries_a_request_id_the_caller_s_when_it_is_sensible(client):
    given = client.get("/health", headers={"X-Request-ID": "trace-48213.a:b"})
    assert given.headers["x-request-id"] == "trace-48213.a:b"
    made = client.get("/health").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    odd = client.get("/health", headers={"X-Request-ID": "no spaces or\ttabs, please"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", odd)
    assert client.get("/no/such/page").headers["x-request-id"]


def test_metrics_are_not_public(client, configure):
    assert client.get("/metrics").status_code == 404  # no METRICS_TOKEN: off
    configure(metrics_token=TOKEN)
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert "/metrics" not in client.app.openapi()["paths"]


def test_counters_move_with_a_conversation_a_fallback_a_handoff_and_a_claim(observed):
    client = observed
    before = scrape(client)
    created = client.post("/api/v1/chat/sessions", json={"name": "Ada"}).json()
    chat = {"Authorization": f"Bearer {created['token']}"}
    url = f"/api/v1/chat/sessions/{created['session_id']}/messages"
    client.post(url, json={"text": "where is my parcel"}, headers=chat)
    client.post(url, json={"text": "gibberish qwerty"}, headers=chat)
    session_id, _ = queued_customer(client, "Bo")
    ann = staff(client, "ann")
    handoff = client.get("/api/v1/handoffs", headers=ann).json()[0]["id"]
    assert client.post(f"/api/v1/handoffs/{handoff}/claim", headers=ann).status_code == 200
    after = scrape(client)

    def moved(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("support_customer_lines_total") == 3
    assert moved("support_bot_replies_total") == 3
    assert moved("support_bot_fallbacks_total") == 1
    assert moved("support_handoffs_requested_total", reason="requested", outcome="queued") == 1
    assert moved("support_handoffs_claimed_total") == 1
    route = "/api/v1/chat/sessions/{session_id}/messages"
    assert moved("support_http_requests_total", route=route, method="POST", status="200") == 3
    assert moved("support_http_request_seconds_count", route=route, method="POST") == 3
    # What the database knows, read at the scrape: Bo's request was taken, so nobody waits.
    assert value(after, "support_queue_length") == 0 and value(after, "support_agents_online") == 2
    assert value(after, "support_outbox_emails", status="failed") == 0
    assert value(after, "support_alert_active", rule="csat-low") == 0
    # No label anywhere names a conversation.
    assert not any(session_id in str(labels) or created["session_id"] in str(labels) for _, labels in after)


def test_waiting_customers_show_in_the_queue_gauges(observed):
    queued_customer(observed, "Cy")
    samples = scrape(observed)
    assert value(samples, "support_queue_length") == 1
    assert value(samples, "support_queue_oldest_wait_seconds") >= 0


def test_a_json_log_line_has_the_request_id_and_no_customer_words(observed, caplog):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestContext("api"))
    logging.getLogger("api.access").addHandler(handler)
    try:
        created = observed.post("/api/v1/chat/sessions", json={"name": "Ada"}).json()
        observed.post(f"/api/v1/chat/sessions/{created['session_id']}/messages", json={"text": "my secret words"},
                      headers={"Authorization": f"Bearer {created['token']}", "X-Request-ID": "trace-json-1"})
    finally:
        logging.getLogger("api.access").removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [line] = [line for line in lines if line["request_id"] == "trace-json-1"]
    assert (line["level"], line["process_name"], line["logger"]) == ("INFO", "api", "api.access")
    assert (line["route"], line["method"], line["status"]) == ("/api/v1/chat/sessions/{session_id}/messages",
                                                                "POST", 200)
    assert line["duration_ms"] >= 0 and line["time"]
    assert "my secret words" not in stream.getvalue() and created["session_id"] not in line["message"]


def test_human_lines_end_with_the_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.observe.human")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    handler.addFilter(RequestContext("api", text=True))
    token = request_id.set("trace-text-7")
    try:
        logger.info("took %s", "a line")
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    assert stream.getvalue().strip() == "took a line [request trace-text-7]"


def test_configuring_twice_adds_one_filter_and_json_when_asked():
    configure_logging("api", "text")
    configure_logging("api", "text")
    root = logging.getLogger()
    assert all(sum(isinstance(f, RequestContext) for f in h.filters) == 1 for h in root.handlers)
    assert logging.getLogger("httpx").level == logging.WARNING


def test_live_always_and_ready_when_the_database_and_rasa_answer(client):
    assert client.get("/health/live").json() == {"status": "live"}
    assert client.get("/health/ready").json()["status"] == "ready"


def test_not_ready_without_a_rasa_shard(app_db, configure):
    dead = RasaShards([f"http://127.0.0.1:{free_port()}"], check_seconds=0.2)
    with TestClient(create_app(rasa=dead)) as client:
        answer = client.get("/health/ready")
        assert answer.status_code == 503
        assert answer.json()["rasa_shards"] == {"up": 0, "of": 1, "needed": 1}
        assert answer.json()["database"] == "ok" and client.get("/health/live").status_code == 200


def test_not_ready_when_redis_does_not_answer_and_the_error_is_counted(client, configure):
    from prometheus_client import REGISTRY

    configure(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    before = REGISTRY.get_sample_value("support_redis_errors_total") or 0
    answer = client.get("/health/ready")
    assert answer.status_code == 503 and answer.json()["redis"] != "ok"
    assert REGISTRY.get_sample_value("support_redis_errors_total") == before + 1

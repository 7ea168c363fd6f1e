"""Prometheus metrics (prometheus-client), defined once for every process of ours: each process moves the
counters of what it does, and serves them at GET /metrics behind METRICS_TOKEN (bot.metrics.exposition).
Labels stay few and bounded (a route's template, a status, a reason, a shard's number): never a
conversation id or an address. With several API processes (API_WORKERS), PROMETHEUS_MULTIPROC_DIR (set
by `make run`) lets whichever process is scraped answer for all of them.

What the database knows (queue length, agents online, the outbox, active alerts) is read when scraped
(StateCollector), once, whichever process answers; docs/operations.md lists every metric."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger(__name__)

SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("support_http_requests_total", "HTTP requests answered, by route template, method and "
                        "status", ["route", "method", "status"])
HTTP_SECONDS = Histogram("support_http_request_seconds", "time to answer an HTTP request, by route template and "
                         "method", ["route", "method"], buckets=SECONDS)
CUSTOMER_LINES = Counter("support_customer_lines_total", "lines customers wrote in chats")
BOT_REPLIES = Counter("support_bot_replies_total", "customer lines the bot answered")
BOT_FALLBACKS = Counter("support_bot_fallbacks_total", "customer lines the bot did not understand")
BOT_UNANSWERED = Counter("support_bot_unavailable_total", "customer lines no Rasa shard answered")
BOT_REPLY_SECONDS = Histogram("support_bot_reply_seconds", "a customer line to the bot's answer, through the "
                              "gateway, by Rasa shard (0, 1, ...)", ["shard"], buckets=SECONDS)
SHARD_UP = Gauge("support_rasa_shard_up", "1 while the gateway sees the Rasa shard healthy", ["shard"],
                 multiprocess_mode="livemin")
HANDOFFS_REQUESTED = Counter("support_handoffs_requested_total", "requests for a person, by reason and outcome "
                             "(queued; unavailable: nobody could come, a ticket instead)", ["reason", "outcome"])
HANDOFFS_CLAIMED = Counter("support_handoffs_claimed_total", "requests for a person an agent took")
WEBSOCKETS = Gauge("support_websocket_connections", "open WebSocket connections, by side (customer, agent)",
                   ["side"], multiprocess_mode="livesum")
DATABASE_ERRORS = Counter("support_database_errors_total", "database errors (answered 503), by kind",
                          ["kind"])
REDIS_ERRORS = Counter("support_redis_errors_total", "Redis calls that failed")
ACTIONS_RUN = Counter("support_actions_total", "custom actions run by the action server, by action and outcome",
                      ["action", "outcome"])
ACTION_SECONDS = Histogram("support_action_seconds", "time a custom action took, by action", ["action"],
                           buckets=SECONDS)


# The reasons the bot and the API give for a request for a person (actions/conversation.py, the console).
HANDOFF_REASONS = frozenset({"requested", "fallback", "recovery"})


def handoff_requested(reason: str, outcome: str) -> None:
    """`outcome`: queued, or unavailable (nobody could come: a ticket instead)."""
    HANDOFFS_REQUESTED.labels(reason if reason in HANDOFF_REASONS else "other", outcome).inc()


class StateCollector(Collector):
    """Gauges read from the database when scraped: whatever process answers, they are the same."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from bot.metrics_state import current_state  # the database, only when scraped

        try:
            state = current_state()
        except Exception:  # noqa: BLE001 - a scrape must answer: the error counts instead
            logger.exception("could not read the service's state for /metrics")
            DATABASE_ERRORS.labels("scrape").inc()
            return
        for name, help_text, value, labels in state:
            family = GaugeMetricFamily(name, help_text, labels=list(labels))
            for label_values, number in (value.items() if isinstance(value, dict) else [((), value)]):
                family.add_metric(list(label_values), number)
            yield family


def allowed(authorization: str | None, token: str | None) -> bool:
    """A scrape is answered only with `Authorization: Bearer <METRICS_TOKEN>`."""
    if not token:
        return False
    return hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_processes(directory: str) -> None:
    """The live gauges (WebSockets open, shards up) of an API process that has died stop counting: uvicorn
    restarts a worker without telling prometheus-client, so the scrape looks for their files itself."""
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), directory)


def exposition(*, with_state: bool = True) -> tuple[bytes, str]:
    """What a scrape gets, and its content type: every process's metrics (multiprocess mode) or this
    process's own; then, `with_state` (the API), the state read from the database."""
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        forget_dead_processes(directory)
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
        text = generate_latest(processes)
    else:
        text = generate_latest(REGISTRY)
    if not with_state:
        return text, CONTENT_TYPE_LATEST
    state = CollectorRegistry()
    state.register(StateCollector())
    return text + generate_latest(state), CONTENT_TYPE_LATEST

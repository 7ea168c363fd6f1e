"""The action server, kept private: `python -m actions.server [--port 5055]`.

rasa-sdk's own server (`python -m rasa_sdk`) listens on every address and runs any action for
anyone who posts a tracker to /webhook: a forged tracker could open tickets for any e-mail, add
notes to tickets, store survey answers or reset the failed look-up counter. This one is the same
server with two promises added:
- it listens on ACTION_HOST, the loopback address unless a private network is configured;
- every call but /health must carry `Authorization: Bearer <ACTION_SERVER_TOKEN>` (Rasa's
  action endpoint sends it: see endpoints.yml), else 401 and nothing runs. Without a token the
  server does not start.
"""

from __future__ import annotations

import hmac
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

from bot.metrics import ACTION_SECONDS, ACTIONS_RUN, allowed, exposition
from bot.observability import REQUEST_ID_HEADER, configure_logging, conversation_id, new_request_id, request_id

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
METRICS_PATH = "/metrics"  # for a scraper with METRICS_TOKEN instead (bot.metrics)


def require_token(token: str) -> Callable[[Request], Awaitable[HTTPResponse | None]]:
    """Sanic request middleware: 401 unless the request carries the shared token."""
    expected = f"Bearer {token}".encode()

    async def check(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or request.path == METRICS_PATH:
            return None
        given = request.headers.get("authorization", "").encode()
        if hmac.compare_digest(given, expected):
            return None
        logger.warning("refused a call to %s from %s without the action server token", request.path, request.ip)
        return response.json({"error": "unauthorized",
                              "detail": "this action server answers its Rasa server only"}, status=401)

    return check


async def observe_start(request: Request) -> None:
    """Sanic request middleware: the action call's request id (the API's, in the line's metadata) and its
    conversation on every log line it causes; the clock started for support_action_seconds."""
    request.ctx.started = time.perf_counter()
    request.ctx.action = None
    if request.path != "/webhook":
        return
    try:
        call = request.json or {}
    except Exception:  # noqa: BLE001 - rasa-sdk answers a body that does not read
        return
    tracker = call.get("tracker") or {}
    metadata = (tracker.get("latest_message") or {}).get("metadata") or {}
    request_id.set(new_request_id(metadata.get("request_id") or request.headers.get(REQUEST_ID_HEADER)))
    conversation_id.set(tracker.get("sender_id"))
    request.ctx.action = call.get("next_action") if isinstance(call.get("next_action"), str) else None


async def observe_end(request: Request, answer: HTTPResponse) -> None:
    """Sanic response middleware: each action run counted, by action and outcome, and timed."""
    action = getattr(request.ctx, "action", None)
    if action is None:
        return
    action = action if action.startswith(("action_", "validate_", "utter_")) else "other"
    ACTIONS_RUN.labels(action, "ok" if answer.status < 400 else f"error {answer.status}").inc()
    ACTION_SECONDS.labels(action).observe(time.perf_counter() - request.ctx.started)
    logger.info("ran %s: %s", action, answer.status, extra={"action": action, "status": answer.status,
                                                           "duration_ms": round((time.perf_counter()
                                                                                 - request.ctx.started) * 1000, 1)})


def metrics_route(metrics_token: str | None) -> Callable[[Request], Awaitable[HTTPResponse]]:
    async def metrics(request: Request) -> HTTPResponse:
        if not allowed(request.headers.get("authorization"), metrics_token):
            return response.json({"error": "not found"}, status=404)
        body, content_type = exposition(with_state=False)
        return response.raw(body, content_type=content_type)

    return metrics


def create_app(executor: ActionExecutor, token: str, *, auto_reload: bool = False,
               metrics_token: str | None = None) -> Sanic:
    """rasa-sdk's app (no CORS: no browser has business here) behind the token check, observed (a
    request id on its log lines, each action counted and timed, GET /metrics for METRICS_TOKEN).
    Module-level so Sanic's worker processes can rebuild it."""
    from bot.settings import get_settings

    # Here, not only in main(): Sanic's worker process builds the app again and serves it.
    configure_logging("actions", get_settings().log_format, loggers=("sanic.root", "sanic.access", "sanic.error"))
    app = create_app_for_serve(executor, cors_origins="", auto_reload=auto_reload)
    app.register_middleware(require_token(token), "request")
    app.register_middleware(observe_start, "request")
    app.register_middleware(observe_end, "response")
    app.add_route(metrics_route(metrics_token), METRICS_PATH, methods=["GET"], name="metrics")
    return app


def main(argv: list[str] | None = None) -> None:
    from bot.settings import get_settings

    parser = create_argument_parser()
    parser.prog = "python -m actions.server"
    args = parser.parse_args(argv)
    settings = get_settings()
    if settings.action_server_token is None:
        sys.exit("ACTION_SERVER_TOKEN is not set: the action server refuses to start without it, since anyone "
                 "who reached it could otherwise open tickets and store answers for any customer. `make run` "
                 "makes one for each start; set the same value for Rasa (endpoints.yml) and this server.")
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    configure_logging("actions", settings.log_format, loggers=("sanic.root", "sanic.access", "sanic.error"))
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions or "actions")
    loader = AppLoader(factory=partial(create_app, executor, settings.action_server_token.get_secret_value(),
                                       auto_reload=args.auto_reload,
                                       metrics_token=settings.metrics_token.get_secret_value()
                                       if settings.metrics_token else None))
    app = loader.load()
    logger.info("action server on http://%s:%s (token required)", settings.action_host, args.port)
    app.prepare(host=settings.action_host, port=args.port, workers=utils.number_of_sanic_workers(),
                ssl=create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password))
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()

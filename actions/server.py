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
from collections.abc import Awaitable, Callable
from functools import partial

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.worker.loader import AppLoader

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def require_token(token: str) -> Callable[[Request], Awaitable[HTTPResponse | None]]:
    """Sanic request middleware: 401 unless the request carries the shared token."""
    expected = f"Bearer {token}".encode()

    async def check(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get("authorization", "").encode()
        if hmac.compare_digest(given, expected):
            return None
        logger.warning("refused a call to %s from %s without the action server token", request.path, request.ip)
        return response.json({"error": "unauthorized",
                              "detail": "this action server answers its Rasa server only"}, status=401)

    return check


def create_app(executor: ActionExecutor, token: str, *, auto_reload: bool = False) -> Sanic:
    """rasa-sdk's app (no CORS: no browser has business here) behind the token check. Module-level so
    Sanic's worker processes can rebuild it."""
    app = create_app_for_serve(executor, cors_origins="", auto_reload=auto_reload)
    app.register_middleware(require_token(token), "request")
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
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions or "actions")
    loader = AppLoader(factory=partial(create_app, executor, settings.action_server_token.get_secret_value(),
                                       auto_reload=args.auto_reload))
    app = loader.load()
    logger.info("action server on http://%s:%s (token required)", settings.action_host, args.port)
    app.prepare(host=settings.action_host, port=args.port, workers=utils.number_of_sanic_workers(),
                ssl=create_ssl_config(args.ssl_certificate, args.ssl_keyfile, args.ssl_password))
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()

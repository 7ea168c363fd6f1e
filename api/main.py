"""Application factory for the API (uvicorn api.main:create_app --factory)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from api import errors, logredact
from api.guard import RequestGuard
from api.live import agent as agent_socket
from api.live import customer as customer_socket
from api.live.broker import make_broker
from api.observe import Observe
from api.rasa_client import RasaClient
from api.rasa_shards import RasaShards, RedisTurns
from api.ratelimit import RateLimits
from api.routes import (
    audit,
    auth,
    chat,
    config,
    console,
    handoffs,
    mailbox,
    privacy,
    reports,
    ticket_page,
    tickets,
    users,
    web,
)
from api.sweeper import (
    check_alerts_forever,
    poll_mailbox_forever,
    purge_trackers_forever,
    send_mail_forever,
    sweep_forever,
)
from bot.db import get_engine
from bot.metrics import REDIS_ERRORS, allowed, exposition
from bot.observability import REQUEST_ID_HEADER, configure_logging
from bot.settings import Settings, get_settings

DESCRIPTION = """Customers chat through `/api/v1/chat` with the token their session was given (`ChatToken`);
staff sign in at `/api/v1/auth/token` (`OAuth2PasswordBearer`, or the console's cookie).

Every error has one shape, `ErrorOut`. Text anywhere in a request may not hold a NUL character or an
unpaired UTF-16 surrogate (JSON can spell both, `\\u0000` and `\\ud800`; no database stores them): such a
request is refused with 422 and nothing of it is stored. Request bodies are limited to REQUEST_MAX_BYTES
(413)."""


def create_app(rasa: RasaClient | RasaShards | None = None) -> FastAPI:
    """`rasa` replaces the client for the Rasa server (tests give a stand-in with its interface)."""
    settings = get_settings()
    configure_logging("api", settings.log_format, loggers=("uvicorn", "uvicorn.error", "uvicorn.access"))
    # api.access (api/observe.py) says what uvicorn's access line says, by route, with the request id.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logredact.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.broker.start()
        tasks = [asyncio.create_task(sweep_forever(app), name="queue sweep"),
                 asyncio.create_task(check_alerts_forever(), name="alert check"),
                 asyncio.create_task(purge_trackers_forever(), name="tracker purge"),
                 asyncio.create_task(send_mail_forever(), name="e-mail sending"),
                 asyncio.create_task(poll_mailbox_forever(), name="support mailbox")]
        if isinstance(app.state.rasa, RasaShards) and len(app.state.rasa.urls) > 1:
            tasks.append(asyncio.create_task(app.state.rasa.check_forever(), name="Rasa shard check"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await app.state.broker.stop()
            await app.state.rasa.close()

    app = FastAPI(title=f"{settings.company_name} support API", version="0.1.0", lifespan=lifespan,
                  responses=errors.ERROR_RESPONSES, description=DESCRIPTION)
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    # One line per conversation at a time: across API processes through Redis when there is one.
    turns = (RedisTurns(settings.redis_url, hold_seconds=settings.rasa_timeout_seconds + 5,
                        wait_seconds=settings.rasa_timeout_seconds * 2)
             if settings.redis_url and rasa is None else None)
    app.state.rasa = rasa or RasaShards(settings.rasa_urls, token=token, timeout=settings.rasa_timeout_seconds,
                                        check_seconds=settings.rasa_check_seconds, turns=turns)
    app.state.broker = make_broker(settings.redis_url)
    app.state.rates = RateLimits(settings)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(audit.router)
    app.include_router(privacy.router)
    app.include_router(chat.router)
    app.include_router(handoffs.router)
    app.include_router(handoffs.conversations_router)
    app.include_router(tickets.router)
    app.include_router(ticket_page.router)
    app.include_router(mailbox.router)
    app.include_router(reports.router)
    app.include_router(console.router)
    app.include_router(config.router)
    app.include_router(customer_socket.router)
    app.include_router(agent_socket.router)
    errors.install(app)
    web.mount(app)
    app.add_middleware(RequestGuard, max_bytes=settings.request_max_bytes)
    if settings.widget_origins:
        # Only what the widget needs: its own token in a header, no cookies across sites.
        app.add_middleware(CORSMiddleware, allow_origins=settings.widget_origins, allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
                           expose_headers=[REQUEST_ID_HEADER])
    app.add_middleware(Observe)  # outermost: sees every answer

    @app.get("/health", tags=["ops"])
    def health() -> JSONResponse:
        """200 when the API is up and its database answers; 503 otherwise."""
        problem = database_problem()
        if problem:
            return JSONResponse({"status": "unhealthy", "database": problem}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/health/live", tags=["ops"])
    def live() -> JSONResponse:
        """Liveness: 200 while this process answers at all (restart it when it does not)."""
        return JSONResponse({"status": "live"})

    @app.get("/health/ready", tags=["ops"])
    async def ready() -> JSONResponse:
        """Readiness: 200 when the database, enough Rasa shards (RASA_READY_SHARDS; all by default) and
        Redis (when REDIS_URL is set) answer; 503 with what does not, so traffic goes elsewhere."""
        report = await readiness(app, get_settings())
        return JSONResponse(report, status_code=200 if report["status"] == "ready" else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics, for a scraper with `Authorization: Bearer <METRICS_TOKEN>` (404 otherwise:
        not public, and off while METRICS_TOKEN is unset)."""
        secret = get_settings().metrics_token
        token = secret.get_secret_value() if secret else None
        if not allowed(request.headers.get("authorization"), token):
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        body, content_type = await asyncio.to_thread(exposition)
        return Response(body, media_type=content_type)

    return app


def database_problem() -> str | None:
    """None when the database answers; else what went wrong."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
        return type(error).__name__
    return None


async def readiness(app: FastAPI, settings: Settings) -> dict:
    report: dict = {"database": await asyncio.to_thread(database_problem) or "ok"}
    rasa = app.state.rasa
    if isinstance(rasa, RasaShards):
        up = await rasa.check()
        needed = settings.rasa_ready_shards or len(up)
        report["rasa_shards"] = {"up": sum(up), "of": len(up), "needed": min(needed, len(up))}
        rasa_ok = sum(up) >= min(needed, len(up))
    else:
        rasa_ok = True  # a stand-in (the tests)
    redis_ok = True
    if settings.redis_url:
        try:
            client = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()
            report["redis"] = "ok"
        except (RedisError, OSError) as error:
            REDIS_ERRORS.inc()
            report["redis"] = type(error).__name__
            redis_ok = False
    report["status"] = "ready" if report["database"] == "ok" and rasa_ok and redis_ok else "not ready"
    return report

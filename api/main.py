"""Application factory for the API (uvicorn api.main:create_app --factory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import errors, logredact
from api.guard import RequestGuard
from api.live import agent as agent_socket
from api.live import customer as customer_socket
from api.live.broker import make_broker
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
from bot.settings import get_settings

DESCRIPTION = """Customers chat through `/api/v1/chat` with the token their session was given (`ChatToken`);
staff sign in at `/api/v1/auth/token` (`OAuth2PasswordBearer`, or the console's cookie).

Every error has one shape, `ErrorOut`. Text anywhere in a request may not hold a NUL character or an
unpaired UTF-16 surrogate (JSON can spell both, `\\u0000` and `\\ud800`; no database stores them): such a
request is refused with 422 and nothing of it is stored. Request bodies are limited to REQUEST_MAX_BYTES
(413)."""


def create_app(rasa: RasaClient | RasaShards | None = None) -> FastAPI:
    """`rasa` replaces the client for the Rasa server (tests give a stand-in with its interface)."""
    settings = get_settings()
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
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])

    @app.get("/health", tags=["ops"])
    def health() -> JSONResponse:
        """200 when the API is up and its database answers; 503 otherwise."""
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - any database failure means unhealthy
            return JSONResponse({"status": "unhealthy", "database": type(error).__name__}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app

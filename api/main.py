"""Application factory for the API (uvicorn api.main:create_app --factory)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api import auth
from bot.db import get_engine
from bot.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title=f"{settings.company_name} support API", version="0.1.0")
    app.include_router(auth.router)

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

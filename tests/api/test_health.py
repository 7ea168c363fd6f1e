"""The API skeleton: /health says whether the database answers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app


def test_health_is_ok_when_the_database_answers(app_db):
    response = TestClient(create_app()).get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_unreachable(monkeypatch, tmp_path):
    from bot import db
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    try:
        response = TestClient(create_app()).get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "unhealthy"
    finally:
        get_settings.cache_clear()
        db.get_engine.cache_clear()

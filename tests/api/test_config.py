"""GET /api/v1/config: the labels and limits the pages use come from the server's settings."""

from __future__ import annotations

import json

from bot.settings import get_settings


def test_config_serves_the_configured_limit_and_categories_without_sign_in(client, monkeypatch):
    monkeypatch.setenv("CHAT_MAX_MESSAGE_CHARS", "321")
    monkeypatch.setenv("COMPANY_NAME", "Acme")
    monkeypatch.setenv("TICKET_CATEGORIES", json.dumps([{"key": "bikes", "label": "Bikes & parts"}]))
    get_settings.cache_clear()
    config = client.get("/api/v1/config").json()
    assert config["company_name"] == "Acme"
    assert config["max_message_chars"] == 321
    assert {"key": "bikes", "label": "Bikes & parts"} in config["ticket_categories"]


def test_config_labels_every_feedback_category_and_survey_comments(client):
    keys = [item["key"] for item in client.get("/api/v1/config").json()["feedback_categories"]]
    assert keys == ["service_quality", "product", "process", "suggestion", "complaint", "survey_comment"]

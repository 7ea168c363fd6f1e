"""GET /api/v1/config: the labels and limits the pages use come from the server's settings."""

from __future__ import annotations

import json


def test_config_serves_the_configured_limit_and_categories_without_sign_in(client, configure):
    configure(chat_max_message_chars=321, company_name="Acme",
              ticket_categories=json.dumps([{"key": "bikes", "label": "Bikes & parts"}]))
    config = client.get("/api/v1/config").json()
    assert config["company_name"] == "Acme"
    assert config["max_message_chars"] == 321
    assert {"key": "bikes", "label": "Bikes & parts"} in config["ticket_categories"]
    limits = config["max_description_chars"], config["max_note_chars"], config["max_search_chars"]
    assert limits == (10_000, 5000, 200)


def test_config_labels_every_feedback_category_and_survey_comments(client):
    keys = [item["key"] for item in client.get("/api/v1/config").json()["feedback_categories"]]
    assert keys == ["service_quality", "product", "process", "suggestion", "complaint", "survey_comment"]

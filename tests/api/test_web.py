"""The pages the API serves (demo shop, agent console, static files), their security headers,
the widget's cross-site access, and a check that the front-end code never writes HTML."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.web import STATIC


@pytest.mark.parametrize(("path", "marker"), [("/", "/static/widget.js"), ("/agent", "/static/agent.js"),
                                                   ("/manager", "/static/manager.js")])
def test_pages_are_served_with_a_strict_policy(client, path, marker):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert marker in page.text
    if path != "/":  # the staff pages load their shared code first
        assert page.text.index("/static/staff.js") < page.text.index(marker)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    # No inline script: the policy would block it anyway.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)


@pytest.mark.parametrize("name", ["widget.js", "agent.js", "agent.css", "shop.js", "manager.js", "manager.css",
                                  "staff.js"])
def test_static_files_are_served(client, name):
    answer = client.get(f"/static/{name}")
    assert answer.status_code == 200 and len(answer.content) > 100


@pytest.mark.parametrize("name", ["widget.js", "agent.js", "shop.js", "manager.js", "staff.js"])
def test_front_end_code_never_turns_data_into_html(name):
    code = (STATIC / name).read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, f"{name} uses {sink}"


def test_other_sites_may_embed_the_widget_only_when_listed(app_db, rasa, configure):
    configure(widget_origins='["https://shop.example"]')
    client = TestClient(create_app())
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = client.options("/api/v1/chat/sessions", headers={"Origin": "https://shop.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "access-control-allow-credentials" not in allowed.headers
    refused = client.options("/api/v1/chat/sessions", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers


def test_without_listed_sites_there_is_no_cross_site_access(client):
    answer = client.get("/health", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in answer.headers

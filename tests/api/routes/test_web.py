"""The pages the API serves (demo shop, agent console, manager dashboard, static files), their
security headers, their scripts and ES modules (all served, as JavaScript, none left over), their
stylesheets (each linked by a page, the staff pages' shared one first), the widget's cross-site
access, and checks that the front-end code never writes HTML and keeps no copy of what
GET /api/v1/config defines."""

from __future__ import annotations

import posixpath
import re

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.routes.web import STATIC

# Each page and the script it starts from: the staff pages are ES modules importing the rest;
# the widget stays one classic script, as sites embed it with a single tag.
ENTRIES = {"/": ("/static/widget.js", False), "/agent": ("/static/agent/main.js", True),
           "/manager": ("/static/manager/main.js", True), "/reset": ("/static/staff/reset.js", True),
           "/admin": ("/static/admin/main.js", True), "/ticket": ("/static/ticket/main.js", True),
           "/survey": ("/static/ticket/survey.js", True), "/desk": ("/static/desk/main.js", True)}
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']"""  # import {a} from "./a.js"
                    r"""|^\s*import\s*\(?\s*["']([^"']+)["']""", re.MULTILINE)  # import "./a.js", import("./a.js")
JS_TYPES = ("text/javascript", "application/javascript")
STATIC_FILES = sorted(path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*") if path.is_file())
SCRIPTS = [name for name in STATIC_FILES if name.endswith(".js")]
STYLESHEETS = [name for name in STATIC_FILES if name.endswith(".css")]
STAFF_PAGES = ("/agent", "/manager", "/admin", "/desk")
STAFF_SCRIPTS = [name for name in SCRIPTS if name.split("/")[0] in ("staff", "agent", "manager", "admin", "desk")]
STYLESHEET_TAG = re.compile(r"""<link\b[^>]*\brel=["']stylesheet["'][^>]*>""", re.IGNORECASE)
# A maxlength written as a number: maxlength="200" in HTML; .maxLength = 200 or
# setAttribute("maxlength", "200") in a script.
LITERAL_MAXLENGTH = re.compile(r"""maxlength["']?\s*(?:=|,)\s*["']?(\d+)""", re.IGNORECASE)


def page_scripts(html: str) -> list[tuple[str, bool]]:
    """(src, is a module) for each <script> of a page."""
    found = []
    for attributes in SCRIPT_TAG.findall(html):
        src = re.search(r"""\bsrc=["']([^"']+)["']""", attributes)
        assert src, f"inline script: <script{attributes}>"
        found.append((src.group(1), bool(re.search(r"""\btype=["']module["']""", attributes))))
    return found


def page_stylesheets(html: str) -> list[str]:
    """The href of each stylesheet a page links, in order."""
    return [re.search(r"""\bhref=["']([^"']+)["']""", tag).group(1) for tag in STYLESHEET_TAG.findall(html)]


def module_graph(client, entry: str) -> set[str]:
    """Every script a module imports, and those they import, fetched from the app: each must be
    served, as JavaScript, from /static/."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        answer = client.get(url)
        assert answer.status_code == 200 and len(answer.content) > 100, url
        assert answer.headers["content-type"].startswith(JS_TYPES), (url, answer.headers["content-type"])
        for specifier in (a or b for a, b in IMPORT.findall(answer.text)):
            assert specifier.startswith("./") or specifier.startswith("../"), f"{url} imports {specifier}"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(url), specifier))
            assert target.startswith("/static/") and target.endswith(".js"), f"{url} imports {specifier}"
            todo.append(target)
    return seen


@pytest.mark.parametrize("path", ENTRIES)
def test_pages_are_served_with_a_strict_policy(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    entry, is_module = ENTRIES[path]
    scripts = page_scripts(page.text)  # no inline script: the policy would block it anyway
    assert (entry, is_module) in scripts
    if is_module:  # the staff pages' shared code comes in through imports, not classic scripts
        assert all(module for _, module in scripts), scripts
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ENTRIES)
def test_every_script_of_a_page_is_served_as_javascript(client, path):
    for src, _ in page_scripts(client.get(path).text):
        module_graph(client, src)


def test_every_static_script_is_loaded_by_a_page(client):
    loaded = set()
    for path in ENTRIES:
        for src, _ in page_scripts(client.get(path).text):
            loaded |= module_graph(client, src)
    assert {"widget.js", "shop.js", "agent/main.js", "manager/main.js"} <= set(SCRIPTS)
    assert loaded == {f"/static/{name}" for name in SCRIPTS}  # no stray or left-over script


def test_every_static_stylesheet_is_linked_by_a_page(client):
    linked = set()
    for path in ENTRIES:
        for href in page_stylesheets(client.get(path).text):
            assert client.get(href).headers["content-type"].startswith("text/css"), (path, href)
            linked.add(href)
    assert linked == {f"/static/{name}" for name in STYLESHEETS}  # no stray or left-over stylesheet
    for path in STAFF_PAGES:  # what the staff pages share comes first, so each page's own CSS adds to it
        sheets = page_stylesheets(client.get(path).text)
        assert sheets[0] == "/static/staff/staff.css" and len(sheets) == 2, (path, sheets)


@pytest.mark.parametrize("name", STATIC_FILES)
def test_static_files_are_served(client, name):
    answer = client.get(f"/static/{name}")
    assert answer.status_code == 200 and len(answer.content) > 100
    if name.endswith(".js"):
        assert answer.headers["content-type"].startswith(JS_TYPES)
    elif name.endswith(".css"):
        assert answer.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", SCRIPTS)
def test_front_end_code_never_turns_data_into_html(name):
    code = (STATIC / name).read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code, f"{name} uses {sink}"


def test_pages_take_labels_and_limits_from_the_server(client):
    """The category labels, the company's name and the text limits are defined once, on the server
    (GET /api/v1/config): no page or script keeps a copy of them."""
    config = client.get("/api/v1/config").json()
    categories = config["ticket_categories"] + config["feedback_categories"]
    pages = {path: client.get(path).text for path in ENTRIES}
    code = {name: (STATIC / name).read_text(encoding="utf-8") for name in SCRIPTS}
    for category in categories:
        for path, html in pages.items():
            assert not re.search(rf"""<option[^>]*value=["']{category["key"]}["']""", html), (path, category)
        if category["key"] == "survey_comment":  # the inbox's "Survey comment" badge names the kind of item
            continue
        for name, text in code.items():
            assert f'"{category["label"]}"' not in text, (name, category)
    assert not re.search(rf"\b{config['max_message_chars']}\b", code["widget.js"])
    assert "/api/v1/config" in code["widget.js"]

    limits = {config[key] for key in ("max_message_chars", "max_description_chars", "max_note_chars",
                                      "max_search_chars")}
    assert {10_000, 5_000, 200} <= limits
    staff = {**{path: pages[path] for path in STAFF_PAGES}, **{name: code[name] for name in STAFF_SCRIPTS}}
    assert "staff/config.js" in staff and "agent/main.js" in staff
    for where, text in staff.items():
        copied = {int(n) for n in LITERAL_MAXLENGTH.findall(text)} & limits
        assert not copied, f"{where} copies the limit {copied} of GET /api/v1/config"
        for name in {"Brightside", config["company_name"]}:  # the demo shop alone is the company's own page
            assert name.lower() not in text.lower(), f"{where} names the company {name}"


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

"""Schemathesis hooks for the API contract pass (tests/e2e/test_api_contract.py), loaded with
SCHEMATHESIS_HOOKS=tests.e2e.fuzz_hooks.

Staff routes: the fuzzer signs in as FUZZ_USER (none: it stays anonymous). Fuzzed calls to documented
routes change that very account (PATCH /users/{id} demotes or disables it, /auth/logout and
/auth/reset end its sessions), so before each sign-in the seeded accounts are put back as they were
created, and a 401 (or 403 for an admin) signs in again.

The customer's ticket page (`/api/v1/ticket-page`): the seeded ticket's link (FUZZ_TICKET_LINK).

Chat routes (`/api/v1/chat/sessions/{session_id}/...`): their Bearer token is the customer's chat
token, which only POST /api/v1/chat/sessions hands out, with its session id. The fuzzer starts a chat
and calls that chat's routes with its token; without this every call would be 401 and none of the
customer's routes would be tested past the door (their 401s are tested in tests/api/test_authorization.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date

import httpx
import schemathesis
from sqlalchemy import select

from bot.conversations.relay import may_press
from bot.conversations.service import offered_buttons
from bot.db import transaction
from bot.errors import Invalid
from bot.reports.period import requested_period
from bot.settings import get_settings
from bot.users.models import User

BASE_URL = os.environ["FUZZ_BASE_URL"]
USER = os.environ.get("FUZZ_USER", "")
PASSWORD = os.environ.get("FUZZ_PASSWORD", "")
# The seeded accounts as created: {email: role}.
SEEDED: dict[str, str] = json.loads(os.environ.get("FUZZ_SEEDED", "{}"))
REFRESH_SECONDS = 3


def _hashes() -> dict[str, str]:
    with transaction() as session:
        users = session.scalars(select(User).where(User.email.in_(SEEDED))).all()
        return {user.email: user.password_hash for user in users}


HASHES = _hashes() if SEEDED else {}


def restore_seeded_accounts() -> None:
    with transaction() as session:
        for user in session.scalars(select(User).where(User.email.in_(SEEDED))).all():
            user.role, user.active, user.password_hash = SEEDED[user.email], True, HASHES[user.email]


if USER:
    @schemathesis.auth(refresh_interval=REFRESH_SECONDS,
                       retry_on=[401, 403] if SEEDED.get(USER) == "admin" else [401]
                       ).skip_for(path_regex=r"^/api/v1/(chat/sessions/|ticket-page)")
    class StaffSignIn:
        def get(self, case, ctx) -> str:
            restore_seeded_accounts()
            response = httpx.post(f"{BASE_URL}/api/v1/auth/token", data={"username": USER, "password": PASSWORD},
                                  timeout=30)
            response.raise_for_status()
            return response.json()["access_token"]

        def set(self, case, data: str, ctx) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _offered(session_id: str) -> list[str]:
    """The payloads the bot offers in this chat now, by the API's own rule."""
    with transaction() as session:
        buttons = offered_buttons(connection=session.connection(), conversation_id=session_id)
    return [button["payload"] for button in buttons if may_press(button["payload"])]


@schemathesis.auth(refresh_interval=REFRESH_SECONDS).apply_to(path_regex=r"^/api/v1/chat/sessions/")
class ChatToken:
    def get(self, case, ctx) -> dict:
        # Greeted: the greeting offers buttons, so there are payloads to press.
        response = httpx.post(f"{BASE_URL}/api/v1/chat/sessions", json={"greet": True}, timeout=60)
        response.raise_for_status()
        return response.json()

    def set(self, case, data: dict, ctx) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "session_id": data["session_id"]}
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data['token']}"}
        # A payload is valid only if the bot offered it in its latest turn (the rule: anything else
        # is 422), which no schema can say. A payload meant to be valid (positive generation) is therefore
        # one the bot offers now, chosen by the generated value; with none offered, the line is typed.
        # Invalid payloads stay as generated, and the rule itself is tested in tests/api/routes/test_chat.py.
        body = case.body
        mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", "positive")
        if (case.method.upper() == "POST" and isinstance(body, dict) and isinstance(body.get("payload"), str)
                and str(mode) == "positive"):
            offered = _offered(data["session_id"])
            chosen = int(hashlib.sha256(body["payload"].encode()).hexdigest(), 16)
            case.body = {"payload": offered[chosen % len(offered)]} if offered else {"text": "hello"}


def _day(text: object):
    try:
        return date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        return None


@schemathesis.hook("filter_case").apply_to(path_regex=r"^/api/v1/(reports/|exports/|inbox$)")
def within_report_period(ctx, case) -> bool:
    """A report period may span at most REPORT_MAX_DAYS and must not end before it starts: a rule over two
    parameters, which an OpenAPI schema cannot state (the routes' descriptions do; 422 otherwise,
    tested in tests/api/routes/test_reports.py). Queries with two readable dates the rule refuses are
    left out; every other query, valid or not, is sent."""
    query = case.query or {}
    first, last = _day(query.get("from")), _day(query.get("to"))
    if query.get("from") is not None and first is None or query.get("to") is not None and last is None:
        return True
    try:
        requested_period(first, last, get_settings())
    except Invalid:
        return False
    return True


@schemathesis.auth().apply_to(path_regex=r"^/api/v1/ticket-page")
class TicketLink:
    """The customer's ticket page: the seeded ticket's link (tests/e2e/fuzz_seed.py)."""

    def get(self, case, ctx) -> str:
        return os.environ["FUZZ_TICKET_LINK"]

    def set(self, case, data: str, ctx) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

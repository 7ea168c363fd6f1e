"""Who may call what: anonymous, a customer (their chat token), an agent, a manager, across
every route the API documents. A new route fails this test until it is placed in the matrix."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.recovery.models import RecoveryItem
from tests.api.support import queued_customer, staff
from tests.factories import make_feedback, make_ticket

PUBLIC = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/reset"),
          ("POST", "/api/v1/chat/sessions"),
          ("GET", "/health"), ("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/api/v1/config")}
CUSTOMER = {("POST", "/api/v1/chat/sessions/{session_id}/messages"),
            ("GET", "/api/v1/chat/sessions/{session_id}/messages"),
            ("POST", "/api/v1/chat/sessions/{session_id}/handoff/cancel"),
            ("POST", "/api/v1/chat/sessions/{session_id}/close")}
SIGNED_IN = {("GET", "/api/v1/auth/me"), ("PUT", "/api/v1/auth/me/presence")}
AGENT = {("GET", "/api/v1/handoffs"), ("GET", "/api/v1/handoffs/{handoff_id}"),
         ("POST", "/api/v1/handoffs/{handoff_id}/claim"), ("POST", "/api/v1/handoffs/{handoff_id}/notes"),
         ("GET", "/api/v1/tickets"), ("POST", "/api/v1/tickets"), ("GET", "/api/v1/tickets/categories"),
         ("GET", "/api/v1/tickets/{reference}"), ("PATCH", "/api/v1/tickets/{reference}"),
         ("POST", "/api/v1/tickets/{reference}/comments"), ("GET", "/api/v1/agents"),
         ("GET", "/api/v1/canned-replies"), ("GET", "/api/v1/conversations"),
         ("POST", "/api/v1/conversations/{conversation_id}/join"), ("GET", "/api/v1/recovery-items"),
         ("GET", "/api/v1/mailbox"), ("GET", "/api/v1/tickets/{reference}/attachments/{attachment_id}")}
# Agent routes that act in a live chat: only the agent holding it (others get 403).
HOLDER = {("POST", "/api/v1/handoffs/{handoff_id}/messages"), ("POST", "/api/v1/handoffs/{handoff_id}/typing"),
          ("POST", "/api/v1/handoffs/{handoff_id}/transfer"), ("POST", "/api/v1/handoffs/{handoff_id}/resolve")}
# Agent routes on an item someone owns: the owner and managers (other agents get 403).
OWNER = {("PATCH", "/api/v1/recovery-items/{item_id}"), ("POST", "/api/v1/recovery-items/{item_id}/follow-up")}
MANAGER = {("GET", "/api/v1/users"), ("GET", "/api/v1/reports/summary"), ("GET", "/api/v1/reports/breaches"),
           
           ("GET", "/api/v1/exports/{dataset}"), ("GET", "/api/v1/reports/timeseries"),
           ("GET", "/api/v1/alerts"), ("GET", "/api/v1/reports/themes"),
           ("GET", "/api/v1/inbox"), ("PATCH", "/api/v1/inbox/{kind}/{number}")}
ADMIN = {("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/{user_id}"),
         ("POST", "/api/v1/users/{user_id}/reset-link"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/audit/export"),
         ("GET", "/api/v1/privacy/export"), ("POST", "/api/v1/privacy/erase")}
# The customer's ticket page: only the link from one of their e-mails opens it.
LINK = {("GET", "/api/v1/ticket-page"), ("POST", "/api/v1/ticket-page/comments"), ("POST", "/api/v1/ticket-page/close"),
        ("GET", "/api/v1/ticket-page/survey"), ("POST", "/api/v1/ticket-page/survey/answers"),
        ("POST", "/api/v1/ticket-page/mail-preferences")}
BODIES = {"/api/v1/users": {"email": "new.agent@example.com", "name": "New", "role": "agent"},
          "/api/v1/users/{user_id}": {"role": "agent"}, "/api/v1/privacy/erase": {"email": "x@example.com"},
          "/api/v1/auth/me/presence": {"presence": "online"},
          "/api/v1/tickets": {"description": "x", "category": "other"},
          "/api/v1/tickets/{reference}": {"status": "open"}, "/api/v1/handoffs/{handoff_id}/typing": {"typing": True},
          "/api/v1/handoffs/{handoff_id}/transfer": {"agent_id": 2}, "/api/v1/handoffs/{handoff_id}/resolve": {},
          "/api/v1/recovery-items/{item_id}": {"status": "contacted"},
          "/api/v1/recovery-items/{item_id}/follow-up": {"message": "We are sorry; a voucher is on its way."},
          "/api/v1/inbox/{kind}/{number}": {"reviewed": True},
          "/api/v1/ticket-page/mail-preferences": {"surveys": False}}


def documented(client) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in client.app.openapi()["paths"].items()
            for method in operations}


def test_every_route_is_in_the_matrix(client):
    assert documented(client) == PUBLIC | CUSTOMER | SIGNED_IN | AGENT | HOLDER | OWNER | MANAGER | ADMIN | LINK


@pytest.fixture
def world(client):
    from bot.db import transaction

    session_id, customer = queued_customer(client, "Ada")
    other_id, other = queued_customer(client, "Bob")
    ann = staff(client, "ann")
    handoff_id = client.get("/api/v1/handoffs", headers=ann).json()[0]["id"]
    with transaction() as session:
        reference = make_ticket(session).reference
        complaint = make_feedback(session, category="complaint")  # opens a recovery item
        item_id = session.scalar(select(RecoveryItem.id).where(RecoveryItem.feedback_id == complaint.id))
    ann_id = client.get("/api/v1/auth/me", headers=ann).json()["id"]
    values = {"session_id": session_id, "conversation_id": session_id, "handoff_id": str(handoff_id),
              "user_id": str(ann_id),
              "reference": reference, "item_id": str(item_id), "dataset": "tickets", "attachment_id": "1",
              "kind": "feedback", "number": str(complaint.id)}
    return {"values": values, "customer": customer, "other_customer": other, "ann": ann,
            "meg": staff(client, "meg")}


QUERIES = {"/api/v1/reports/timeseries": {"metric": "tickets"}, "/api/v1/privacy/export": {"email": "x@example.com"}}


def call(client, method: str, path: str, values: dict, headers: dict):
    url = path.format(**values)
    body = BODIES.get(path, {"text": "hello"})
    return client.request(method, url, json=body, headers=headers, params=QUERIES.get(path))


def test_anonymous_and_forged_tokens_get_401(client, world):
    for method, path in sorted(CUSTOMER | SIGNED_IN | AGENT | HOLDER | OWNER | MANAGER | ADMIN | LINK):
        for headers in ({}, {"Authorization": "Bearer forged.token.value"}):
            assert call(client, method, path, world["values"], headers).status_code == 401, (method, path)


def test_a_customer_token_opens_no_staff_route(client, world):
    for method, path in sorted(SIGNED_IN | AGENT | HOLDER | OWNER | MANAGER | ADMIN | LINK):
        assert call(client, method, path, world["values"], world["customer"]).status_code == 401, (method, path)


def test_a_customer_token_opens_only_its_own_chat(client, world):
    for method, path in sorted(CUSTOMER, key=lambda route: (route[1].endswith("/close"), route)):  # ending: last
        assert call(client, method, path, world["values"], world["other_customer"]).status_code == 401, path
        assert call(client, method, path, world["values"], world["ann"]).status_code == 401, path  # staff ≠ customer
        assert call(client, method, path, world["values"], world["customer"]).status_code in (200, 201), path


def test_agents_and_managers_reach_the_agent_routes(client, world):
    for method, path in sorted(SIGNED_IN | AGENT):
        for who in ("meg", "ann"):  # ann last: her claim must not take the chat from meg's later calls
            answer = call(client, method, path, world["values"], world[who])
            assert answer.status_code not in (401, 403), (who, method, path, answer.text)


def test_manager_routes_refuse_agents_with_403(client, world):
    for method, path in sorted(MANAGER):
        assert call(client, method, path, world["values"], world["ann"]).status_code == 403, path
        assert call(client, method, path, world["values"], world["meg"]).status_code == 200, path


def test_live_chat_routes_need_the_holder(client, world):
    """Reaching the route is not enough: acting in a chat someone else holds is 403, for a
    manager too; the holder gets through."""
    ann, meg, ben = world["ann"], world["meg"], staff(client, "ben")
    handoff = world["values"]["handoff_id"]
    for method, path in sorted(HOLDER):  # nobody holds it yet
        assert call(client, method, path, world["values"], ann).status_code == 403, path
    assert client.post(f"/api/v1/handoffs/{handoff}/claim", headers=ann).status_code == 200
    for method, path in sorted(HOLDER):
        for other in (ben, meg):
            assert call(client, method, path, world["values"], other).status_code == 403, path
    for action in ("messages", "typing", "resolve"):  # resolve last: it ends the holding
        path = f"/api/v1/handoffs/{{handoff_id}}/{action}"
        assert call(client, "POST", path, world["values"], ann).status_code in (200, 201, 204), path


def test_recovery_items_are_the_owners_and_the_managers(client, world):
    from bot.db import transaction
    from bot.recovery.models import RecoveryItem

    ann, meg, ben = world["ann"], world["meg"], staff(client, "ben")
    item = world["values"]["item_id"]
    for method, path in sorted(OWNER):  # nobody owns it: agents are refused, a manager is not
        assert call(client, method, path, world["values"], ann).status_code == 403, path
        assert call(client, method, path, world["values"], meg).status_code == 200, path
    ann_id = client.get("/api/v1/auth/me", headers=ann).json()["id"]
    with transaction() as session:
        session.get(RecoveryItem, int(item)).owner_id = ann_id
    assert [i["id"] for i in client.get("/api/v1/recovery-items", headers=ann).json()] == [int(item)]
    assert client.get("/api/v1/recovery-items", headers=ben).json() == []
    assert client.get("/api/v1/recovery-items", params={"owner": "none"}, headers=ann).status_code == 403
    url = f"/api/v1/recovery-items/{item}"
    assert client.patch(url, json={"outcome": "Called back"}, headers=ben).status_code == 403
    assert client.post(f"{url}/follow-up", json={"message": "Sorry"}, headers=ben).status_code == 403
    assert client.post(f"{url}/follow-up", json={"message": "Sorry"}, headers=ann).status_code == 200
    assert client.patch(url, json={"status": "closed", "outcome": "Called back"}, headers=ann).status_code == 200
    assert client.patch(url, json={"owner_id": None}, headers=ann).status_code == 403  # managers assign


def test_admin_routes_refuse_agents_and_managers_with_403(client, world):
    from bot.db import transaction
    from bot.users.schemas import UserCreate
    from bot.users.service import create_user
    from tests.api.support import PASSWORD

    for method, path in sorted(ADMIN):
        for who in ("ann", "meg"):
            assert call(client, method, path, world["values"], world[who]).status_code == 403, (who, path)
    with transaction() as session:
        create_user(session=session, data=UserCreate(email="ada@example.com", name="Ada", role="admin",
                                                     password=PASSWORD))
    ada = staff(client, "ada")
    for method, path in sorted(ADMIN):
        answer = call(client, method, path, world["values"], ada)
        assert answer.status_code in (200, 201), (path, answer.text)


def socket_answer(client, url: str) -> str:
    """"open" when the socket is accepted and serves its first frame, else its close code."""
    from starlette.websockets import WebSocketDisconnect

    try:
        with client.websocket_connect(url) as socket:
            socket.receive_json()
            return "open"
    except WebSocketDisconnect as closed:
        return str(closed.code)


def test_both_sockets_against_every_kind_of_caller(client, world):
    """Issue 17: the two WebSockets × anonymous, a customer, another customer, each staff role, a
    disabled account, an expired token and a token from before a sign-out."""
    from datetime import datetime, timedelta, timezone

    from bot.db import transaction
    from bot.users.schemas import UserCreate
    from bot.users.security import create_access_token
    from bot.users.service import create_user, disable_user, get_user_by_email
    from tests.api.support import PASSWORD

    with transaction() as session:
        for name, role in (("ada", "admin"), ("dan", "agent")):
            create_user(session=session, data=UserCreate(email=f"{name}@example.com", name=name.title(), role=role,
                                                         password=PASSWORD))

    def token_of(headers: dict) -> str:
        return headers["Authorization"].removeprefix("Bearer ")

    staff_tokens = {who: token_of(staff(client, who)) for who in ("ann", "ben", "meg", "ada", "dan")}
    signed_out = token_of(staff(client, "ben"))
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {signed_out}"})
    staff_tokens["ben"] = token_of(staff(client, "ben"))  # signed in again after that sign-out
    with transaction() as session:
        disable_user(session=session, user_id=get_user_by_email(session=session, email="dan@example.com").id)
        ann_id = get_user_by_email(session=session, email="ann@example.com").id
    expired = create_access_token(user_id=ann_id, role="agent", now=datetime.now(timezone.utc) - timedelta(days=3))[0]
    session_id = world["values"]["session_id"]
    customer, other = token_of(world["customer"]), token_of(world["other_customer"])
    chat = f"/api/v1/chat/sessions/{session_id}/ws"
    expected = {
        (chat, None): "4401", (chat, customer): "open", (chat, other): "4401", (chat, staff_tokens["ann"]): "4401",
        ("/api/v1/agent/ws", None): "4401", ("/api/v1/agent/ws", customer): "4401",
        ("/api/v1/agent/ws", staff_tokens["ann"]): "open", ("/api/v1/agent/ws", staff_tokens["ben"]): "open",
        ("/api/v1/agent/ws", staff_tokens["meg"]): "open", ("/api/v1/agent/ws", staff_tokens["ada"]): "open",
        ("/api/v1/agent/ws", staff_tokens["dan"]): "4401",  # disabled
        ("/api/v1/agent/ws", expired): "4401", ("/api/v1/agent/ws", signed_out): "4401",
        ("/api/v1/agent/ws", "forged.token.value"): "4401",
    }
    client.cookies.clear()
    answers = {(path, token): socket_answer(client, path + (f"?token={token}" if token else ""))
               for path, token in expected}
    assert answers == expected


CALLERS = ("anonymous", "customer", "other customer", "agent", "other agent", "manager", "admin", "disabled user",
           "expired token", "ticket link")
ALLOWED, NO_ONE, NOT_YOURS = "allowed", "401", "403"


def expected_cell(route: tuple[str, str], caller: str) -> str:
    """What `caller` gets from `route`: ALLOWED (anything but 401 and 403: the request reached the route's
    own logic), 401 or 403. "agent" holds the live chat and owns the recovery item; "other agent" does neither."""
    if route in PUBLIC:
        return ALLOWED
    if route in LINK:
        return ALLOWED if caller == "ticket link" else NO_ONE
    if caller in ("anonymous", "disabled user", "expired token", "ticket link"):
        return NO_ONE
    if route in CUSTOMER:
        return ALLOWED if caller == "customer" else NO_ONE
    if caller in ("customer", "other customer"):
        return NO_ONE
    if route in SIGNED_IN | AGENT:
        return ALLOWED
    if route in HOLDER:
        return ALLOWED if caller == "agent" else NOT_YOURS
    if route in OWNER:
        return NOT_YOURS if caller == "other agent" else ALLOWED
    if route in MANAGER:
        return ALLOWED if caller in ("manager", "admin") else NOT_YOURS
    assert route in ADMIN, f"{route} is in no group of the matrix"
    return ALLOWED if caller == "admin" else NOT_YOURS


def test_every_route_against_every_kind_of_caller(client, world, configure):
    """Issue 17: every documented route × anonymous, a customer, another customer, an agent (holding the chat
    and owning the item), another agent, a manager, an admin, a disabled account, an expired token and a
    customer's ticket link (issue 18); each
    cell's expected answer comes from the route's group above, so a new route has one or fails
    test_every_route_is_in_the_matrix. Calls that refuse change nothing, so they go first; then the allowed
    ones, each live-chat one on a chat freshly claimed by the agent (a transfer or a resolve ends the holding)."""
    from datetime import datetime, timedelta, timezone

    from bot.db import transaction
    from bot.tickets.links import issue_link
    from bot.tickets.service import get_ticket
    from bot.users.schemas import UserCreate
    from bot.users.security import create_access_token
    from bot.users.service import create_user, disable_user, get_user_by_email
    from tests.api.support import PASSWORD

    with transaction() as session:
        for name, role in (("ada", "admin"), ("dan", "agent")):
            create_user(session=session, data=UserCreate(email=f"{name}@example.com", name=name.title(), role=role,
                                                         password=PASSWORD))
    dan = staff(client, "dan")
    with transaction() as session:
        disable_user(session=session, user_id=get_user_by_email(session=session, email="dan@example.com").id)
        ann_id = get_user_by_email(session=session, email="ann@example.com").id
        session.get(RecoveryItem, int(world["values"]["item_id"])).owner_id = ann_id
    expired = create_access_token(user_id=ann_id, role="agent", now=datetime.now(timezone.utc) - timedelta(days=3))[0]
    with transaction() as session:
        link = issue_link(session=session, ticket=get_ticket(session=session, reference=world["values"]["reference"]))
    headers = {"anonymous": {}, "customer": world["customer"], "other customer": world["other_customer"],
               "agent": world["ann"], "other agent": staff(client, "ben"), "manager": world["meg"],
               "admin": staff(client, "ada"), "disabled user": dan,
               "expired token": {"Authorization": f"Bearer {expired}"},
               "ticket link": {"Authorization": f"Bearer {link}"}}
    configure(agent_max_live_chats=100)  # the agent claims a fresh chat for each live-chat route
    values = dict(world["values"])
    assert client.post(f"/api/v1/handoffs/{values['handoff_id']}/claim", headers=world["ann"]).status_code == 200
    client.cookies.clear()  # each call is authorised by its own header alone
    routes = sorted(documented(client))
    cells = [(route, caller, expected_cell(route, caller)) for route in routes for caller in CALLERS]
    wrong = []
    ordered = sorted(cells, key=lambda cell: (cell[2] == ALLOWED, cell[0][1].endswith(("/close", "/logout"))))
    for (method, path), caller, expected in ordered:
        if expected == ALLOWED and (method, path) in HOLDER:
            session_id, _ = queued_customer(client, "Cleo")
            fresh = next(h["id"] for h in client.get("/api/v1/handoffs", headers=world["ann"]).json()
                         if h["conversation_id"] == session_id)
            assert client.post(f"/api/v1/handoffs/{fresh}/claim", headers=world["ann"]).status_code == 200
            values["handoff_id"] = str(fresh)
            client.cookies.clear()
        status = call(client, method, path, values, headers[caller]).status_code
        got = ALLOWED if status not in (401, 403) else str(status)
        if got != expected:
            wrong.append(f"{caller} {method} {path}: {status}, expected {expected}")
        client.cookies.clear()
    assert not wrong, "\n".join(wrong)
    print(f"\nauthorisation matrix: {len(routes)} routes × {len(CALLERS)} callers = {len(cells)} cells")

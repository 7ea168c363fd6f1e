"""Staff ticket routes: list with filters, detail with history, create, change, comment,
the first reply as the first response, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import transaction, utcnow
from bot.tickets.models import Ticket
from bot.users.models import User
from tests.api.support import staff
from tests.factories import make_ticket


def ticket(**overrides) -> str:
    with transaction() as session:
        return make_ticket(session, now=overrides.pop("now", utcnow()), **overrides).reference


def user_id(email: str) -> int:
    with transaction() as session:
        return session.scalar(select(User.id).where(User.email == email))


def test_list_filters_by_status_assignee_and_words(client):
    ann = staff(client, "ann")
    parcel = ticket(description="Where is my parcel?")
    refund = ticket(description="Refund for order 4821 please", customer_email="bo@example.org")
    client.patch(f"/api/v1/tickets/{refund}", json={"assignee_id": user_id("ann@example.com")}, headers=ann)

    def refs(**params):
        page = client.get("/api/v1/tickets", params=params, headers=ann)
        assert page.status_code == 200, page.text
        return page.json()["total"], [t["reference"] for t in page.json()["items"]]

    assert refs() == (2, [refund, parcel])
    assert refs(assignee="me") == (1, [refund])
    assert refs(assignee=str(user_id("ann@example.com"))) == (1, [refund])
    assert refs(assignee="none") == (1, [parcel])
    assert refs(q="bo@example.org") == (1, [refund])
    assert refs(q=parcel.lower()) == (1, [parcel])
    assert refs(status="closed") == (0, [])
    client.patch(f"/api/v1/tickets/{parcel}", json={"status": "resolved"}, headers=ann)
    assert refs(status="active") == (1, [refund]) and refs(status="resolved") == (1, [parcel])
    assert refs(limit=1) == (2, [refund])
    [item] = client.get("/api/v1/tickets", params={"assignee": "me"}, headers=ann).json()["items"]
    assert item["assignee_name"] == "Ann"


@pytest.mark.parametrize("params", [{"status": "lost"}, {"assignee": "someone"}, {"limit": 0}, {"limit": 500},
                                    {"offset": -1}, {"q": "x" * 201}])
def test_bad_filters_are_422(client, params):
    answer = client.get("/api/v1/tickets", params=params, headers=staff(client, "ann"))
    assert answer.status_code == 422 and answer.json()["detail"]


def test_detail_shows_history_and_overdue_flags(client):
    reference = ticket(now=utcnow() - timedelta(days=10))
    detail = client.get(f"/api/v1/tickets/{reference}", headers=staff(client, "ann")).json()
    assert detail["ticket"]["reference"] == reference
    assert detail["ticket"]["first_response_overdue"] is True and detail["ticket"]["resolution_overdue"] is True
    assert [(e["kind"], e["actor"], e["to_value"]) for e in detail["events"]] == [("created", "bot", "new")]
    fresh = client.get(f"/api/v1/tickets/{ticket()}", headers=staff(client, "ann")).json()["ticket"]
    assert fresh["first_response_overdue"] is False and fresh["resolution_overdue"] is False


def test_a_ticket_closed_without_a_reply_is_not_flagged_overdue(client):
    """As the SLA watch counts it: a closed ticket's clocks have stopped, reply or not."""
    ann = staff(client, "ann")
    reference = ticket(now=utcnow() - timedelta(days=10))
    assert client.patch(f"/api/v1/tickets/{reference}", json={"status": "closed"}, headers=ann).status_code == 200
    closed = client.get(f"/api/v1/tickets/{reference}", headers=ann).json()["ticket"]
    assert (closed["first_responded_at"], closed["first_response_overdue"], closed["resolution_overdue"]) == (
        None, False, False)


def test_unknown_reference_is_404(client):
    ann = staff(client, "ann")
    assert client.get("/api/v1/tickets/TCK-2222AA", headers=ann).status_code == 404
    assert client.patch("/api/v1/tickets/nonsense", json={"status": "open"}, headers=ann).status_code == 404
    assert client.post("/api/v1/tickets/TCK-2222AA/comments", json={"text": "hi"}, headers=ann).status_code == 404


def test_patch_changes_everything_given_and_records_who(client):
    reference = ticket()
    ann = staff(client, "ann")
    ben_id = user_id("ben@example.com")
    changed = client.patch(f"/api/v1/tickets/{reference}", headers=ann,
                           json={"status": "open", "priority": "urgent", "assignee_id": ben_id})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["ticket"]["status"], body["ticket"]["priority"], body["ticket"]["assignee_name"]) == (
        "open", "urgent", "Ben")
    ann_actor = f"agent:{user_id('ann@example.com')}"
    assert [(e["kind"], e["from_value"], e["to_value"], e["actor"], e["actor_name"]) for e in body["events"][1:]] == [
        ("assignee", None, str(ben_id), ann_actor, "Ann"),
        ("priority", "normal", "urgent", ann_actor, "Ann"),
        ("status", "new", "open", ann_actor, "Ann"),
    ]
    # Urgent moves the due times (counted from creation).
    assert body["ticket"]["first_response_due"] < client.get(
        f"/api/v1/tickets/{ticket()}", headers=ann).json()["ticket"]["first_response_due"]

    unassigned = client.patch(f"/api/v1/tickets/{reference}", json={"assignee_id": None}, headers=ann).json()
    assert unassigned["ticket"]["assignee_id"] is None
    untouched = client.patch(f"/api/v1/tickets/{reference}", json={}, headers=ann).json()
    assert untouched["ticket"]["status"] == "open" and len(untouched["events"]) == len(unassigned["events"])


def test_a_refused_status_change_undoes_the_rest_of_the_patch(client):
    reference = ticket()
    ann = staff(client, "ann")
    client.patch(f"/api/v1/tickets/{reference}", json={"status": "closed"}, headers=ann)
    refused = client.patch(f"/api/v1/tickets/{reference}", headers=ann,
                           json={"assignee_id": user_id("ben@example.com"), "status": "pending"})
    assert refused.status_code == 409 and "a closed ticket cannot become pending" in refused.json()["detail"]
    with transaction() as session:
        stored = session.scalar(select(Ticket).where(Ticket.reference == reference))
        assert (stored.status, stored.assignee_id) == ("closed", None)
        assert [e.kind for e in stored.events] == ["created", "status"]


@pytest.mark.parametrize(("body", "code"), [({"status": "lost"}, 422), ({"priority": "asap"}, 422),
                                             ({"assignee_id": "ben"}, 422), ({"assignee_id": True}, 422),
                                             ({"subject": "new subject"}, 422),
                                             # A well-formed id the staff does not have (as for recovery
                                             # items and the inbox): the request is valid, the state says no.
                                             ({"assignee_id": 99999}, 409)])
def test_bad_patches_are_refused_and_change_nothing(client, body, code):
    reference = ticket()
    answer = client.patch(f"/api/v1/tickets/{reference}", json=body, headers=staff(client, "ann"))
    assert answer.status_code == code and answer.json()["detail"]
    with transaction() as session:
        stored = session.scalar(select(Ticket).where(Ticket.reference == reference))
        assert [e.kind for e in stored.events] == ["created"]


def test_first_public_reply_sets_first_response_and_notes_stay_staff_only(client):
    reference = ticket()
    ann = staff(client, "ann")
    note = client.post(f"/api/v1/tickets/{reference}/comments", json={"text": "VIP customer"}, headers=ann)
    assert note.status_code == 201 and note.json()["kind"] == "internal"
    with transaction() as session:
        assert session.scalar(select(Ticket.first_responded_at).where(Ticket.reference == reference)) is None

    reply = client.post(f"/api/v1/tickets/{reference}/comments", headers=ann,
                        json={"text": "  Your parcel is on its way.  ", "public": True})
    assert reply.status_code == 201
    assert (reply.json()["kind"], reply.json()["body"], reply.json()["actor_name"]) == (
        "reply", "Your parcel is on its way.", "Ann")
    detail = client.get(f"/api/v1/tickets/{reference}", headers=ann).json()
    assert detail["ticket"]["first_responded_at"] is not None and detail["ticket"]["status"] == "open"
    assert [e["kind"] for e in detail["events"]] == ["created", "internal", "reply", "status"]


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": "x" * 10_001}, {"public": True}, {}])
def test_bad_comments_are_422(client, body):
    reference = ticket()
    answer = client.post(f"/api/v1/tickets/{reference}/comments", json=body, headers=staff(client, "ann"))
    assert answer.status_code == 422


def test_staff_can_open_a_ticket_classified_like_the_bots(client):
    created = client.post("/api/v1/tickets", headers=staff(client, "ann"), json={
        "description": "I was charged twice for order 48213", "category": "billing_payments",
        "customer_email": "Ada@Example.com"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["ticket"]["reference"].startswith("TCK-") and body["ticket"]["customer_email"] == "ada@example.com"
    assert body["ticket"]["classification"] == "urgent"
    assert body["events"][0]["actor"] == f"agent:{user_id('ann@example.com')}"
    unknown = client.post("/api/v1/tickets", headers=staff(client, "ann"),
                          json={"description": "help", "category": "weather"})
    assert unknown.status_code == 422 and "unknown category" in unknown.json()["detail"]


ROUTES = [
    ("get", "/api/v1/tickets", None),
    ("post", "/api/v1/tickets", {"description": "help", "category": "other"}),
    ("get", "/api/v1/tickets/{ref}", None),
    ("patch", "/api/v1/tickets/{ref}", {"status": "open"}),
    ("post", "/api/v1/tickets/{ref}/comments", {"text": "hello"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_who_may_use_the_ticket_routes(client, method, path, body):
    reference = ticket()
    url = path.format(ref=reference)
    customer = client.post("/api/v1/chat/sessions", json={}).json()["token"]
    for headers, expected in [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": f"Bearer {customer}"}, 401),  # a customer's chat token is not a staff token
        (staff(client, "ann"), None),
        (staff(client, "meg"), None),
    ]:
        answer = client.request(method, url, json=body, headers=headers)
        if expected:
            assert answer.status_code == expected, (headers, answer.text)
        else:
            assert answer.status_code in (200, 201), answer.text


def test_tickets_of_one_chat_and_the_category_list(client):
    mine = ticket(conversation_id="chat-1")
    ticket(conversation_id="chat-2")
    ann = staff(client, "ann")
    page = client.get("/api/v1/tickets", params={"conversation_id": "chat-1"}, headers=ann).json()
    assert [t["reference"] for t in page["items"]] == [mine]
    categories = client.get("/api/v1/tickets/categories", headers=ann).json()
    assert categories[0] == {"key": "orders_shipping", "label": "Orders & shipping"}
    assert client.get("/api/v1/tickets/categories").status_code == 401


def test_agents_see_each_e_mail_to_the_customer_and_whether_it_went(client, configure):
    """Issue 18: a public reply is e-mailed to the customer; the ticket shows each e-mail's state, and a
    failure says why."""
    from bot.mail.sender import send_due
    from harness.stack import free_port

    reference = ticket()
    ann = staff(client, "ann")
    client.post(f"/api/v1/tickets/{reference}/comments", headers=ann, json={"text": "On its way.", "public": True})
    configure(smtp_url=f"smtp://127.0.0.1:{free_port()}", mail_max_attempts=1)  # nothing listens there
    send_due()
    mails = client.get(f"/api/v1/tickets/{reference}", headers=ann).json()["mails"]
    assert [(m["kind"], m["status"], m["attempts"]) for m in mails] == [("ticket_opened", "failed", 1),
                                                                       ("agent_reply", "failed", 1)]
    assert "Ann replied" in mails[1]["subject"] and "ConnectionRefusedError" in mails[1]["last_error"]


def test_agents_see_the_mail_held_for_a_person(client):
    """Issue 18: a reply held (a forged ticket address, a stranger writing) waits in GET /api/v1/mailbox."""
    from bot.mail.models import InboundMail

    reference = ticket()
    with transaction() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.reference == reference))
        session.add_all([
            InboundMail(message_id="<a@x>", from_address="mallory@example.com", subject="Re: refund", outcome="held",
                        reason="sent by mallory@example.com, not by the ticket's customer", ticket_id=ticket_id,
                        text="Send the refund to me"),
            InboundMail(message_id="<b@x>", from_address="ada@example.com", subject="Out of office",
                        outcome="ignored", reason="Auto-Submitted: auto-replied", text="")])
    ann = staff(client, "ann")
    held = client.get("/api/v1/mailbox", params={"outcome": "held"}, headers=ann).json()
    assert held["total"] == 1 and held["items"][0]["ticket_reference"] == reference
    assert held["items"][0]["text"] == "Send the refund to me"
    everything = client.get("/api/v1/mailbox", headers=ann).json()
    assert everything["total"] == 2
    assert everything["outbox"] == {"pending": 1, "sending": 0, "sent": 0, "failed": 0}  # the ticket's first


def test_agents_download_the_customer_s_files_as_downloads_only(client):
    """Issue 18: files from the customer's e-mail are listed on the ticket and downloaded, never shown
    inline or sniffed by the browser; another ticket's file is not reachable through this one."""
    from bot.settings import get_settings
    from bot.tickets.attachments import Offered, keep
    from bot.tickets.service import get_ticket

    reference, other = ticket(), ticket()
    pdf = b"%PDF-1.4\n<script>alert(1)</script>\n"
    with transaction() as session:
        [kept], _ = keep(session=session, ticket=get_ticket(session=session, reference=reference), event=None,
                         settings=get_settings(), files=[Offered("reçu 48213.pdf", "application/pdf", pdf)])
        file_id = kept.id
    ann = staff(client, "ann")
    [listed] = client.get(f"/api/v1/tickets/{reference}", headers=ann).json()["attachments"]
    assert (listed["id"], listed["filename"], listed["content_type"], listed["size"]) == (
        file_id, "reçu 48213.pdf", "application/pdf", len(pdf))
    download = client.get(f"/api/v1/tickets/{reference}/attachments/{file_id}", headers=ann)
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''re%C3%A7u%2048213.pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"
    assert client.get(f"/api/v1/tickets/{other}/attachments/{file_id}", headers=ann).status_code == 404
    assert client.get(f"/api/v1/tickets/{reference}/attachments/{file_id}").status_code == 401

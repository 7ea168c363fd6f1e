"""Agents take queued conversations: list, claim (409 for the loser, limit per agent), live
lines both ways, private notes, transfer, the customer leaving the queue, and who may do what."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversations.models import ConversationEvent, Message
from bot.db import transaction
from tests.api.support import queued_customer, staff


def test_the_queue_lists_waiting_customers_oldest_first(client):
    first, _ = queued_customer(client, "Ada")
    second, _ = queued_customer(client, "Bob")
    queue = client.get("/api/v1/handoffs", params={"status": "queued"}, headers=staff(client, "ann")).json()
    assert [(h["conversation_id"], h["queue_position"], h["customer_name"]) for h in queue] == [
        (first, 1, "Ada"), (second, 2, "Bob")]
    assert queue[0]["reason"] == "requested" and queue[0]["wait_seconds"] >= 0


def test_claim_then_both_sides_talk_and_the_bot_hears_nothing(client, rasa):
    session_id, customer = queued_customer(client)
    ann = staff(client, "ann")
    [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
    claimed = client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann)
    assert claimed.status_code == 200 and claimed.json()["status"] == "active" and claimed.json()["agent_name"] == "Ann"

    relayed = len(rasa.received)
    line = client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "Hi, I'm Ann. How can I help?"},
                       headers=ann)
    assert line.status_code == 201 and line.json()["sender"] == "agent" and line.json()["agent_name"] == "Ann"
    reply = client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "my parcel is lost"},
                        headers=customer).json()
    assert reply == {"messages": [], "state": "agent"}
    assert len(rasa.received) == relayed

    seen = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()
    assert seen["state"] == "agent"
    tail = [(m["sender"], m["text"]) for m in seen["messages"]][-3:]
    assert tail == [("system", "Ann joined the chat."), ("agent", "Hi, I'm Ann. How can I help?"),
                    ("customer", "my parcel is lost")]

    detail = client.get(f"/api/v1/handoffs/{waiting['id']}", headers=ann).json()
    assert [m["sender"] for m in detail["transcript"]][:2] == ["customer", "bot"]  # the bot's part is there too
    with transaction() as session:
        events = session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == session_id)
                                 .order_by(ConversationEvent.id)).all()
        assert [(e.from_state, e.to_state, e.actor) for e in events] == [
            ("bot", "queued", "bot"), ("queued", "agent", f"agent:{claimed.json()['agent_id']}")]


def test_a_second_claim_is_409(client):
    queued_customer(client)
    [waiting] = client.get("/api/v1/handoffs", headers=staff(client, "ann")).json()
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=staff(client, "ann")).status_code == 200
    late = client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=staff(client, "ben"))
    assert late.status_code == 409 and "no longer waiting" in late.json()["detail"]


def test_an_agent_cannot_hold_more_live_chats_than_the_limit(client):
    ann = staff(client, "ann")
    for name in ("Ada", "Bob", "Cid"):
        queued_customer(client, name)
    waiting = client.get("/api/v1/handoffs", headers=ann).json()
    assert [client.post(f"/api/v1/handoffs/{h['id']}/claim", headers=ann).status_code for h in waiting] == [
        200, 200, 409]
    # The refused claim left the third customer waiting for someone else.
    [still] = client.get("/api/v1/handoffs", headers=ann).json()
    assert still["customer_name"] == "Cid"
    assert client.post(f"/api/v1/handoffs/{still['id']}/claim", headers=staff(client, "ben")).status_code == 200


def test_only_the_holder_may_post_and_notes_stay_private(client):
    session_id, customer = queued_customer(client)
    ann, ben = staff(client, "ann"), staff(client, "ben")
    [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
    url = f"/api/v1/handoffs/{waiting['id']}"
    assert client.post(f"{url}/messages", json={"text": "too early"}, headers=ann).status_code == 403
    client.post(f"{url}/claim", headers=ann)
    assert client.post(f"{url}/messages", json={"text": "not mine"}, headers=ben).status_code == 403
    note = client.post(f"{url}/notes", json={"text": "Customer sounds upset; offer a voucher"}, headers=ben)
    assert note.status_code == 201
    assert client.get(url, headers=ann).json()["notes"][0]["text"] == "Customer sounds upset; offer a voucher"
    customer_view = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()
    assert all("voucher" not in m["text"] for m in customer_view["messages"])
    assert client.post(f"{url}/messages", json={"text": "x" * 2001}, headers=ann).status_code == 413
    assert client.post(f"{url}/messages", json={"text": "  "}, headers=ann).status_code == 422


def test_transfer_moves_the_chat_and_tells_the_customer(client):
    session_id, customer = queued_customer(client)
    ann, ben = staff(client, "ann"), staff(client, "ben")
    [waiting] = client.get("/api/v1/handoffs", headers=ann).json()
    client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=ann)
    ben_id = client.get("/api/v1/auth/me", headers=ben).json()["id"]
    moved = client.post(f"/api/v1/handoffs/{waiting['id']}/transfer", json={"agent_id": ben_id}, headers=ann)
    assert moved.status_code == 200 and moved.json()["agent_name"] == "Ben"
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "x"}, headers=ann).status_code == 403
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/messages", json={"text": "Ben here"},
                       headers=ben).status_code == 201
    texts = [m["text"] for m in client.get(f"/api/v1/chat/sessions/{session_id}/messages",
                                           headers=customer).json()["messages"]]
    assert "Ann handed the chat to Ben." in texts and texts[-1] == "Ben here"
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/transfer", json={"agent_id": 999},
                       headers=ben).status_code == 404


def test_the_customer_may_leave_the_queue_and_the_bot_answers_again(client, rasa):
    session_id, customer = queued_customer(client)
    left = client.post(f"/api/v1/chat/sessions/{session_id}/handoff/cancel", headers=customer)
    assert left.status_code == 200 and left.json()["state"] == "bot"
    assert client.get("/api/v1/handoffs", headers=staff(client, "ann")).json() == []
    cancelled = client.get("/api/v1/handoffs", params={"status": "cancelled"}, headers=staff(client, "ann")).json()
    assert len(cancelled) == 1
    again = client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"text": "hi"}, headers=customer).json()
    assert again["state"] == "bot" and again["messages"][0]["sender"] == "bot"
    assert client.post(f"/api/v1/chat/sessions/{session_id}/handoff/cancel", headers=customer).status_code == 409


def test_agent_routes_need_a_staff_token(client):
    _, customer = queued_customer(client)
    for method, path in [("get", "/api/v1/handoffs"), ("get", "/api/v1/handoffs/1"),
                         ("post", "/api/v1/handoffs/1/claim"), ("post", "/api/v1/handoffs/1/messages"),
                         ("post", "/api/v1/handoffs/1/notes"), ("post", "/api/v1/handoffs/1/transfer")]:
        assert getattr(client, method)(path).status_code == 401
        assert getattr(client, method)(path, headers=customer).status_code == 401  # a customer token is not staff
    with transaction() as session:
        assert session.scalars(select(Message).where(Message.sender == "agent")).all() == []


def claimed(client, agent="ann") -> tuple[str, dict, int, dict]:
    session_id, customer = queued_customer(client)
    headers = staff(client, agent)
    [waiting] = client.get("/api/v1/handoffs", headers=headers).json()
    assert client.post(f"/api/v1/handoffs/{waiting['id']}/claim", headers=headers).status_code == 200
    return session_id, customer, waiting["id"], headers


def test_resolve_returns_the_chat_to_the_bot_which_is_told_who_helped(client, rasa):
    session_id, customer, handoff_id, ann = claimed(client)
    done = client.post(f"/api/v1/handoffs/{handoff_id}/resolve", headers=ann)
    assert done.status_code == 200
    body = done.json()
    assert body["handoff"]["status"] == "resolved"
    assert [m["text"] for m in body["messages"]] == ["Ann has finished helping you.",
                                                     "Before you go: a few quick questions?"]
    assert rasa.triggered == [(session_id, {"name": "EXTERNAL_handoff_done", "entities": {"agent": "Ann"}})]
    seen = client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()
    assert seen["state"] == "bot"
    assert [m["text"] for m in seen["messages"]][-3:] == ["Ann has left the chat.", "Ann has finished helping you.",
                                                          "Before you go: a few quick questions?"]
    # The bot owns the conversation again: the customer's next line reaches it.
    relayed = len(rasa.received)
    client.post(f"/api/v1/chat/sessions/{session_id}/messages", json={"payload": "/affirm"}, headers=customer)
    assert len(rasa.received) == relayed + 1
    assert client.post(f"/api/v1/handoffs/{handoff_id}/resolve", headers=ann).status_code == 403


def test_only_the_holder_may_resolve(client):
    _, _, handoff_id, _ = claimed(client)
    assert client.post(f"/api/v1/handoffs/{handoff_id}/resolve", headers=staff(client, "ben")).status_code == 403


def test_resolve_can_set_the_linked_tickets_status(client):
    from bot.tickets.schemas import TicketCreate
    from bot.tickets.service import create_ticket, get_ticket

    with transaction() as session:
        reference = create_ticket(session=session, data=TicketCreate(description="Parcel lost", category="other",
                                                                      customer_email="ada@example.com")).reference
    _, _, handoff_id, ann = claimed(client)
    missing = client.post(f"/api/v1/handoffs/{handoff_id}/resolve", json={"ticket_ref": "TCK-ZZZZZZ"}, headers=ann)
    assert missing.status_code == 404  # and nothing changed:
    assert client.get(f"/api/v1/handoffs/{handoff_id}", headers=ann).json()["handoff"]["status"] == "active"
    done = client.post(f"/api/v1/handoffs/{handoff_id}/resolve",
                       json={"ticket_ref": reference.lower(), "ticket_status": "resolved"}, headers=ann)
    assert done.status_code == 200
    with transaction() as session:
        assert get_ticket(session=session, reference=reference).status == "resolved"


def test_when_rasa_is_down_resolve_still_hands_the_chat_back(client, rasa):
    session_id, customer, handoff_id, ann = claimed(client)
    rasa.down = True
    done = client.post(f"/api/v1/handoffs/{handoff_id}/resolve", headers=ann)
    assert done.status_code == 200 and done.json()["messages"] == []
    assert client.get(f"/api/v1/chat/sessions/{session_id}/messages", headers=customer).json()["state"] == "bot"


def test_a_ticket_status_without_a_ticket_is_refused_and_nothing_changes(client):
    _, _, handoff_id, ann = claimed(client)
    refused = client.post(f"/api/v1/handoffs/{handoff_id}/resolve", json={"ticket_status": "resolved"}, headers=ann)
    assert refused.status_code == 422 and "needs ticket_ref" in refused.json()["detail"]
    assert client.get(f"/api/v1/handoffs/{handoff_id}", headers=ann).json()["handoff"]["status"] == "active"


def test_an_agent_joins_a_bot_chat_unasked_and_the_bot_goes_quiet_until_resolve(client, rasa):
    created = client.post("/api/v1/chat/sessions", json={"name": "Cy"}).json()
    session_id, customer = created["session_id"], {"Authorization": f"Bearer {created['token']}"}
    url = f"/api/v1/chat/sessions/{session_id}/messages"
    client.post(url, json={"text": "where is my order 4821?"}, headers=customer)
    ann, ben = staff(client, "ann"), staff(client, "ben")

    [live] = client.get("/api/v1/conversations", headers=ann).json()
    assert (live["id"], live["customer_name"], live["last_customer_line"]) == (
        session_id, "Cy", "where is my order 4821?")

    joined = client.post(f"/api/v1/conversations/{session_id}/join", headers=ann)
    assert joined.status_code == 200, joined.text
    assert (joined.json()["status"], joined.json()["reason"], joined.json()["agent_name"]) == (
        "active", "agent_joined", "Ann")
    assert client.post(f"/api/v1/conversations/{session_id}/join", headers=ben).status_code == 409
    assert client.get("/api/v1/conversations", headers=ann).json() == []

    relayed = len(rasa.received)
    assert client.post(url, json={"text": "oh hello"}, headers=customer).json() == {"messages": [], "state": "agent"}
    assert len(rasa.received) == relayed
    lines = client.get(url, headers=customer).json()["messages"]
    assert [(m["sender"], m["text"]) for m in lines][-2:] == [("system", "Ann joined the chat."),
                                                              ("customer", "oh hello")]

    resolved = client.post(f"/api/v1/handoffs/{joined.json()['id']}/resolve", headers=ann)
    assert resolved.status_code == 200 and rasa.triggered[-1][0] == session_id
    assert client.post(url, json={"text": "hi"}, headers=customer).json()["state"] == "bot"
    with transaction() as session:
        events = session.scalars(select(ConversationEvent).where(ConversationEvent.conversation_id == session_id)
                                 .order_by(ConversationEvent.id)).all()
        assert [(e.from_state, e.to_state, e.reason) for e in events] == [
            ("bot", "agent", "agent joined"), ("agent", "bot", "resolved")]


def test_joining_respects_the_agents_limit_and_unknown_chats_are_404(client):
    ann = staff(client, "ann")
    chats = []
    for _ in range(3):
        created = client.post("/api/v1/chat/sessions", json={}).json()
        client.post(f"/api/v1/chat/sessions/{created['session_id']}/messages", json={"text": "hi"},
                    headers={"Authorization": f"Bearer {created['token']}"})
        chats.append(created["session_id"])
    codes = [client.post(f"/api/v1/conversations/{chat}/join", headers=ann).status_code for chat in chats]
    assert codes == [200, 200, 409]  # the fixture allows two live chats per agent
    assert client.get("/api/v1/conversations", headers=ann).json()[0]["id"] == chats[2]  # still with the bot
    assert client.post("/api/v1/conversations/nonexistent/join", headers=ann).status_code == 404

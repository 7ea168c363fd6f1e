"""The customer chat gateway in front of the real Rasa server: relay, buttons, handoff, silence."""

from __future__ import annotations

import os
import signal

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from bot.conversations.models import Conversation, Handoff, Message
from tests.e2e.lines import unplaceable

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"
@pytest.fixture(scope="module")
def agent(stack) -> dict:
    """Sam, signed in and online (with nobody online a request for a person becomes a ticket)."""
    from sqlalchemy.orm import sessionmaker

    from bot.db import make_engine, transaction
    from bot.users.schemas import UserCreate
    from bot.users.service import create_user

    engine = make_engine(stack.database_url)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email="sam.e2e@example.com", name="Sam", role="agent",
                                                     password=PASSWORD))
    engine.dispose()
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1", timeout=60)
    token = api.post("/auth/token", data={"username": "sam.e2e@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert api.put("/auth/me/presence", json={"presence": "online"}, headers=headers).status_code == 200
    return headers


def test_customer_chats_through_the_api_until_a_person_is_asked_for(stack, agent):
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Grace", "email": "grace@example.com"})
    assert created.status_code == 201
    session_id, token = created.json()["session_id"], created.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    greeting = api.post(f"/sessions/{session_id}/messages", json={"text": "hello"}, headers=headers).json()
    assert greeting["state"] == "bot"
    assert "Brightside" in " ".join(m["text"] for m in greeting["messages"])
    buttons = [b for m in greeting["messages"] for b in m["buttons"]]
    assert buttons, "the greeting offers the main paths as buttons"

    faq = api.post(f"/sessions/{session_id}/messages", json={"text": "how long does delivery take?"},
                   headers=headers).json()
    assert faq["state"] == "bot" and "business days" in " ".join(m["text"] for m in faq["messages"])

    handoff = api.post(f"/sessions/{session_id}/messages", json={"text": "I want to talk to a real person"},
                       headers=headers).json()
    assert handoff["state"] == "queued"
    assert [m["sender"] for m in handoff["messages"]][-1] == "system"

    waiting = api.post(f"/sessions/{session_id}/messages", json={"text": "ok, waiting"}, headers=headers).json()
    assert waiting == {"messages": [], "state": "queued"}

    restored = api.get(f"/sessions/{session_id}/messages", headers=headers).json()
    senders = [m["sender"] for m in restored["messages"]]
    assert senders[0] == "customer" and senders[-1] == "customer" and "bot" in senders and "system" in senders

    engine = create_engine(stack.database_url)
    with Session(engine) as session:
        conversation = session.get(Conversation, session_id)
        assert conversation.state == "queued" and conversation.customer_email == "grace@example.com"
        [request] = session.scalars(select(Handoff).where(Handoff.conversation_id == session_id)).all()
        assert request.reason == "requested" and request.status == "queued"
        lines = session.scalars(select(Message).where(Message.conversation_id == session_id)).all()
        assert len(lines) == len(restored["messages"])
    engine.dispose()


def test_agent_takes_over_chats_and_resolves_back_to_the_bot(stack, agent):
    engine = create_engine(stack.database_url)
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1", timeout=60)
    created = api.post("/chat/sessions", json={"name": "Lin"}).json()
    session_id, customer = created["session_id"], {"Authorization": f"Bearer {created['token']}"}

    def say(**body) -> dict:
        response = api.post(f"/chat/sessions/{session_id}/messages", json=body, headers=customer)
        assert response.status_code == 200, response.text
        return response.json()

    assert say(text="can I talk to a human please")["state"] == "queued"
    [waiting] = [h for h in api.get("/handoffs", headers=agent).json() if h["conversation_id"] == session_id]
    assert api.post(f"/handoffs/{waiting['id']}/claim", headers=agent).status_code == 200
    assert api.post(f"/handoffs/{waiting['id']}/messages", json={"text": "Hi Lin, Sam here."},
                    headers=agent).status_code == 201
    assert say(text="thanks Sam, all sorted") == {"messages": [], "state": "agent"}

    resolved = api.post(f"/handoffs/{waiting['id']}/resolve", headers=agent)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["handoff"]["status"] == "resolved"
    # The bot is told who helped, says so and offers the survey (attributed to Sam).
    told = [m["text"] for m in resolved.json()["messages"]]
    assert told[0].startswith("Sam has finished helping you") and "quick questions" in told[1]
    # The bot owns the conversation again and answers.
    back = say(text="how long does delivery take?")
    assert back["state"] == "bot" and "business days" in " ".join(m["text"] for m in back["messages"])
    with Session(engine) as session:
        senders = [line.sender for line in session.scalars(
            select(Message).where(Message.conversation_id == session_id).order_by(Message.id))]
        assert senders.count("agent") == 1 and senders[-1] == "bot"
    engine.dispose()


def test_lines_the_bot_could_not_understand_are_flagged_for_the_fallback_rate(stack):
    """The real bot's two-stage fallback: the first line it cannot place gets a request to rephrase (or
    a guess to confirm);
    a second one in a row makes it give up (our action_default_fallback, in place of Rasa's). Both
    lines are flagged, so the fallback rate and the top unrecognised lines count them. Which free text
    the classifier cannot place changes with each training, so the lines are picked by asking this
    model (`unplaceable`); typed "/nlu_fallback" no longer works, the gateway reads typed text as text."""
    line = unplaceable(stack)
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Ode"}).json()
    session_id, headers = created["session_id"], {"Authorization": f"Bearer {created['token']}"}

    def say(text: str) -> str:
        response = api.post(f"/sessions/{session_id}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "bot"
        return " ".join(m["text"] for m in response.json()["messages"])

    say("hello")
    # The first stage: "Could you say it another way?" where the classifier's best guess is out of scope
    # (or a bare value, a yes or a no), else "Did you want to <its best guess>?"; which one depends on the
    # training. Never "still": that is for a second miss in a row (issue 14).
    first = say(line)
    assert "say it another way" in first or "not sure I understood" in first, first
    assert "still" not in first, first
    gave_up = say(line)
    assert "still can't work out what you need" in gave_up, gave_up
    assert "fallback" not in gave_up  # the signal is for the API, never shown
    engine = create_engine(stack.database_url)
    with Session(engine) as session:
        lines = session.execute(select(Message.text, Message.fallback).where(
            Message.conversation_id == session_id, Message.sender == "customer").order_by(Message.id)).all()
    engine.dispose()
    assert [tuple(row) for row in lines] == [("hello", False), (line, True), (line, True)]


def test_a_bare_value_with_nothing_asked_gets_what_the_bot_can_do_and_never_still(stack):
    """A value with nothing asked for (a bare e-mail address, which the classifier reads as `inform`) is
    not a miss (issue 14): the bot keeps what it holds and asks what it can do with it, with the main
    paths as buttons, the first time and the next, never "still can't work out"."""
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Uma"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}

    def say(text: str) -> dict:
        response = api.post(f"/sessions/{created['session_id']}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    for _ in range(2):
        said = say("uma.example@example.com")["messages"]
        text = " ".join(m["text"] for m in said)
        assert text.startswith("Thanks, I've noted uma.example@example.com. What can I help you with?"), text
        assert "still" not in text, text
        assert [b["payload"] for b in said[-1]["buttons"]][:2] == ["/open_ticket", "/check_ticket_status"]


def test_an_explicit_ticket_request_with_a_question_beside_it_gets_the_answer_and_the_ticket(stack):
    """Issue 14: "I need to open a ticket. <a question an FAQ answers>" does what was asked, and the
    question is answered first instead of being dropped (or answered instead of the ticket)."""
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Ida"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    response = api.post(f"/sessions/{created['session_id']}/messages", headers=headers,
                        json={"text": "I need to open a ticket. Do you deliver to Austria?"})
    assert response.status_code == 200, response.text
    said = [m["text"] for m in response.json()["messages"]]
    assert said[0].startswith("First, your question: We deliver to all EU countries"), said
    assert "Let's open a ticket. What's your name?" in said, said


def test_two_questions_in_one_line_are_taken_in_turn(stack):
    """Issue 14: a line that asks two things gets the first answered and the second offered as a
    button that asks it; pressing it gets that answer. Through the API, so the button is one the
    gateway accepts (it takes only payloads the bot offered in its latest reply)."""
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Olu"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}

    def send(body: dict) -> list[dict]:
        response = api.post(f"/sessions/{created['session_id']}/messages", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["messages"]

    said = send({"text": "How long does delivery take within Germany? and also how do I reset my password"})
    assert "business days" in said[0]["text"], said
    assert "first question" in said[-1]["text"], said
    [button] = said[-1]["buttons"]
    assert (button["title"], button["payload"]) == ("how do I reset my password",) * 2, button
    answer = " ".join(m["text"] for m in send({"payload": button["payload"]}))
    assert "password" in answer.lower() and "business days" not in answer, answer


def test_a_rasa_server_killed_in_the_middle_of_a_form_goes_on_with_it_after_a_restart(stack):
    """Issue 16, item 1: the conversation's state is in the tracker store (an SQLite file here), not
    in the Rasa process, so a Rasa server killed outright and started again continues the ticket
    form where it was instead of meeting the customer's next answer as a stranger."""
    api = httpx.Client(base_url=f"http://{stack.host}:{stack.api_port}/api/v1/chat", timeout=60)
    created = api.post("/sessions", json={"name": "Kai"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}

    def say(text: str) -> list[str]:
        response = api.post(f"/sessions/{created['session_id']}/messages", json={"text": text}, headers=headers)
        assert response.status_code == 200, response.text
        return [m["text"] for m in response.json()["messages"]]

    assert "Let's open a ticket. What's your name?" in say("I want to open a ticket")
    assert "Which e-mail address should we use to reach you?" in say("Kai Berger")

    rasa = stack.service("rasa-0").process
    os.killpg(rasa.pid, signal.SIGKILL)
    rasa.wait(timeout=30)
    stack.restart_service("rasa-0", timeout=400)

    said = say("kai.berger@example.com")
    assert "What is it about?" in said, said  # the form's next question, with the e-mail taken


def test_a_socket_frame_over_64_kib_closes_the_socket(stack):
    """Issue 17: uvicorn took WebSocket frames of up to 16 MiB; the stack runs it with --ws-max-size."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    created = httpx.post(f"http://{stack.host}:{stack.api_port}/api/v1/chat/sessions", json={}, timeout=30).json()
    url = f"ws://{stack.host}:{stack.api_port}/api/v1/chat/sessions/{created['session_id']}/ws?token={created['token']}"
    with connect(url, max_size=None) as socket:
        assert '"state"' in socket.recv(timeout=30)
        socket.send('{"type": "typing", "typing": true, "pad": "' + "x" * 70_000 + '"}')
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009

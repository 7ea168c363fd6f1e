"""Issue 18: the customer's page of their ticket, opened by the link in each e-mail (no account)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.db import transaction, utcnow
from bot.mail.models import OutboxMail
from bot.privacy.run import erase_customer
from bot.tickets.links import issue_link
from bot.tickets.models import Ticket
from tests.api.support import staff
from tests.factories import make_ticket

LINK = re.compile(r"/ticket#token=([A-Za-z0-9_-]+)")


def opened(**fields) -> tuple[str, str]:
    """A ticket with an e-mail address, and the token of the link its first e-mail carries."""
    with transaction() as session:
        ticket = make_ticket(session, now=utcnow(), **fields)
        text = session.scalar(select(OutboxMail.text_body).where(OutboxMail.ticket_id == ticket.id))
        return ticket.reference, LINK.search(text).group(1)


def page(client, token: str, path: str = "", **kwargs):
    method = "POST" if path else "GET"
    return client.request(method, f"/api/v1/ticket-page{path}", headers={"Authorization": f"Bearer {token}"},
                          **kwargs)


def test_the_link_in_the_e_mail_opens_the_ticket_with_its_public_history_only(client):
    reference, token = opened(description="The kettle I ordered leaks", customer_email="ada@example.com")
    ann = staff(client, "ann")
    client.post(f"/api/v1/tickets/{reference}/comments", headers=ann, json={"text": "VIP, be quick", "public": False})
    client.post(f"/api/v1/tickets/{reference}/comments", headers=ann, json={"text": "A new one is on its way."
                                                                               , "public": True})
    shown = page(client, token)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["reference"] == reference and body["status"] == "open" and body["first_responded_at"]
    assert [(item["kind"], item["who"]) for item in body["history"]] == [
        ("created", "Brightside"), ("reply", "Ann"), ("status", "Ann")]
    assert body["history"][0]["text"] == "The kettle I ordered leaks"
    assert "VIP" not in shown.text  # a private note stays with staff


def test_the_files_the_customer_sent_are_named_under_their_words(client):
    from bot.settings import get_settings
    from bot.tickets.attachments import Offered, keep
    from bot.tickets.service import add_customer_info, get_ticket

    reference, token = opened()
    with transaction() as session:
        ticket = get_ticket(session=session, reference=reference)
        note = add_customer_info(session=session, ticket=ticket, text="Photo of the leak attached.",
                                 actor="customer:ada@example.com")
        keep(session=session, ticket=ticket, event=note, settings=get_settings(),
             files=[Offered("leak.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40)])
    [item] = [item for item in page(client, token).json()["history"] if item["kind"] == "note"]
    assert (item["text"], item["files"]) == ("Photo of the leak attached.", ["leak.png"])


def test_adding_to_a_solved_ticket_opens_it_again_and_closing_ends_it(client):
    reference, token = opened()
    ann = staff(client, "ann")
    assert client.patch(f"/api/v1/tickets/{reference}", headers=ann, json={"status": "resolved"}).status_code == 200
    added = page(client, token, "/comments", json={"text": "It still leaks."})
    assert added.status_code == 201 and added.json()["status"] == "open"
    assert added.json()["history"][-2:] == [
        {"at": added.json()["history"][-2]["at"], "kind": "note", "who": "you", "text": "It still leaks.", "files": []},
        {"at": added.json()["history"][-1]["at"], "kind": "status", "who": "you", "text": "open", "files": []}]
    closed = page(client, token, "/close").json()
    assert closed["status"] == "closed"
    again = page(client, token, "/close")  # a second click changes nothing
    assert again.status_code == 200 and again.json()["history"] == closed["history"]
    with transaction() as session:
        kinds = list(session.scalars(select(OutboxMail.kind).order_by(OutboxMail.id)))
    assert kinds == ["ticket_opened", "resolved"]  # what the customer did is not mailed back to them


def test_a_wrong_expired_or_revoked_link_is_401_alike(client, configure):
    reference, token = opened(customer_email="ada@example.com")
    answers = [page(client, "not-a-token"), page(client, token[:-1] + ("A" if token[-1] != "A" else "B"))]
    with transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        old = issue_link(session=session, ticket=ticket, now=utcnow() - timedelta(days=91))
    answers.append(page(client, old))
    erase_customer("ada@example.com", actor="cli:test")  # an erasure revokes every link
    answers.append(page(client, token))
    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.json()["detail"] for answer in answers}) == 1


def test_the_page_is_served_with_the_pages_security_headers(client):
    answer = client.get("/ticket")
    assert answer.status_code == 200 and "Add to your request" in answer.text
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


def solved(client, reference: str) -> None:
    ann = staff(client, "ann")
    assert client.patch(f"/api/v1/tickets/{reference}", headers=ann, json={"status": "resolved"}).status_code == 200


def test_the_solved_e_mail_asks_for_the_survey_on_the_same_link(client):
    reference, token = opened()
    solved(client, reference)
    with transaction() as session:
        text = session.scalar(select(OutboxMail.text_body).where(OutboxMail.kind == "resolved"))
    assert "How did we do?" in text and re.search(r"/survey#token=[A-Za-z0-9_-]+", text)
    survey_token = re.search(r"/survey#token=([A-Za-z0-9_-]+)", text).group(1)
    assert page(client, survey_token, "/survey").status_code == 405  # GET only: the page reads it
    assert client.get("/api/v1/ticket-page/survey", headers={"Authorization": f"Bearer {survey_token}"}
                      ).json()["questions"][0]["key"] == "csat"
    assert client.get("/survey").status_code == 200


def test_the_survey_after_a_ticket_stores_each_answer_for_the_agent_who_solved_it(client):
    from bot.surveys.models import SurveyResponse

    reference, token = opened()
    headers = {"Authorization": f"Bearer {token}"}

    def answer(key: str, text: str):
        return client.post("/api/v1/ticket-page/survey/answers", headers=headers, json={"key": key, "answer": text})

    assert answer("csat", "4").status_code == 409  # not solved yet
    solved(client, reference)
    first = answer("csat", "4")
    assert first.status_code == 200 and first.json()["questions"][0]["answer"] == 4
    assert answer("speed", "banana").status_code == 422
    for key, text in (("solved", "yes"), ("speed", "5"), ("solution", "4"), ("courtesy", "5")):
        assert answer(key, text).status_code == 200
    done = answer("comment", "Quick and kind, thanks")
    assert done.json()["completed"] is True and done.json()["recovery_reference"] is None
    assert answer("csat", "1").status_code == 409  # answered: it stays as given
    with transaction() as session:
        response = session.scalar(select(SurveyResponse).where(SurveyResponse.conversation_id == f"ticket:{reference}"))
        assert (response.channel, response.agent, response.customer_email) == ("page", "Ann", "ada@example.com")
        given = [(a.question_key, a.score, a.text) for a in response.answers]
        assert given[:2] == [("csat", 4, None), ("solved", 1, None)]


def test_a_low_score_after_a_ticket_opens_recovery_as_in_chat(client):
    from bot.recovery.models import RecoveryItem

    reference, token = opened()
    solved(client, reference)
    low = client.post("/api/v1/ticket-page/survey/answers", headers={"Authorization": f"Bearer {token}"},
                      json={"key": "csat", "answer": "terrible"})
    assert low.status_code == 200 and low.json()["questions"][0]["answer"] == 1
    recovery = low.json()["recovery_reference"]
    with transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == recovery))
        assert ticket.priority == "high" and "Service recovery" in ticket.subject
        [item] = session.scalars(select(RecoveryItem)).all()
        assert item.source == "survey" and item.ticket_id == ticket.id


def test_a_customer_turns_survey_e_mails_off_and_on_and_e_mail_about_the_request_still_goes(client):
    from bot.mail.models import OutboxMail

    reference, token = opened(customer_email="ada@example.com")
    ann = staff(client, "ann")
    assert page(client, token).json()["surveys_by_email"] is True
    off = page(client, token, "/mail-preferences", json={"surveys": False})
    assert off.status_code == 200 and off.json()["surveys_by_email"] is False
    assert page(client, token, "/mail-preferences", json={"surveys": "no"}).status_code == 422
    client.post(f"/api/v1/tickets/{reference}/comments", headers=ann, json={"text": "Fixed.", "public": True})
    client.patch(f"/api/v1/tickets/{reference}", headers=ann, json={"status": "resolved"})
    with transaction() as session:
        solved = session.scalars(select(OutboxMail).where(OutboxMail.kind == "resolved")).all()[-1]
        assert "/survey#" not in solved.text_body and solved.unsubscribe_url is None
        assert session.scalar(select(OutboxMail).where(OutboxMail.kind == "agent_reply")) is not None
    on = page(client, token, "/mail-preferences", json={"surveys": True})
    assert on.json()["surveys_by_email"] is True


def test_one_click_in_the_mail_program_stops_the_surveys(client):
    from bot.mail.models import OutboxMail

    reference, token = opened(customer_email="bo@example.com")
    client.patch(f"/api/v1/tickets/{reference}", headers=staff(client, "ann"), json={"status": "resolved"})
    with transaction() as session:
        solved = session.scalars(select(OutboxMail).where(OutboxMail.kind == "resolved")).all()[-1]
        assert "/survey#token=" in solved.text_body and solved.unsubscribe_url
        one_click = "/api/v1/" + solved.unsubscribe_url.split("/api/v1/", 1)[1]
    assert client.post("/api/v1/ticket-page/unsubscribe?token=forged").status_code == 401
    clicked = client.post(one_click, content="List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert clicked.status_code == 200 and clicked.json() == {"surveys_by_email": False}
    assert page(client, token).json()["surveys_by_email"] is False

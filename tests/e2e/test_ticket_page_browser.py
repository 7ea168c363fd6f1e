"""Issue 18: a customer opens the link in the e-mail about their ticket in a real browser (Debian's
Chromium): sees its state, our promise and the public history, adds to it, and closes it; the agent sees
what they added."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import sessionmaker

from bot.db import make_engine, transaction
from tests.e2e.staff import e_mail_about, signed_in_agent

pytestmark = pytest.mark.e2e
WAIT_MS = 30_000
LINK = re.compile(r"http://\S+/ticket#token=[A-Za-z0-9_-]+")


def test_a_customer_follows_the_e_mail_link_answers_and_closes(stack, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    api, lee = signed_in_agent(stack, "lee.agent@example.com", "Lee")
    created = api.post("/tickets", headers=lee, json={
        "description": "The <b>toaster</b> I bought sparks when I switch it on", "category": "product_technical",
        "customer_name": "Rui", "customer_email": "rui.customer@example.com"})
    reference = created.json()["ticket"]["reference"]
    api.post(f"/tickets/{reference}/comments", headers=lee, json={"text": "Please stop using it. Which model is it?",
                                                                   "public": True})
    api.patch(f"/tickets/{reference}", headers=lee, json={"status": "pending"})
    message = e_mail_about(stack, reference, "agent_reply")
    link = LINK.search(message.get_body(("plain",)).get_content()).group(0)

    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(link)
    expect(page.get_by_test_id("ticket-reference")).to_have_text(reference)
    assert "#" not in page.url  # the token leaves the address bar once read
    expect(page.get_by_test_id("ticket-status")).to_have_text("waiting for an answer from you")
    history = page.get_by_test_id("ticket-history")
    expect(history).to_contain_text("The <b>toaster</b> I bought sparks")  # shown as text, not markup
    expect(history).to_contain_text("Lee replied")
    expect(history).to_contain_text("Which model is it?")
    expect(page.get_by_test_id("ticket-promise")).to_contain_text("answered")

    page.get_by_test_id("add-text").fill("It is the T-200, bought in March.")
    page.get_by_test_id("add-submit").click()
    expect(page.get_by_test_id("ticket-note")).to_contain_text("added that to your request")
    expect(page.get_by_test_id("ticket-status")).to_have_text("being worked on")
    page.reload()  # the link is kept for this tab
    expect(history).to_contain_text("It is the T-200, bought in March.")
    detail = api.get(f"/tickets/{reference}", headers=lee).json()
    assert detail["ticket"]["status"] == "open"
    assert detail["events"][-2]["body"] == "It is the T-200, bought in March."

    page.get_by_test_id("close-ticket").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("closed")
    assert api.get(f"/tickets/{reference}", headers=lee).json()["ticket"]["status"] == "closed"

    # No more surveys by e-mail for this address; the page remembers it.
    surveys = page.get_by_test_id("surveys-by-email")
    expect(surveys).to_be_checked()
    surveys.uncheck()
    expect(page.get_by_test_id("ticket-note")).to_contain_text("No more surveys by e-mail")
    page.reload()
    expect(page.get_by_test_id("surveys-by-email")).not_to_be_checked()
    assert errors == []


def test_a_customer_answers_the_survey_from_the_solved_e_mail(stack, browser):
    from playwright.sync_api import expect
    from sqlalchemy import select

    from bot.surveys.models import SurveyResponse

    expect.set_options(timeout=WAIT_MS)
    api, kai = signed_in_agent(stack, "kai.agent@example.com", "Kai")
    reference = api.post("/tickets", headers=kai, json={
        "description": "My invoice shows the wrong address", "category": "billing_payments",
        "customer_email": "sol.customer@example.com"}).json()["ticket"]["reference"]
    assert api.patch(f"/tickets/{reference}", headers=kai, json={"status": "resolved"}).status_code == 200
    text = e_mail_about(stack, reference, "resolved").get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/survey#token=[A-Za-z0-9_-]+", text).group(0)

    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(link)
    expect(page.get_by_test_id("survey-questions")).to_contain_text("how satisfied are you")
    for key, choice in (("csat", "5"), ("solved", "yes"), ("speed", "4"), ("solution", "5"), ("courtesy", "5")):
        button = page.get_by_test_id(f"question-{key}").get_by_role("button", name=choice, exact=True)
        button.click()
        expect(page.get_by_test_id(f"question-{key}").get_by_role("button", name=choice, exact=True)
               ).to_have_attribute("aria-pressed", "true")
    comment = page.get_by_test_id("question-comment")
    comment.locator("textarea").fill("Sorted in a day, thank you")
    comment.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("survey-done")).to_be_visible()
    engine = make_engine(stack.database_url)
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        response = session.scalar(select(SurveyResponse).where(SurveyResponse.conversation_id == f"ticket:{reference}"))
        assert response.completed and response.agent == "Kai" and len(response.answers) == 6
    engine.dispose()
    assert errors == []

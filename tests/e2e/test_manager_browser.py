"""The manager dashboard in a real browser against the real stack (Debian's Chromium, driven
by Playwright): a manager signs in, sees the KPI tiles and the trend charts, applies a filter,
downloads a CSV export with that filter, and a screenshot is saved to reports/browser/."""

from __future__ import annotations

import csv
import email
import io
import re
import time
from datetime import date, datetime, timedelta, timezone
from email import policy

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, transaction
from bot.feedback.schemas import FeedbackCreate
from bot.feedback.service import record_feedback
from bot.reports.kpis import summary
from bot.reports.period import Period, ReportFilters
from bot.settings import PROJECT_ROOT
from bot.surveys.models import SurveyAnswer, SurveyResponse
from bot.tickets.schemas import TicketCreate
from bot.tickets.service import create_ticket
from bot.users.schemas import UserCreate
from bot.users.service import create_user

pytestmark = pytest.mark.e2e
SCREENSHOTS = PROJECT_ROOT / "reports" / "browser"
PASSWORD = "a long enough password"
WAIT_MS = 30_000


def seed(database_url: str) -> dict:
    """Tickets in two categories, surveys (two unhappy with comments), feedback, a manager."""
    now = datetime.now(timezone.utc)
    engine = make_engine(database_url)
    references = {"billing_payments": [], "orders_shipping": []}
    with transaction(sessionmaker(bind=engine, expire_on_commit=False)) as session:
        create_user(session=session, data=UserCreate(email="mia.manager@example.com", name="Mia", role="manager",
                                                     password=PASSWORD))
        for day in range(6):
            for category, description in (("billing_payments", "I was charged twice for my order"),
                                          ("orders_shipping", "My parcel has not arrived")):
                if category == "billing_payments" and day % 2:
                    continue
                ticket = create_ticket(session=session, data=TicketCreate(
                    description=f"{description} ({day})", category=category, customer_email="ada@example.com"),
                    actor="bot", now=now - timedelta(days=day, hours=1))
                references[category].append(ticket.reference)
                if category == "orders_shipping":  # answered 45 minutes later (the response-time chart)
                    ticket.first_responded_at = ticket.created_at + timedelta(minutes=45)
        for number, (score, text) in enumerate([(1, "The refund took weeks"), (2, "Refund still missing"),
                                                (5, "Quick and kind"), (4, "")]):
            response = SurveyResponse(conversation_id=f"dash-{number}", survey_key="default", survey_version=1,
                                      started_at=now - timedelta(days=number), completed=True)
            session.add(response)
            session.flush()
            session.add(SurveyAnswer(response_id=response.id, question_key="csat", question_type="rating_1_5",
                                     question_text="?", position=0, score=score, answered_at=response.started_at))
            if text:
                session.add(SurveyAnswer(response_id=response.id, question_key="comment", question_type="text",
                                         question_text="?", position=1, text=text, answered_at=response.started_at))
        complaint = record_feedback(session=session, data=FeedbackCreate(
            category="complaint", text="Nobody called me back", customer_email="bo@example.com"))
        references["complaint"] = [complaint.reference]
        # A request that came in by e-mail, and its survey answered on the ticket's page.
        by_email = create_ticket(session=session, data=TicketCreate(
            description="My invoice is wrong", category="billing_payments", customer_email="cy@example.com",
            channel="email"), actor="customer", now=now - timedelta(hours=3))
        references["email"] = [by_email.reference]
        response = SurveyResponse(conversation_id=f"ticket:{by_email.reference}", survey_key="default",
                                  survey_version=1, channel="page", started_at=now - timedelta(hours=1),
                                  completed=True)
        session.add(response)
        session.flush()
        session.add_all([SurveyAnswer(response_id=response.id, question_key="csat", question_type="rating_1_5",
                                      question_text="?", position=0, score=2, answered_at=response.started_at),
                         SurveyAnswer(response_id=response.id, question_key="comment", question_type="text",
                                      question_text="?", position=1, text="Slow answers by e-mail",
                                      answered_at=response.started_at)])
    engine.dispose()
    return references


def figures(database_url: str, period: Period, filters: ReportFilters | None = None):
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = summary(session=session, period=period, filters=filters)
    engine.dispose()
    return found


def test_a_manager_filters_the_dashboard_and_downloads_a_csv(stack, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    references = seed(stack.database_url)
    base = f"http://{stack.host}:{stack.api_port}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{base}/manager")
    page.get_by_test_id("login-email").fill("mia.manager@example.com")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_selector('body[data-loaded="1"]', timeout=WAIT_MS)

    def tile(name: str):
        return page.locator(f'[data-testid="kpi-tile"][data-kpi="{name}"] [data-testid="kpi-value"]')

    # Other end-to-end tests share this database: the expected figures are the KPI service's own.
    first = date.fromisoformat(page.get_by_test_id("filter-from").input_value())
    last = date.fromisoformat(page.get_by_test_id("filter-to").input_value())
    expected = figures(stack.database_url, Period(first, last, "UTC"))
    assert expected.volume.tickets >= len(references["billing_payments"]) + len(references["orders_shipping"])
    expect(tile("tickets")).to_have_text(str(expected.volume.tickets))
    # Two decimals as the page rounds them (half up: 3.125 shows 3.13, where Python's format gives 3.12).
    expect(tile("csat_mean")).to_have_text(re.compile(r"^\d\.\d\d$"))
    assert abs(float(tile("csat_mean").inner_text()) - expected.satisfaction.csat_mean) <= 0.005 + 1e-9
    assert page.get_by_test_id("kpi-tile").count() >= 15
    charts = page.get_by_test_id("chart")
    assert charts.count() >= 4
    for index in range(charts.count()):  # every chart drew something
        assert charts.nth(index).locator("polyline, path, rect, circle").count() > 0
    expect(page.get_by_test_id("themes-list")).to_contain_text("refund")
    expect(page.get_by_test_id("inbox-item").first).to_be_visible()
    # The fields' limits and the company's name are the server's, from GET /api/v1/config.
    config = httpx.get(f"{base}/api/v1/config").json()
    expect(page.get_by_test_id("inbox-q")).to_have_attribute("maxlength", str(config["max_search_chars"]))
    expect(page.get_by_test_id("inbox-note").first).to_have_attribute("maxlength", str(config["max_note_chars"]))
    expect(page).to_have_title(f"Manager dashboard — {config['company_name']}")

    # A filter: billing tickets only. The tiles and the download links follow it.
    page.get_by_test_id("filter-category").select_option("billing_payments")
    page.get_by_test_id("apply-filters").click()
    page.wait_for_selector('body[data-loaded="2"]', timeout=WAIT_MS)
    billing = figures(stack.database_url, Period(first, last, "UTC"), ReportFilters(category="billing_payments"))
    assert billing.volume.tickets >= len(references["billing_payments"])
    expect(tile("tickets")).to_have_text(str(billing.volume.tickets))
    assert "category=billing_payments" in page.url
    page.screenshot(path=str(SCREENSHOTS / "manager-dashboard.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_test_id("download-tickets-csv").click()
    download = download_info.value
    saved = SCREENSHOTS / "manager-tickets.csv"
    download.save_as(str(saved))
    assert download.suggested_filename.startswith("tickets_") and download.suggested_filename.endswith(".csv")
    content = saved.read_bytes()
    assert content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert set(references["billing_payments"]) <= {row["reference"] for row in rows}
    assert len(rows) == billing.volume.tickets and {row["category"] for row in rows} == {"billing_payments"}

    # The channel: requests that came in by e-mail; in the inbox, the survey answered on a ticket's page.
    page.get_by_test_id("filter-category").select_option("")
    page.get_by_test_id("filter-channel").select_option("email")
    page.get_by_test_id("apply-filters").click()
    page.wait_for_selector('body[data-loaded="3"]', timeout=WAIT_MS)
    by_email = figures(stack.database_url, Period(first, last, "UTC"), ReportFilters(channel="email"))
    assert by_email.volume.tickets >= len(references["email"])
    expect(tile("tickets")).to_have_text(str(by_email.volume.tickets))
    assert "channel=email" in page.url and "category=" not in page.url
    page.get_by_test_id("inbox-channel").select_option("page")
    page.get_by_test_id("inbox-search").click()
    on_page = page.get_by_test_id("inbox-item").filter(has_text="Slow answers by e-mail")
    expect(on_page).to_contain_text("Ticket page")
    expect(on_page).to_contain_text(f"Ticket: {references['email'][0]}")
    expect(page.get_by_test_id("inbox-item").filter(has_text="The refund took weeks")).to_have_count(0)

    # The complaint's recovery item: the manager e-mails the customer from it, and it is marked contacted.
    def complaint_row():
        return page.get_by_test_id("recovery-row").filter(has_text=references["complaint"][0])

    complaint_row().get_by_test_id("recovery-follow-up-open").click()
    complaint_row().get_by_test_id("recovery-message").fill("I am sorry nobody called back. I will ring you at 3 pm.")
    complaint_row().get_by_test_id("recovery-send").click()
    expect(complaint_row()).to_have_attribute("data-status", "contacted")
    expect(complaint_row().get_by_test_id("recovery-follow-up")).to_contain_text("E-mailed bo@example.com")
    deadline = time.monotonic() + 30
    while not (sent := [path for path in stack.outbox.glob("*.eml") if b"ring you at 3 pm" in path.read_bytes()]):
        assert time.monotonic() < deadline, "the follow-up e-mail was not written to the outbox within 30 s"
        time.sleep(0.5)
    [path] = sent
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert (message["To"], message["Subject"]) == ("bo@example.com", "Following up on your feedback")
    assert "Mia" in message.get_body(("plain",)).get_content()
    assert errors == [], errors
    context.close()

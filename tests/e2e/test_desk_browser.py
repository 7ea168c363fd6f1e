"""Issue 18: a customer e-mails the support mailbox (real Dovecot) with a photo and a program attached; the
running API takes it, opens a ticket, keeps the photo and tells them the program was refused. An agent, in a
real browser (Debian's Chromium), finds the request on the ticket desk, reads it, downloads the photo, answers
the customer (who is e-mailed the answer) and sets it waiting on them; a stranger's answer in the request's
thread waits on the desk for a person instead of being added."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from tests.e2e.staff import PASSWORD, e_mail_about, signed_in_agent

pytestmark = pytest.mark.e2e
WAIT_MS = 30_000
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40


def test_an_agent_answers_an_e_mailed_request_with_files_on_the_desk(stack, browser, tmp_path):
    from playwright.sync_api import expect

    if stack.mailbox is None:
        pytest.skip(f"no support mailbox: {stack.why_no_mailbox}")
    expect.set_options(timeout=WAIT_MS)
    api, nadia = signed_in_agent(stack, "nadia.desk@example.com", "Nadia")

    message = EmailMessage()
    message["From"], message["To"] = "Uma Reyes <uma.desk@example.com>", "support@example.com"
    message["Subject"], message["Message-ID"] = "Cracked screen on my new tablet", "<desk-1@example.com>"
    message.set_content("The screen of the tablet from order 55120 arrived cracked. Photo attached.")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="screen.png")
    message.add_attachment(b"MZ\x90\x00" + b"\x00" * 60, maintype="application", subtype="x-msdownload",
                           filename="viewer.exe")
    stack.mailbox.deliver(message.as_bytes())
    deadline = time.monotonic() + 30
    while not (found := api.get("/tickets", headers=nadia, params={"q": "uma.desk@example.com"}).json()["items"]):
        assert time.monotonic() < deadline, "the e-mail did not become a ticket within 30 s"
        time.sleep(0.5)
    reference = found[0]["reference"]
    refused = e_mail_about(stack, reference, "attachments_refused")
    assert "viewer.exe: we do not take application/x-msdownload files" in refused.get_body(("plain",)).get_content()
    # Someone else answers in the request's thread: held for a person, not added.
    forged = EmailMessage()
    forged["From"], forged["To"] = "mallory.desk@example.com", "support@example.com"
    forged["Subject"], forged["Message-ID"] = "Re: Cracked screen on my new tablet", "<desk-2@example.com>"
    forged["In-Reply-To"] = refused["In-Reply-To"]  # the request's thread, as every e-mail about it has
    forged.set_content("Please send the new tablet to 1 Other Street instead.")
    stack.mailbox.deliver(forged.as_bytes())
    while not any(item["from_address"] == "mallory.desk@example.com" for item in
                  api.get("/mailbox", headers=nadia, params={"outcome": "held"}).json()["items"]):
        assert time.monotonic() < deadline + 30, "the forged reply was not held within 30 s"
        time.sleep(0.5)

    errors: list[str] = []
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"http://{stack.host}:{stack.api_port}/desk")
    page.get_by_test_id("login-email").fill("nadia.desk@example.com")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("desk-name")).to_have_text("Nadia")
    held = page.get_by_test_id("held-item").filter(has_text="mallory.desk@example.com")
    expect(held).to_contain_text("1 Other Street")
    expect(held).to_contain_text("not by the ticket's customer")
    expect(page.get_by_test_id("outbox")).to_contain_text("E-mails to customers:")

    page.get_by_test_id("list-q").fill("uma.desk@example.com")
    page.get_by_test_id("list-search").click()
    row = page.get_by_test_id("ticket-row").filter(has_text=reference)
    expect(row).to_contain_text("e-mail")
    row.click()
    expect(page.get_by_test_id("detail-title")).to_contain_text(reference)
    expect(page.get_by_test_id("detail-meta")).to_contain_text("Uma Reyes · uma.desk@example.com · by e-mail")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("arrived cracked")
    expect(history).to_contain_text("viewer.exe: we do not take application/x-msdownload files")  # staff's note
    expect(page.get_by_test_id("mail-item").filter(has_text="We could not keep all your attachments")).to_be_visible()

    with page.expect_download() as download_info:
        history.get_by_test_id("file-link").filter(has_text="screen.png").click()
    saved = tmp_path / "screen.png"
    download_info.value.save_as(str(saved))
    assert download_info.value.suggested_filename == "screen.png" and saved.read_bytes() == PNG

    page.get_by_test_id("reply-text").fill("Sorry about that. A new tablet goes out today; keep the cracked one.")
    page.get_by_test_id("reply-send").click()
    expect(history.get_by_test_id("history-item").filter(has_text="A new tablet goes out today")).to_have_attribute(
        "data-kind", "reply")
    page.get_by_test_id("detail-status").select_option("pending")
    expect(page.get_by_test_id("status")).to_contain_text("Status: pending")
    answer = e_mail_about(stack, reference, "agent_reply")
    assert answer["To"] == "uma.desk@example.com"
    assert "A new tablet goes out today" in answer.get_body(("plain",)).get_content()
    assert api.get(f"/tickets/{reference}", headers=nadia).json()["ticket"]["status"] == "pending"
    assert errors == [], errors
    context.close()

"""Issue 17: everything held about a customer, exported and erased, the KPIs counting the same after,
Rasa's own state of the chats gone too (a real Rasa tracker store), and nobody else touched."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from bot.audit.models import AuditEvent
from bot.cli import main as cli
from bot.conversations.schemas import SessionCreate
from bot.conversations.service import add_message, start_conversation
from bot.db import get_engine, transaction
from bot.privacy.run import erase_customer, export_customer
from bot.privacy.service import subject_key
from bot.reports.kpis import summary
from bot.reports.period import Period
from bot.settings import PROJECT_ROOT, get_settings
from bot.surveys.models import SurveyAnswer
from bot.tickets.attachments import Offered, keep
from bot.tickets.service import add_comment
from tests.factories import NOW, make_feedback, make_survey_response, make_ticket

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
ADA = ("Ada Lovelace", "ada@example.com")
BOB = ("Bob Stone", "bob@example.com")


def seed(name: str, email: str) -> str:
    with transaction() as session:
        conversation, _ = start_conversation(session=session, data=SessionCreate(name=name, email=email))
        add_message(session=session, conversation=conversation, sender="customer",
                    text=f"hi, I'm {name}, write to {email}")
        add_message(session=session, conversation=conversation, sender="bot", text=f"Thanks, I've noted {email}.")
        ticket = make_ticket(session, customer_name=name, customer_email=email, conversation_id=conversation.id,
                             description=f"{name}'s parcel never came", now=NOW)
        add_comment(session=session, ticket=ticket, text=f"called {name} back", public=False, actor="agent")
        keep(session=session, ticket=ticket, event=None, settings=get_settings(), files=[
            Offered(f"{name} receipt.pdf", "application/pdf", f"%PDF-1.4 receipt for {email}".encode())])
        make_feedback(session, customer_name=name, customer_email=email, conversation_id=conversation.id,
                      text=f"{name} says the driver was rude", now=NOW)
        response = make_survey_response(session, conversation_id=conversation.id, now=NOW)
        session.add(SurveyAnswer(response_id=response.id, question_key="comment", question_type="text",
                                 question_text="Anything to add?", position=2, text=f"regards, {name}",
                                 answered_at=NOW))
        return conversation.id


def every_text() -> str:
    """Every string in every table of ours, as one text to search."""
    engine = get_engine()
    parts = []
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                parts.extend(str(value) for value in row if value is not None)
    return "\n".join(parts)


def rasa(script: str, store: str, *args: str) -> str:
    if not RASA_PYTHON.is_file():
        pytest.skip("needs .venv-rasa (make test builds it) to write a real Rasa tracker")
    done = subprocess.run([str(RASA_PYTHON), "-c", textwrap.dedent(script), store, *args], capture_output=True,
                          text=True, timeout=240, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
                               "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


TRACKERS = """
    import asyncio, sys
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=sys.argv[1])
    save, senders = sys.argv[2] == "save", sys.argv[3:]
    async def main():
        for sender in senders if save else []:
            tracker = DialogueStateTracker(sender, [])
            tracker.update(UserUttered("hi, I am " + sender))
            await store.save(tracker)
        for sender in senders:
            found = await store.retrieve(sender)
            print(sender, len(found.events) if found else 0)
    asyncio.run(main())
"""


def test_export_holds_everything_about_the_customer_and_nothing_else(app_db):
    ada, _ = seed(*ADA), seed(*BOB)
    data = export_customer("ADA@example.com ", actor="cli:test")
    assert [c["id"] for c in data["conversations"]] == [ada]
    assert data["conversations"][0]["messages"][0]["text"] == "hi, I'm Ada Lovelace, write to ada@example.com"
    assert [t["description"] for t in data["tickets"]] == ["Ada Lovelace's parcel never came"]
    assert any(h["text"] == "called Ada Lovelace back" for h in data["tickets"][0]["history"])
    assert [f["text"] for f in data["feedback"]] == ["Ada Lovelace says the driver was rude"]
    assert data["survey_responses"][0]["answers"][-1]["text"] == "regards, Ada Lovelace"
    # Issue 18: the e-mails to her (here, her ticket's confirmation) are hers too.
    assert [(m["kind"], m["to"]) for m in data["emails"]] == [("ticket_opened", "ada@example.com")]
    assert [(a["filename"], a["bytes"]) for a in data["tickets"][0]["attachments"]] == [
        ("Ada Lovelace receipt.pdf", len(b"%PDF-1.4 receipt for ada@example.com"))]
    assert "Bob" not in json.dumps(data) and "bob@" not in json.dumps(data)


def test_erase_removes_the_customer_everywhere_keeps_the_counts_and_spares_others(app_db, tmp_path, configure):
    store = tmp_path / "rasa-trackers.db"
    configure(rasa_tracker_store=f"sqlite:///{store}")
    ada, bob = seed(*ADA), seed(*BOB)
    assert rasa(TRACKERS, str(store), "save", ada, bob).split() == [ada, "1", bob, "1"]
    period = Period(first=NOW.date() - timedelta(days=2), last=NOW.date() + timedelta(days=2), zone="UTC")
    with transaction() as session:
        before = summary(session=session, period=period, now=NOW)

    counts = erase_customer("ada@example.com", actor="cli:test")

    assert counts["conversations"] == 1 and counts["messages"] == 2 and counts["tickets"] == 1
    assert counts["feedback"] == 1 and counts["survey_comments"] == 1 and counts["tracker_records"] == 1
    assert counts["emails"] == 1  # her ticket's confirmation, unsent here: it never goes now
    assert counts["ticket_attachments"] == 1  # the file she sent, and its name
    everything = every_text()
    for trace in ("ada@example.com", "Ada Lovelace"):
        assert trace not in everything
    for trace in ("bob@example.com", "Bob Stone's parcel never came", "called Bob Stone back", "regards, Bob Stone",
                  "Bob Stone receipt.pdf"):
        assert trace in everything  # somebody else's data is untouched
    with transaction() as session:
        after = summary(session=session, period=period, now=NOW)
    assert after == before
    # Rasa's own state of Ada's chat is gone; Bob's is not.
    assert rasa(TRACKERS, str(store), "read", ada, bob).split() == [ada, "0", bob, "1"]
    with transaction() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        assert event.target == subject_key("ada@example.com") and event.actor == "cli:test"
        assert event.details["messages"] == 2


def test_the_command_line_exports_to_a_file_and_erases_only_with_yes(app_db, tmp_path, capsys):
    seed(*ADA)
    out = tmp_path / "ada.json"
    assert cli(["privacy", "export", "--email", "ada@example.com", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["email"] == "ada@example.com"
    assert cli(["privacy", "erase", "--email", "ada@example.com"]) == 2
    assert "cannot be undone" in capsys.readouterr().err
    assert "Ada Lovelace" in every_text()
    assert cli(["privacy", "erase", "--email", "ada@example.com", "--yes"]) == 0
    assert "erased: 1 conversations" in capsys.readouterr().out
    assert "Ada Lovelace" not in every_text()
    assert cli(["privacy", "erase", "--email", "not an address", "--yes"]) == 2


def test_retention_anonymises_chats_untouched_for_the_period_once_and_keeps_the_counts(app_db, tmp_path, configure):
    from bot.conversations.models import Conversation
    from bot.privacy.run import retention_run

    store = tmp_path / "rasa-trackers.db"
    configure(rasa_tracker_store=f"sqlite:///{store}")
    old, recent = seed(*ADA), seed(*BOB)
    rasa(TRACKERS, str(store), "save", old, recent)
    with transaction() as session:
        session.get(Conversation, old).updated_at = NOW - timedelta(days=100)
        session.get(Conversation, recent).updated_at = NOW - timedelta(days=10)
    period = Period(first=NOW.date() - timedelta(days=2), last=NOW.date() + timedelta(days=2), zone="UTC")
    with transaction() as session:
        before = summary(session=session, period=period, now=NOW)

    counts = retention_run(NOW - timedelta(days=90))

    assert counts == {"conversations": 1, "messages": 2, "handoff_notes": 0, "tracker_records": 1}
    everything = every_text()
    assert "hi, I'm Ada Lovelace" not in everything and "hi, I'm Bob Stone" in everything
    assert "Ada Lovelace's parcel never came" in everything  # tickets keep theirs: only transcripts age out
    with transaction() as session:
        assert summary(session=session, period=period, now=NOW) == before
        assert session.get(Conversation, old).anonymised_at is not None
        [run] = session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.run"))
        assert run.actor == "system" and run.details["conversations"] == 1
    assert retention_run(NOW - timedelta(days=90)) == {}  # nothing twice, and no second audit row
    assert rasa(TRACKERS, str(store), "read", old, recent).split() == [old, "0", recent, "1"]

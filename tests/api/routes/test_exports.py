"""Exports over HTTP: streamed downloads in three formats for managers only, clear refusals,
and nothing left behind on the server when a download stops half-way."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import datetime, timedelta, timezone

import openpyxl

from bot.db import transaction
from tests.api.support import staff
from tests.factories import make_feedback, make_ticket


def seed() -> list[str]:
    now = datetime.now(timezone.utc)
    with transaction() as session:
        references = [make_ticket(session, now=now - timedelta(hours=n), description=f"Parcel {n} is late").reference
                      for n in range(3)]
        make_feedback(session, now=now, category="complaint", text="=1+1 was the total?", anonymous=True)
    return references


def test_a_manager_downloads_each_format(client):
    references = seed()
    meg = staff(client, "meg")
    answer = client.get("/api/v1/exports/tickets", params={"format": "csv"}, headers=meg)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="tickets_')
    assert answer.headers["x-row-count"] == "3"
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert sorted(row["reference"] for row in rows) == sorted(references)

    lines = client.get("/api/v1/exports/feedback", params={"format": "ndjson"}, headers=meg).text.splitlines()
    [item] = [json.loads(line) for line in lines]
    assert (item["category"], item["text"], item["customer_email"], item["recovery_status"]) == (
        "complaint", "=1+1 was the total?", None, "open")

    workbook = client.get("/api/v1/exports/tickets", params={"format": "xlsx"}, headers=meg)
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet.cell(row=1, column=1).value == "reference" and sheet.max_row == 4


def test_refusals_say_what_is_allowed(client):
    meg = staff(client, "meg")
    unknown = client.get("/api/v1/exports/everything", headers=meg)
    assert unknown.status_code == 422 and "survey_responses" in unknown.text and "conversations" in unknown.text
    bad_format = client.get("/api/v1/exports/tickets", params={"format": "pdf"}, headers=meg)
    assert bad_format.status_code == 422 and "xlsx" in bad_format.text
    backwards = client.get("/api/v1/exports/tickets", params={"from": "2026-03-09", "to": "2026-03-01"}, headers=meg)
    assert backwards.status_code == 422 and "after" in backwards.text
    assert client.get("/api/v1/exports/tickets", params={"owner": "nobody"}, headers=meg).status_code == 422
    assert client.get("/api/v1/exports/tickets", headers=staff(client, "ann")).status_code == 403
    assert client.get("/api/v1/exports/tickets").status_code == 401


def test_a_download_stopped_half_way_leaves_no_file_behind(client, tmp_path, monkeypatch):
    from contextlib import ExitStack

    from api.routes import reports
    from bot.db import read_transaction
    from bot.reports.exports import build_export
    from bot.reports.period import Period

    seed()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    meg = staff(client, "meg")
    with client.stream("GET", "/api/v1/exports/tickets", params={"format": "xlsx"}, headers=meg) as answer:
        assert answer.status_code == 200
        next(answer.iter_raw(512))
    assert list(scratch.iterdir()) == []
    # The body itself, stopped after its first chunk (as when the client goes away).
    monkeypatch.setattr(reports, "CHUNK", 256)
    stack = ExitStack()
    connection = stack.enter_context(read_transaction())
    today = datetime.now(timezone.utc).date()
    body = reports.export_body(stack, build_export(connection, "tickets", Period(today, today, "UTC")), "xlsx")
    assert len(next(body)) == 256
    assert [path.name[:7] for path in scratch.iterdir()] == ["export-"]  # the workbook being sent
    body.close()
    assert list(scratch.iterdir()) == [] and connection.closed

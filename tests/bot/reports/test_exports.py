"""Exports cell by cell in all three formats (SQLite and PostgreSQL): the hand-computed world,
redaction, anonymity, formula neutralising, a survey changed mid-period, empty ranges."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import openpyxl
import pytest

from bot.reports.exports import build_export, csv_chunks, ndjson_chunks, write_xlsx
from bot.reports.period import Period, ReportFilters
from bot.surveys.models import SurveyAnswer, SurveyResponse
from tests.bot.reports.world import NOW, WEEK, at, feedback, survey, ticket

TICKETS_CSV = """\ufeffreference,opened_at,status,category,priority,classification,classification_reason,subject,\
description,customer_name,customer_email,assignee,conversation_id,channel,first_response_due,first_responded_at,\
first_response_seconds,first_response_met,resolution_due,resolved_at,resolution_seconds,resolution_met,updated_at\r
T1,2026-03-03T10:00:00+00:00,resolved,billing,high,urgent,,T1,x,,,Ann,c3,chat,2026-03-03T11:00:00+00:00,\
2026-03-03T10:30:00+00:00,1800.0,true,2026-03-03T18:00:00+00:00,2026-03-03T12:00:00+00:00,7200.0,true,\
2026-03-03T10:00:00+00:00\r
T2,2026-03-06T10:00:00+00:00,open,orders_shipping,normal,routine,,T2,x,,,,c6,chat,2026-03-06T14:00:00+00:00,,,\
false,2026-03-09T10:00:00+00:00,,,false,2026-03-06T10:00:00+00:00\r
T3,2026-03-03T09:00:00+00:00,resolved,account,low,complex,,T3,x,,,Ben,,chat,2026-03-03T10:00:00+00:00,\
2026-03-03T11:00:00+00:00,7200.0,false,2026-03-04T09:00:00+00:00,2026-03-03T14:00:00+00:00,18000.0,true,\
2026-03-03T09:00:00+00:00\r
T4,2026-03-08T12:00:00+00:00,new,billing,normal,routine,,T4,x,,,,,chat,2026-03-09T12:30:00+00:00,,,,\
2026-03-10T12:00:00+00:00,,,,2026-03-08T12:00:00+00:00\r
T5,2026-03-04T10:00:00+00:00,closed,billing,normal,routine,,T5,x,,,,,chat,2026-03-04T14:00:00+00:00,,,true,\
2026-03-05T10:00:00+00:00,2026-03-04T11:00:00+00:00,3600.0,true,2026-03-04T10:00:00+00:00\r
"""


def export(session, dataset: str, period: Period = WEEK, **options):
    return build_export(session.connection(), dataset, period, options.pop("filters", None), now=NOW, **options)


def as_csv(session, dataset: str, **options) -> str:
    made = export(session, dataset, **options)
    return b"".join(csv_chunks(made.columns, made.rows)).decode("utf-8")


def as_ndjson(session, dataset: str, **options) -> list[dict]:
    made = export(session, dataset, **options)
    return [json.loads(line) for line in b"".join(ndjson_chunks(made.columns, made.rows)).decode().splitlines()]


def as_xlsx(session, dataset: str, tmp_path, **options) -> list[list]:
    made = export(session, dataset, **options)
    path = tmp_path / f"{dataset}.xlsx"
    write_xlsx(str(path), dataset, made.columns, made.rows)
    sheet = openpyxl.load_workbook(path).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()], sheet


def test_tickets_cell_by_cell_in_csv(session, world):
    assert as_csv(session, "tickets") == TICKETS_CSV
    assert export(session, "tickets").count == 5


def test_one_channel(session, world):
    ticket(session, "T6", at(5), category="billing", priority="normal", classification="routine", channel="email")
    survey(session, "ticket:T6", at(5, 13), True, channel="page", csat=1)
    by_email = as_ndjson(session, "tickets", filters=ReportFilters(channel="email"))
    assert [(row["reference"], row["channel"]) for row in by_email] == [("T6", "email")]
    on_page = as_ndjson(session, "survey_responses", filters=ReportFilters(channel="page"))
    assert [(row["conversation_id"], row["channel"], row["answer_csat"]) for row in on_page] == [
        ("ticket:T6", "page", 1)]
    assert as_ndjson(session, "conversations", filters=ReportFilters(channel="email")) == []
    assert as_ndjson(session, "feedback", filters=ReportFilters(channel="page")) == []
    assert len(as_ndjson(session, "conversations", filters=ReportFilters(channel="chat"))) == 8
    assert len(as_ndjson(session, "tickets", filters=ReportFilters(channel="chat"))) == 5


def test_the_three_formats_hold_the_same_values(session, world, tmp_path):
    rows = as_ndjson(session, "tickets")
    (header, *cells), _ = as_xlsx(session, "tickets", tmp_path)
    assert [dict(zip(header, row, strict=True)) for row in cells] == rows
    parsed = list(csv.DictReader(io.StringIO(as_csv(session, "tickets").removeprefix("\ufeff"))))
    shown = {True: "true", False: "false", None: ""}
    assert parsed == [{key: shown[value] if value is None or isinstance(value, bool) else str(value)
                       for key, value in row.items()} for row in rows]
    assert rows[0]["first_response_seconds"] == 1800.0 and rows[0]["first_response_met"] is True
    assert rows[3]["first_response_met"] is None  # T4: not due yet


def test_the_conversation_fact_table(session, world):
    rows = {row["conversation_id"]: row for row in as_ndjson(session, "conversations")}
    assert sorted(rows) == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c9"]
    c3 = rows["c3"]
    assert (c3["owner_path"], c3["handoff_reason"], c3["handoff_wait_seconds"], c3["agent"]) == (
        "handed off", "requested", 120.0, "Ann")
    assert (c3["ticket_refs"], c3["tickets_resolution_sla_met"], c3["customer_lines"], c3["fallback_count"]) == (
        "T1", True, 1, 0)
    assert (c3["survey_completed"], c3["answer_csat"], c3["answer_recommend"]) == (True, 5, 10)
    assert (rows["c5"]["owner_path"], rows["c5"]["handoff_wait_seconds"]) == ("asked, nobody came", None)
    assert (rows["c2"]["owner_path"], rows["c2"]["fallback_count"], rows["c2"]["answer_csat"]) == ("bot only", 2, None)
    assert rows["c7"]["customer_lines"] == 0  # listed, though the KPIs count only chats the customer wrote in
    human = as_ndjson(session, "conversations", filters=ReportFilters(owner="human"))
    assert [row["conversation_id"] for row in human] == ["c3", "c4", "c9"]


def test_survey_responses_with_the_survey_changed_mid_period(session, world):
    # Version 2 of the survey, from Thursday: "solved" dropped, a comment question added first after csat.
    response = SurveyResponse(conversation_id="c-v2", survey_key="default", survey_version=2,
                              started_at=at(5, 9), completed=True, agent="Ann")
    session.add(response)
    session.flush()
    for position, (key, kind, score, text) in enumerate([("csat", "rating_1_5", 4, None),
                                                         ("comment", "text", None, "Quick, thanks"),
                                                         ("speed", "rating_1_5", 5, None)]):
        session.add(SurveyAnswer(response_id=response.id, question_key=key, question_type=kind, question_text=key,
                                 position=position, score=score, text=text, answered_at=at(5, 9)))
    session.flush()
    rows = as_ndjson(session, "survey_responses")
    assert list(rows[0]) == ["response_id", "conversation_id", "survey", "survey_version", "channel", "agent",
                             "customer_email", "ticket_refs", "completed", "offered_at", "completed_at",
                             "answer_csat", "answer_comment", "answer_solved", "answer_speed", "answer_solution",
                             "answer_courtesy", "answer_recommend"]
    answers = {row["conversation_id"]: [row[key] for key in list(row)[11:]] for row in rows}
    assert answers == {"c3": [5, None, 1, 4, 5, 5, 10], "c4": [2, None, 0, 2, 1, 4, 3], "c1": [4] + [None] * 6,
                       "c2": [None] * 7, "c9": [3, None, 1, 3, 3, 3, 9],
                       "c-v2": [4, "Quick, thanks", None, 5, None, None, None]}
    assert [row["survey_version"] for row in rows if row["conversation_id"] == "c-v2"] == [2]


FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "plain - text"]


def test_formulas_are_neutralised_in_csv_and_stay_text_in_xlsx(session, world, tmp_path):
    for number, text in enumerate(FORMULAS):
        feedback(session, f"FB-F{number}", "suggestion", at(3, 15, number), conversation=f"cf{number}", text=text)
    parsed = list(csv.DictReader(io.StringIO(as_csv(session, "feedback").removeprefix("\ufeff"), newline="")))
    texts = {row["reference"]: row["text"] for row in parsed}
    assert [texts[f"FB-F{n}"] for n in range(len(FORMULAS))] == ["'" + t for t in FORMULAS[:-1]] + ["plain - text"]
    (header, *cells), sheet = as_xlsx(session, "feedback", tmp_path)
    column = header.index("text")
    # openpyxl leaves the XML escape of a carriage return (_x000D_) as it is; Excel shows the character.
    by_ref = {row[0]: row[column].replace("_x000D_", "\r") for row in cells}
    assert [by_ref[f"FB-F{n}"] for n in range(len(FORMULAS))] == FORMULAS
    assert all(sheet.cell(row=r, column=column + 1).data_type == "s" for r in range(2, sheet.max_row + 1))
    assert {row["reference"]: row["text"] for row in as_ndjson(session, "feedback")}["FB-F0"] == FORMULAS[0]


def test_redaction_masks_personal_data_in_every_free_text_column(session, world):
    from bot.feedback.models import Feedback
    from bot.tickets.models import Ticket

    said = "Mail ada@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111."
    session.query(Feedback).filter(Feedback.reference == "FB-1").update({"text": said,
                                                                          "customer_email": "ada@example.com"})
    session.query(Ticket).filter(Ticket.reference == "T1").update({"subject": said, "description": said})
    session.flush()
    masked = "Mail [EMAIL] or call [PHONE]; card [CARD]."
    one = {row["reference"]: row for row in as_ndjson(session, "feedback", redact=True)}["FB-1"]
    assert (one["text"], one["customer_email"]) == (masked, "[EMAIL]")
    ticket = {row["reference"]: row for row in as_ndjson(session, "tickets", redact=True)}["T1"]
    assert (ticket["subject"], ticket["description"]) == (masked, masked)
    plain = {row["reference"]: row for row in as_ndjson(session, "feedback")}["FB-1"]
    assert plain["text"] == said


def test_anonymous_feedback_carries_no_identity_in_any_format(session, world, tmp_path):
    from bot.feedback.models import Feedback

    # Even a row that somehow kept who gave it (written outside the service) is exported without it.
    session.query(Feedback).filter(Feedback.reference == "FB-2").update(
        {"customer_name": "Ada", "customer_email": "ada@example.com", "conversation_id": "c1"})
    session.flush()
    leaks = ("Ada", "ada@example.com")
    text = as_csv(session, "feedback")
    row = next(line for line in text.splitlines() if line.startswith("FB-2"))
    assert not any(leak in row for leak in leaks)
    anonymous = {r["reference"]: r for r in as_ndjson(session, "feedback")}["FB-2"]
    assert (anonymous["customer_name"], anonymous["customer_email"], anonymous["conversation_id"]) == (None,) * 3
    (header, *cells), _ = as_xlsx(session, "feedback", tmp_path)
    assert not any(leak in str(value) for r in cells if r[0] == "FB-2" for value in r for leak in leaks)


@pytest.mark.parametrize("dataset", ["survey_responses", "feedback", "tickets", "conversations"])
def test_an_empty_range_gives_the_header_only(session, world, dataset, tmp_path):
    empty = Period(date(2025, 1, 1), date(2025, 1, 7), "UTC")
    made = export(session, dataset, period=empty)
    assert made.count == 0
    text = as_csv(session, dataset, period=empty)
    assert text.startswith("\ufeff") and text.count("\r\n") == 1
    assert as_ndjson(session, dataset, period=empty) == []
    (header, *cells), _ = as_xlsx(session, dataset, tmp_path, period=empty)
    assert header == made.columns and cells == []


def test_times_carry_the_report_time_zones_offset(session, world):
    berlin = Period(date(2026, 3, 2), date(2026, 3, 8), "Europe/Berlin")
    rows = {row["reference"]: row for row in as_ndjson(session, "tickets", period=berlin)}
    assert rows["T1"]["opened_at"] == "2026-03-03T11:00:00+01:00"

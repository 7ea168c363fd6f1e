"""Exports of everything customers told us, for spreadsheets and other tools: survey responses,
feedback, tickets and the conversation fact table, as CSV, XLSX or NDJSON.

Rows are read from a streaming cursor and written as they come, so memory stays flat however
many there are. The filters are the KPIs' (bot/reports/kpis.py), so an export holds exactly the
items the dashboard counted. Times are ISO 8601 with the report time zone's offset."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Numeric, String, case, cast, exists, func, select, type_coerce
from sqlalchemy.orm import aliased

from bot.conversations.models import Conversation, Handoff, Message
from bot.db import utcnow
from bot.feedback.models import Feedback
from bot.recovery.models import RecoveryItem
from bot.reports.kpis import chat_conditions, person_held, seconds_between, ticket_conditions, within
from bot.reports.period import Period, ReportFilters
from bot.surveys.models import SurveyAnswer, SurveyQuestionSeen, SurveyResponse
from bot.tickets.models import Ticket
from bot.users.models import User

Dataset = Literal["survey_responses", "feedback", "tickets", "conversations"]
Format = Literal["csv", "xlsx", "ndjson"]
DATASETS: tuple[str, ...] = Dataset.__args__
FORMATS: tuple[str, ...] = Format.__args__
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Cells a spreadsheet would run as a formula (or its "DDE" cousins) when the file is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet (the header included); more rows go on the next sheet


@dataclass
class Column:
    name: str
    expression: ColumnElement
    # text: a value as is; free: free text (redacted on request); email; time; seconds; bool
    kind: str = "text"


@dataclass
class Export:
    """The columns, and the rows as Python values (ready to write), read lazily."""

    dataset: str
    columns: list[str]
    rows: Iterator[list[Any]]
    count: int = 0
    notes: list[str] = field(default_factory=list)


# --- SQL pieces --------------------------------------------------------------------------------


def _seconds(dialect: str, later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    """Seconds to the millisecond (PostgreSQL rounds numerics only)."""
    seconds = seconds_between(dialect, later, earlier)
    return func.round(seconds if dialect == "sqlite" else cast(seconds, Numeric(18, 3)), 3)


def _joined(dialect: str, column: ColumnElement) -> ColumnElement:
    """Values of a group joined by spaces."""
    return func.group_concat(column, " ") if dialect == "sqlite" else func.string_agg(column, " ")


def _ticket_refs(dialect: str, conversation_id: ColumnElement) -> ColumnElement:
    inner = aliased(Ticket)
    return (select(_joined(dialect, inner.reference)).where(inner.conversation_id == conversation_id)
            .scalar_subquery())


def _user_name(user_id: ColumnElement) -> ColumnElement:
    return select(User.name).where(User.id == user_id).scalar_subquery()


def _question_keys(connection: Connection, offered: Callable[[ColumnElement, ColumnElement], ColumnElement[bool]]
                   ) -> list[tuple[str, str]]:
    """The answer columns, (key, type) in survey order: every question answered in the survey
    versions `offered(survey_key, survey_version)` says were offered in the export. A question
    since removed from the survey keeps its column while its version is in range; a key whose
    type changed is written as text."""
    seen = SurveyQuestionSeen
    rows = connection.execute(
        select(seen.question_key, func.min(seen.position), func.min(seen.question_type), func.max(seen.question_type))
        .where(offered(seen.survey_key, seen.survey_version)).group_by(seen.question_key)).all()
    rows.sort(key=lambda row: (row[1], row[0]))
    return [(key, low if low == high else "text") for key, _, low, high in rows]


def _answer_columns(keys: list[tuple[str, str]], of_row: Callable[[Any], list[ColumnElement[bool]]],
                    joins: Callable[[Any], Any] = lambda query, answer: query) -> list[Column]:
    """One column per question key; `of_row(answer)` ties an answer to the exported row."""
    columns = []
    for key, question_type in keys:
        answer = aliased(SurveyAnswer)
        value = answer.text if question_type == "text" else answer.score
        query = joins(select(value), answer).where(*of_row(answer), answer.question_key == key)
        columns.append(Column(f"answer_{key}", query.scalar_subquery(), "free" if question_type == "text" else "text"))
    return columns


# --- the datasets ------------------------------------------------------------------------------


def _survey_responses(connection: Connection, period: Period, filters: ReportFilters, now: datetime,
                      dialect: str) -> tuple[list[Column], list, list, type]:
    conditions = [within(SurveyResponse.started_at, period),
                  *chat_conditions(SurveyResponse.conversation_id, filters, channel=SurveyResponse.channel)]
    keys = _question_keys(connection, lambda key, version: exists().where(
        SurveyResponse.survey_key == key, SurveyResponse.survey_version == version, *conditions))
    columns = [
        Column("response_id", SurveyResponse.id), Column("conversation_id", SurveyResponse.conversation_id),
        Column("survey", SurveyResponse.survey_key), Column("survey_version", SurveyResponse.survey_version),
        Column("channel", SurveyResponse.channel), Column("agent", SurveyResponse.agent),
        Column("customer_email", SurveyResponse.customer_email, "email"),
        Column("ticket_refs", _ticket_refs(dialect, SurveyResponse.conversation_id)),
        Column("completed", SurveyResponse.completed, "bool"),
        Column("offered_at", SurveyResponse.started_at, "time"),
        Column("completed_at", SurveyResponse.completed_at, "time"),
        *_answer_columns(keys, lambda answer: [answer.response_id == SurveyResponse.id]),
    ]
    # In offered order, the index's: SQLite streams the rows instead of sorting them all first.
    return columns, conditions, [SurveyResponse.started_at, SurveyResponse.id], SurveyResponse


def _feedback(connection: Connection, period: Period, filters: ReportFilters, now: datetime,
              dialect: str) -> tuple[list[Column], list, list, type]:
    recovery = aliased(RecoveryItem)

    def item(column) -> ColumnElement:
        return select(column).where(recovery.feedback_id == Feedback.id).scalar_subquery()

    columns = [
        Column("reference", Feedback.reference), Column("given_at", Feedback.created_at, "time"),
        Column("category", Feedback.category), Column("status", Feedback.status),
        Column("channel", Feedback.channel), Column("anonymous", Feedback.anonymous, "bool"),
        Column("text", Feedback.text, "free"),
        Column("customer_name", Feedback.customer_name), Column("customer_email", Feedback.customer_email, "email"),
        Column("conversation_id", Feedback.conversation_id),
        Column("recovery_status", item(recovery.status)),
        Column("recovery_owner", select(User.name).join(recovery, recovery.owner_id == User.id)
               .where(recovery.feedback_id == Feedback.id).scalar_subquery()),
        Column("recovery_due_at", item(recovery.due_at), "time"),
        Column("recovery_outcome", item(recovery.outcome), "free"),
    ]
    conditions = [within(Feedback.created_at, period),
                  *chat_conditions(Feedback.conversation_id, filters, channel=Feedback.channel)]
    return columns, conditions, [Feedback.created_at, Feedback.id], Feedback


def _tickets(connection: Connection, period: Period, filters: ReportFilters, now: datetime,
             dialect: str) -> tuple[list[Column], list, list, type]:
    columns = [
        Column("reference", Ticket.reference), Column("opened_at", Ticket.created_at, "time"),
        Column("status", Ticket.status), Column("category", Ticket.category), Column("priority", Ticket.priority),
        Column("classification", Ticket.classification),
        Column("classification_reason", Ticket.classification_reason),
        Column("subject", Ticket.subject, "free"), Column("description", Ticket.description, "free"),
        Column("customer_name", Ticket.customer_name), Column("customer_email", Ticket.customer_email, "email"),
        Column("assignee", _user_name(Ticket.assignee_id)), Column("conversation_id", Ticket.conversation_id),
        Column("channel", Ticket.channel),
        Column("first_response_due", Ticket.first_response_due, "time"),
        Column("first_responded_at", Ticket.first_responded_at, "time"),
        Column("first_response_seconds", _seconds(dialect, Ticket.first_responded_at, Ticket.created_at), "seconds"),
        Column("first_response_met", _met(Ticket.first_answered_at, Ticket.first_response_due, now), "met"),
        Column("resolution_due", Ticket.resolution_due, "time"),
        Column("resolved_at", Ticket.resolved_at, "time"),
        Column("resolution_seconds", _seconds(dialect, Ticket.resolved_at, Ticket.created_at), "seconds"),
        Column("resolution_met", _met(Ticket.resolved_at, Ticket.resolution_due, now), "met"),
        Column("updated_at", Ticket.updated_at, "time"),
    ]
    return columns, [within(Ticket.created_at, period), *ticket_conditions(filters)], [Ticket.id], Ticket


def _met(done: ColumnElement, due: ColumnElement, now: datetime) -> ColumnElement:
    """1 met, 0 missed (done late, or not done and the due time passed), NULL not decided yet."""
    return case((done.is_not(None), case((done <= due, 1), else_=0)), (due < now, 0), else_=None)


def _conversations(connection: Connection, period: Period, filters: ReportFilters, now: datetime,
                   dialect: str) -> tuple[list[Column], list, list, type]:
    handoff = aliased(Handoff)

    def of_first(column) -> ColumnElement:
        """`column` of the conversation's first request for a person."""
        return (select(column).where(handoff.conversation_id == Conversation.id)
                .order_by(handoff.requested_at, handoff.id).limit(1).scalar_subquery())

    agent_line = aliased(Message)
    first_agent_line = (select(func.min(agent_line.created_at))
                        .where(agent_line.conversation_id == Conversation.id, agent_line.sender == "agent")
                        .scalar_subquery())
    line = aliased(Message)
    owner_path = case((person_held(Conversation.id), "handed off"),
                      (Conversation.asked_for_person, "asked, nobody came"), else_="bot only")
    ticket = aliased(Ticket)
    decided_tickets = (select(func.count()).where(ticket.conversation_id == Conversation.id,
                                                  ticket.resolved_at.is_not(None)).scalar_subquery())
    late_tickets = (select(func.count()).where(ticket.conversation_id == Conversation.id,
                                               ticket.resolved_at.is_not(None),
                                               ticket.resolved_at > ticket.resolution_due).scalar_subquery())
    response = aliased(SurveyResponse)
    conditions = [within(Conversation.created_at, period),
                  *chat_conditions(Conversation.id, filters, agent=Conversation.agent_id)]
    keys = _question_keys(connection, lambda key, version: exists().where(
        SurveyResponse.survey_key == key, SurveyResponse.survey_version == version,
        SurveyResponse.conversation_id == Conversation.id, *conditions))
    columns = [
        Column("conversation_id", Conversation.id), Column("channel", Conversation.channel),
        Column("started_at", Conversation.created_at, "time"), Column("ended_at", Conversation.closed_at, "time"),
        Column("state", Conversation.state), Column("owner_path", owner_path),
        Column("customer_name", Conversation.customer_name),
        Column("customer_email", Conversation.customer_email, "email"),
        Column("handoff_reason", of_first(handoff.reason)),
        Column("handoff_requested_at", of_first(handoff.requested_at), "time"),
        Column("handoff_wait_seconds", _seconds(dialect, of_first(handoff.claimed_at), of_first(handoff.requested_at)),
               "seconds"),
        Column("agent", _user_name(Conversation.agent_id)),
        Column("first_agent_reply_seconds", _seconds(dialect, first_agent_line, of_first(handoff.requested_at)),
               "seconds"),
        Column("resolution_seconds", _seconds(dialect, of_first(case((handoff.status == "resolved", handoff.ended_at))),
                                              of_first(handoff.requested_at)), "seconds"),
        Column("ticket_refs", _ticket_refs(dialect, Conversation.id)),
        Column("tickets_resolution_sla_met", case((decided_tickets == 0, None), (late_tickets == 0, 1), else_=0),
               "met"),
        Column("customer_lines", Conversation.customer_lines),
        Column("fallback_count", select(func.count()).where(line.conversation_id == Conversation.id,
                                                            line.sender == "customer",
                                                            line.fallback.is_(True)).scalar_subquery()),
        Column("survey_completed", select(response.completed).where(response.conversation_id == Conversation.id)
               .scalar_subquery(), "bool"),
        *_answer_columns(keys, lambda answer: [response.conversation_id == Conversation.id],
                         lambda query, answer: query.join(response, response.id == answer.response_id)),
    ]
    return columns, conditions, [Conversation.created_at, Conversation.id], Conversation


BUILDERS: dict[str, Callable] = {"survey_responses": _survey_responses, "feedback": _feedback,
                                 "tickets": _tickets, "conversations": _conversations}


# --- cells ---------------------------------------------------------------------------------------


def _converter(kind: str, zone: ZoneInfo, redact: bool) -> Callable[[Any], Any] | None:
    """How a column's stored values become cells (None: as they are)."""
    if kind == "time":
        utc = ZoneInfo("UTC")

        def time_cell(value: Any) -> str:
            if isinstance(value, str):  # SQLite keeps times as text
                value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                value = value.replace(tzinfo=utc)
            return value.astimezone(zone).isoformat()

        return time_cell
    if kind in ("bool", "met"):
        return bool
    if kind == "seconds":
        return lambda value: round(float(value), 3)
    if redact and kind == "free":
        from bot.textscan import redact as redact_text  # spaCy: loaded only when asked to redact

        return lambda value: redact_text(value) if isinstance(value, str) else value
    if redact and kind == "email":
        return lambda value: "[EMAIL]"
    return None


def build_export(connection: Connection, dataset: str, period: Period, filters: ReportFilters | None = None, *,
                 redact: bool = False, zone: str | None = None, now: datetime | None = None) -> Export:
    """The export of `dataset` for the period and filters; its rows are read as they are used
    (keep `connection` open until then). `count` is how many rows there will be."""
    if dataset not in BUILDERS:
        raise ValueError(f"unknown dataset {dataset!r}; one of: {', '.join(DATASETS)}")
    filters = filters or ReportFilters()
    columns, conditions, order, entity = BUILDERS[dataset](connection, period, filters, now or utcnow(),
                                                           connection.dialect.name)
    count = connection.scalar(select(func.count()).select_from(entity).where(*conditions))
    tz = ZoneInfo(zone or period.zone)
    names = [column.name for column in columns]
    converters = [(index, convert) for index, column in enumerate(columns)
                  if (convert := _converter(column.kind, tz, redact)) is not None]
    anonymous_at = names.index("anonymous") if "anonymous" in names else None
    identity = [names.index(name) for name in ("customer_name", "customer_email", "conversation_id") if name in names]
    # Times as stored (SQLite: text): parsed once below instead of by the column type as well.
    statement = (select(*((type_coerce(column.expression, String) if column.kind == "time" else column.expression)
                          .label(column.name) for column in columns))
                 .where(*conditions).order_by(*order))

    def rows() -> Iterator[list[Any]]:
        result = connection.execute(statement, execution_options={"yield_per": 2000})
        for raw in result:
            row = list(raw)
            for index, convert in converters:
                if row[index] is not None:
                    row[index] = convert(row[index])
            if anonymous_at is not None and row[anonymous_at]:
                for index in identity:  # anonymous feedback never carries who gave it
                    row[index] = None
            yield row

    return Export(dataset=dataset, columns=names, rows=rows(), count=count or 0)


# --- writers -------------------------------------------------------------------------------------


_FORMULA_FIRST = frozenset(FORMULA_STARTS)  # each is one character


def csv_chunks(columns: list[str], rows: Iterable[list[Any]], batch: int = 1000) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (Excel then reads the accents right); cells a
    spreadsheet would run as a formula get a leading apostrophe; booleans are true/false."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    for number, row in enumerate(rows, start=1):
        # One comprehension, no call per cell: this runs for every cell of a million rows.
        writer.writerow([("'" + value if value[:1] in _FORMULA_FIRST else value) if value.__class__ is str
                         else ("true" if value else "false") if value.__class__ is bool else value
                         for value in row])
        if number % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def ndjson_chunks(columns: list[str], rows: Iterable[list[Any]], batch: int = 1000) -> Iterator[bytes]:
    """One JSON object per line, keys as the CSV's header."""
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        if len(lines) >= batch:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")


def write_xlsx(path: str, dataset: str, columns: list[str], rows: Iterable[list[Any]]) -> int:
    """A workbook written row by row (XlsxWriter's constant-memory mode); strings are always
    written as text, never as formulas. Past Excel's row limit the rows go on to a new sheet.
    The number of rows written."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                          "strings_to_urls": False, "strings_to_numbers": False})
    header = workbook.add_format({"bold": True})
    sheets, written, sheet, line = 0, 0, None, XLSX_MAX_ROWS
    try:
        for row in rows:
            if line >= XLSX_MAX_ROWS:
                sheets += 1
                sheet = workbook.add_worksheet(dataset[:28] if sheets == 1 else f"{dataset[:24]} ({sheets})")
                sheet.write_row(0, 0, columns, header)
                line = 1
            for index, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(line, index, value)
                elif isinstance(value, int | float):
                    sheet.write_number(line, index, value)
                else:
                    sheet.write_string(line, index, str(value))
            line += 1
            written += 1
        if sheet is None:  # no rows: the header alone
            sheet = workbook.add_worksheet(dataset[:28])
            sheet.write_row(0, 0, columns, header)
    finally:
        workbook.close()
    return written

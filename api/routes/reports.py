"""Managers' reports: the KPI summary, the SLA watch, service-recovery items and exports. The same
service (bot/reports) feeds the dashboard and the exports, so the numbers agree everywhere."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.orm import Session

from api.deps import MAX_ID, Agent, Day, Manager, Moment, Offset, PathId, SessionDep, client_address
from bot.alerts.models import Alert
from bot.alerts.service import active_alerts, recent_alerts
from bot.audit.service import record_now
from bot.db import MAX_SEARCH_CHARS, read_transaction, utcnow
from bot.errors import Forbidden, Invalid
from bot.feedback.models import FEEDBACK_CATEGORIES, SURVEY_COMMENT
from bot.inputs import RowId
from bot.recovery.models import RECOVERY_STATUSES, RecoveryItem
from bot.recovery.service import change_item, follow_up, follow_up_mails, list_items
from bot.reports.exports import (
    MEDIA_TYPES,
    Dataset,
    Export,
    Format,
    build_export,
    csv_chunks,
    ndjson_chunks,
    write_xlsx,
)
from bot.reports.inbox import InboxItem, InboxPage, item_of, list_inbox, review_item
from bot.reports.kpis import METRICS, sla_watch, summary, timeseries
from bot.reports.period import Period, ReportFilters, requested_period
from bot.reports.schemas import MAX_NOTE_CHARS, Breaches, RecoveryOut, Summary
from bot.reports.themes import Themes, find_themes
from bot.settings import get_settings
from bot.textscan import NOT_BLANK
from bot.tickets.models import CHANNELS
from bot.tickets.schemas import MAX_DESCRIPTION, MailOut
from bot.users.service import staff_names

router = APIRouter(prefix="/api/v1", tags=["reports"])


def period_of(first: date | None, last: date | None) -> Period:
    """The period asked for (PeriodError, a 422, saying what is wrong with it)."""
    return requested_period(first, last, get_settings())


def checked(filters: ReportFilters) -> ReportFilters:
    """Filters must name things that exist (422 with the allowed values otherwise)."""
    categories = [category.key for category in get_settings().ticket_categories]
    if filters.category is not None and filters.category not in categories:
        raise Invalid(f"unknown category {filters.category!r}; one of: {', '.join(categories)}")
    return filters


First = Annotated[Day | None, Query(alias="from", description="first day (YYYY-MM-DD, report time zone); "
                                     "default: 29 days before `to`")]
Last = Annotated[Day | None, Query(alias="to", description="last day, included; default: today")]
Filters = Annotated[ReportFilters, Query()]


@router.get("/reports/summary", response_model=Summary)
def report_summary(session: SessionDep, _: Manager, first: First = None, last: Last = None,
                   filters: Filters = None) -> Summary:
    """Every KPI for the period (whole days in REPORT_TIMEZONE), with the same figures for as
    many days before. Each field's description is its definition."""
    return summary(session=session, period=period_of(first, last), filters=checked(filters or ReportFilters()),
                   with_previous=True)


class Point(BaseModel):
    day: date
    value: float | None = Field(description="null when there was nothing to measure that day")


class Series(BaseModel):
    metric: str
    description: str
    interval: Literal["day"]
    points: list[Point]


MetricName = Literal[tuple(METRICS)]


@router.get("/reports/timeseries", response_model=Series)
def report_timeseries(session: SessionDep, _: Manager, metric: Annotated[MetricName, Query()],
                      interval: Literal["day"] = "day", first: First = None, last: Last = None,
                      filters: Filters = None) -> Series:
    """One summary figure for each day of the period (the trend charts): each point is the
    summary's own figure computed over that day."""
    period, filters = period_of(first, last), checked(filters or ReportFilters())
    points = timeseries(session=session, metric=metric, period=period, filters=filters)
    return Series(metric=metric, description=METRICS[metric][0], interval=interval,
                  points=[Point(day=day, value=value) for day, value in points])


@router.get("/reports/themes", response_model=Themes)
def report_themes(session: SessionDep, _: Manager, first: First = None, last: Last = None,
                  filters: Filters = None) -> Themes:
    """The commonest lemmas and two-word phrases in the comments of surveys scoring
    RECOVERY_SCORE_THRESHOLD or less on the first question, each with the comments it comes
    from (the latest 5,000 comments at most)."""
    return find_themes(session=session, period=period_of(first, last), filters=checked(filters or ReportFilters()),
                       max_score=get_settings().recovery_score_threshold)


def recovery_out(session: Session, items: list[RecoveryItem]) -> list[RecoveryOut]:
    now = utcnow()
    names = staff_names(session, {item.owner_id for item in items if item.owner_id})
    mails = follow_up_mails(session=session, items=items)
    out = []
    for item in items:
        one = RecoveryOut.model_validate(item)
        one.owner_name = names.get(item.owner_id) if item.owner_id else None
        one.overdue = item.is_overdue(now)
        one.follow_ups = [MailOut.model_validate(mail) for mail in mails[item.id]]
        out.append(one)
    return sorted(out, key=lambda one: (not one.overdue, one.due_at))


@router.get("/reports/breaches", response_model=Breaches)
def report_breaches(session: SessionDep, _: Manager, filters: Filters = None) -> Breaches:
    """What needs action now: SLA breaches and tickets due within the hour, and the recovery
    items not closed yet (overdue first)."""
    filters = checked(filters or ReportFilters())
    return Breaches(generated_at=utcnow(), tickets=sla_watch(session=session, filters=filters),
                    recovery=recovery_out(session, list_items(session=session)))


@router.get("/recovery-items", response_model=list[RecoveryOut])
def recovery_items(session: SessionDep, user: Agent,
                   status_: Annotated[Literal["open", "contacted", "closed", "all"] | None,
                                      Query(alias="status", description="default: all but closed")] = None,
                   owner: Annotated[Literal["me", "none"] | Annotated[int, Field(ge=1, le=MAX_ID)] | None,
                                    Query(description="a user id, 'me' or 'none'; agents see only their own items")
                                    ] = None,
                   overdue: bool = False) -> list[RecoveryOut]:
    """Service-recovery items, overdue first. Managers see all; an agent sees the ones they own."""
    owner_id, unowned = None, False
    if owner == "none":
        unowned = True
    elif owner == "me":
        owner_id = user.id
    elif owner is not None:
        owner_id = owner
    if user.role == "agent":
        if unowned or owner_id not in (None, user.id):
            raise Forbidden("agents see their own recovery items only")
        owner_id = user.id
    return recovery_out(session, list_items(session=session, status=status_, owner_id=owner_id, unowned=unowned,
                                            overdue_only=overdue))


class RecoveryPatch(BaseModel):
    status: Literal[RECOVERY_STATUSES] | None = None
    owner_id: RowId | None = Field(default=None, description="a staff member's id; null (given) "
                                 "unassigns")
    due_at: Moment | None = None
    outcome: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE_CHARS)


@router.patch("/recovery-items/{item_id}", response_model=RecoveryOut)
def change_recovery_item(item_id: PathId, body: RecoveryPatch, session: SessionDep, user: Agent) -> RecoveryOut:
    """Move an item on (open -> contacted -> closed; closing needs an outcome), give it an
    owner or a new due time. All the changes or none (409 for a refused one). An agent may
    move on the items they own; only managers give items to someone else."""
    item = change_item(session=session, item_id=item_id, by=user, status=body.status, owner_id=body.owner_id,
                       set_owner="owner_id" in body.model_fields_set, due_at=body.due_at, outcome=body.outcome)
    return recovery_out(session, [item])[0]


class FollowUp(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_DESCRIPTION, pattern=NOT_BLANK,
                         description="what to tell the customer, in your own words; e-mailed from you")


@router.post("/recovery-items/{item_id}/follow-up", response_model=RecoveryOut)
def follow_up_recovery_item(item_id: PathId, body: FollowUp, session: SessionDep, user: Agent) -> RecoveryOut:
    """E-mail the unhappy customer (the item's owner, or a manager): on the item's ticket, as a public
    reply there, when it has one; else to the address the complaint or the chat gave. The item becomes
    contacted. 409 when it is closed or we have no address (anonymous feedback)."""
    item = follow_up(session=session, item_id=item_id, by=user, message=body.message)
    return recovery_out(session, [item])[0]


EXTENSIONS = {"csv": "csv", "ndjson": "ndjson", "xlsx": "xlsx"}
CHUNK = 1 << 16  # bytes of a finished workbook sent at a time


def export_body(stack: ExitStack, export: Export, file_format: str) -> Iterator[bytes]:
    """The file, chunk by chunk; the read transaction (and any temporary file) ends with it,
    also when the client goes away half-way."""
    try:
        if file_format == "csv":
            yield from csv_chunks(export.columns, export.rows)
        elif file_format == "ndjson":
            yield from ndjson_chunks(export.columns, export.rows)
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="export-"))
            path = f"{folder}/{export.dataset}.xlsx"
            write_xlsx(path, export.dataset, export.columns, export.rows)
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
    finally:
        stack.close()


@router.get("/exports/{dataset}", response_class=StreamingResponse,
            responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                             "description": "the file, streamed"}})
def export_dataset(dataset: Dataset, manager: Manager, request: Request, first: First = None, last: Last = None,
                   filters: Filters = None,
                   file_format: Annotated[Format, Query(alias="format")] = "csv",
                   redact: Annotated[bool, Query(description="mask e-mails, phone and card numbers in every "
                                                             "free-text column")] = False) -> StreamingResponse:
    """One dataset for the period and filters, as a download: `survey_responses` (a row per
    response, a column per question asked in the period), `feedback` (with its recovery item),
    `tickets` (with SLA due, met and timings), `conversations` (the fact table: a row per chat).
    Times are ISO 8601 with the report time zone's offset; CSV is UTF-8 with a BOM, and cells
    that a spreadsheet would run as formulas start with an apostrophe."""
    period, filters = period_of(first, last), checked(filters or ReportFilters())
    stack = ExitStack()
    try:
        connection = stack.enter_context(read_transaction())
        export = build_export(connection, dataset, period, filters, redact=redact)
    except BaseException:
        stack.close()
        raise
    name = f"{dataset}_{period.first.isoformat()}_{period.last.isoformat()}.{EXTENSIONS[file_format]}"
    try:
        record_now("export.downloaded", actor=manager.email, actor_id=manager.id, target=f"export:{dataset}",
                   address=client_address(request),
                   details={"from": period.first.isoformat(), "to": period.last.isoformat(), "format": file_format,
                            "redact": redact, "rows": export.count,
                            "filters": filters.model_dump(mode="json", exclude_none=True)})
    except BaseException:
        stack.close()
        raise
    return StreamingResponse(export_body(stack, export, file_format), media_type=MEDIA_TYPES[file_format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"',
                                      "X-Row-Count": str(export.count)})


class AlertOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    rule_key: str
    metric: str
    message: str
    threshold: float
    fired_value: float = Field(description="the metric when the alert fired")
    value: float = Field(description="the metric at the latest check")
    fired_at: datetime
    checked_at: datetime
    cleared_at: datetime | None = Field(description="null while the alert is active")
    webhook_status: str = Field(description="none (no webhook), pending, sending, sent or failed")
    webhook_error: str | None


@router.get("/alerts", response_model=list[AlertOut])
def alerts(session: SessionDep, _: Manager,
           active: Annotated[bool, Query(description="only the ones active now")] = False) -> list[Alert]:
    """Alerts (warning thresholds crossed, ALERT_RULES): the active ones first, then the latest
    cleared (100 at most)."""
    return active_alerts(session=session) if active else recent_alerts(session=session)


@router.get("/inbox", response_model=InboxPage)
def inbox(session: SessionDep, _: Manager, first: First = None, last: Last = None,
          kind: Literal["feedback", "survey"] | None = None,
          category: Annotated[Literal[(*FEEDBACK_CATEGORIES, SURVEY_COMMENT)] | None,
                              Query(description="a feedback category, or survey_comment")] = None,
          channel: Annotated[Literal[CHANNELS] | None,
                             Query(description="chat, or page: surveys answered on the ticket's page")] = None,
          min_score: Annotated[int | None, Query(ge=0, le=10, description="survey comments scoring at least")] = None,
          max_score: Annotated[int | None, Query(ge=0, le=10, description="survey comments scoring at most")] = None,
          agent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
          status_: Annotated[Literal["new", "reviewed", "actioned"] | None,
                                                          Query(alias="status")] = None,
          q: Annotated[str | None, Query(max_length=MAX_SEARCH_CHARS, description="words the text contains, all "
                                                    "of them, anywhere, in any case")] = None,
          limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Offset = 0) -> InboxPage:
    """Feedback items and survey comments together, newest first, with filters and search."""
    return list_inbox(session=session, period=period_of(first, last), kind=kind, category=category,
                      channel=channel, min_score=min_score, max_score=max_score, agent_id=agent_id, status=status_, q=q,
                      limit=limit, offset=offset)


class ReviewPatch(BaseModel):
    reviewed: StrictBool | None = None
    owner_id: RowId | None = Field(default=None, description="a staff member's id; null (given) "
                                 "unassigns")
    due_at: Moment | None = None
    action_note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS,
                                    description="what was done; marks it actioned")


@router.patch("/inbox/{kind}/{number}", response_model=InboxItem)
def review(kind: Literal["feedback", "survey"], number: PathId, body: ReviewPatch, session: SessionDep,
           manager: Manager) -> InboxItem:
    """Mark an item reviewed (or not), give it an owner, a due date, a note of the action taken.
    `number` is the feedback item's id, or the survey response's."""
    item_id = number
    review_item(session=session, kind=kind, item_id=item_id, by=manager, reviewed=body.reviewed,
                owner_id=body.owner_id, set_owner="owner_id" in body.model_fields_set, due_at=body.due_at,
                action_note=body.action_note)
    return item_of(session=session, kind=kind, item_id=item_id)

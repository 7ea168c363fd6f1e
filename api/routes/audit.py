"""The audit log for admins: sign-ins and their failures, exports, staff-account changes, erasures and
retention runs; one page at a time, or all of it as CSV (that download is itself logged)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import MAX_ID, Admin, Moment, SessionDep, client_address
from bot.audit.models import ACTIONS
from bot.audit.service import events, every_event, record
from bot.db import read_transaction, transaction
from bot.reports.exports import csv_chunks

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Action = Literal[ACTIONS]  # type: ignore[valid-type]
COLUMNS = ["id", "at", "action", "actor", "actor_id", "target", "address", "details"]


class AuditEventOut(BaseModel):
    model_config = {"from_attributes": True}

    id: int
    at: datetime
    action: str
    actor: str
    actor_id: int | None
    target: str | None
    address: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    total: int
    events: list[AuditEventOut]


@router.get("", response_model=AuditPage)
def audit_log(session: SessionDep, _: Admin, action: Action | None = None,
              actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
              since: Moment | None = None,
              offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> AuditPage:
    """Newest first; `total` counts every match."""
    total, page = events(session, action=action, actor_id=actor_id, since=since, offset=offset, limit=limit)
    return AuditPage(total=total, events=[AuditEventOut.model_validate(event) for event in page])


@router.get("/export", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "the whole log, oldest first"}})
def export_audit_log(request: Request, admin: Admin) -> StreamingResponse:
    """Every event as CSV (UTF-8 with a BOM; details as JSON). The download is logged first."""
    with transaction() as session:
        record(session, "audit.exported", actor=admin.email, actor_id=admin.id, address=client_address(request))

    def rows() -> Iterator[list[Any]]:
        with read_transaction() as connection, Session(bind=connection) as session:
            for event in every_event(session):
                yield [event.id, event.at.isoformat(), event.action, event.actor, event.actor_id, event.target,
                       event.address, json.dumps(event.details, ensure_ascii=False, sort_keys=True)]

    return StreamingResponse(csv_chunks(COLUMNS, rows()), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="audit_log.csv"'})

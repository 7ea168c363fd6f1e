"""What a report is about: a range of whole days in the report's time zone, and filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from bot.errors import Invalid
from bot.settings import Settings
from bot.textscan import TICKET_CATEGORY
from bot.tickets.models import CHANNELS, CLASSIFICATIONS, PRIORITIES


class PeriodError(Invalid):
    """A range that cannot be reported on; the message says why, for the person who asked."""


@dataclass(frozen=True)
class Period:
    """Days `first` to `last` inclusive, in `zone`; `start`/`end` are the UTC instants
    [start, end) they cover."""

    first: date
    last: date
    zone: str

    @property
    def start(self) -> datetime:
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The same number of days just before this period (for "change against before")."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.zone)

    def day_starts(self) -> list[datetime]:
        """The UTC instant each day of the period starts, and the end (one more than days)."""
        return [_midnight(self.first + timedelta(days=n), self.zone) for n in range(self.days + 1)]


def _midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def make_period(first: date | None, last: date | None, *, zone: str, max_days: int, today: date) -> Period:
    """The period asked for: `last` defaults to today, `first` to 29 days before `last`."""
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last:
        raise PeriodError(f"'from' ({first.isoformat()}) is after 'to' ({last.isoformat()})")
    days = (last - first).days + 1
    if days > max_days:
        raise PeriodError(f"the range is {days} days; at most {max_days} days at a time (REPORT_MAX_DAYS)")
    return Period(first, last, zone)


def requested_period(first: date | None, last: date | None, settings: Settings) -> Period:
    """`make_period` in the report time zone, with its "today" and REPORT_MAX_DAYS."""
    zone = settings.report_zone
    return make_period(first, last, zone=zone, max_days=settings.report_max_days,
                       today=datetime.now(ZoneInfo(zone)).date())


class ReportFilters(BaseModel):
    """Narrow every figure to conversations, tickets and answers matching all the filters given."""

    agent_id: int | None = Field(default=None, ge=1, le=2**31 - 1,
                                 description="the staff member who handled the chat (tickets: the assignee; "
                                             "handoffs: the agent who took it)")
    category: str | None = Field(default=None, max_length=64, json_schema_extra={TICKET_CATEGORY: True},
                                 description="ticket category; for chats, surveys "
                                 "and feedback: those with a ticket in this category")
    priority: Literal[PRIORITIES] | None = Field(default=None, description="ticket priority, applied as category is")
    classification: Literal[CLASSIFICATIONS] | None = Field(default=None, description="routine, urgent or complex, "
                                                             "applied as category is")
    owner: Literal["bot", "human"] | None = Field(default=None, description="bot: chats no person ever held; "
                                                  "human: chats a person held. Items with no chat are left out")
    channel: Literal[CHANNELS] | None = Field(default=None, description="where it came in: chat (the website "
                                              "chat: every conversation, handoff and chat line), email, or page "
                                              "(the ticket's page: surveys answered there)")

    def narrow(self) -> bool:
        """Whether any filter is given."""
        return bool(self.model_dump(exclude_none=True))

    def ticket_fields(self) -> dict[str, str]:
        return {name: value for name, value in (("category", self.category), ("priority", self.priority),
                                                ("classification", self.classification)) if value is not None}

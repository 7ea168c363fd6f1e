"""Opening hours for live chat: "mon-fri 09:00-17:00; sat 10:00-14:00" in a named time zone.

An empty text means always open. Each part is a day or a day range (mon..sun, or `daily`)
and one time range; a day may have several parts. 24:00 ends a range at midnight."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?|daily)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class Span:
    days: tuple[int, ...]  # 0 = Monday
    start: int  # minutes after midnight
    end: int  # exclusive; 1440 = midnight at the end of the day


def _minutes(text: str, *, is_end: bool) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0 and is_end:
        return 1440
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text} is not a time of day")
    return hours * 60 + minutes


def _days(text: str) -> tuple[int, ...]:
    if text == "daily":
        return tuple(range(7))
    first, _, last = text.partition("-")
    for day in (first, last or first):
        if day not in DAYS:
            raise ValueError(f"{day!r} is not a day; use {', '.join(DAYS)} or daily")
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise ValueError(f"{text}: a day range runs forward, e.g. mon-fri")
    return tuple(range(start, end + 1))


@dataclass(frozen=True)
class OpeningHours:
    spans: tuple[Span, ...]
    zone: str = "UTC"

    @classmethod
    def parse(cls, text: str, zone: str = "UTC") -> OpeningHours:
        """Raise ValueError, naming the part that is wrong, for anything it cannot read."""
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not a known time zone (e.g. UTC, Europe/Berlin)") from None
        spans = []
        for raw in re.split(r"[;,]", (text or "").strip().lower()):
            part = " ".join(raw.split())
            if not part:
                continue
            found = _PART.match(part)
            if not found:
                raise ValueError(f"cannot read {raw.strip()!r}: write e.g. 'mon-fri 09:00-17:00'")
            start = _minutes(found["start"], is_end=False)
            end = _minutes(found["end"], is_end=True)
            if end <= start:
                raise ValueError(f"{raw.strip()!r}: the closing time must be after the opening time")
            spans.append(Span(days=_days(found["days"]), start=start, end=end))
        return cls(spans=tuple(spans), zone=zone)

    @property
    def always(self) -> bool:
        return not self.spans

    def is_open(self, moment: datetime) -> bool:
        if self.always:
            return True
        local = moment.astimezone(ZoneInfo(self.zone))
        minute = local.hour * 60 + local.minute
        return any(local.weekday() in span.days and span.start <= minute < span.end for span in self.spans)

    def describe(self) -> str:
        """In words for customers: "Mon-Fri 09:00-17:00, Sat 10:00-14:00 (Europe/Berlin time)"."""
        if self.always:
            return "around the clock"

        def clock(minutes: int) -> str:
            return time(minutes // 60, minutes % 60).strftime("%H:%M") if minutes < 1440 else "24:00"

        def days(span: Span) -> str:
            first, last = DAYS[span.days[0]].title(), DAYS[span.days[-1]].title()
            if len(span.days) == 7:
                return "Daily"
            return first if first == last else f"{first}\u2013{last}"

        parts = [f"{days(span)} {clock(span.start)}\u2013{clock(span.end)}" for span in self.spans]
        return f"{', '.join(parts)} ({self.zone} time)"

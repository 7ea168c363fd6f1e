"""Opening hours: reading the setting, open or closed at a moment in the named zone, in words."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.business_hours import OpeningHours
from bot.settings import Settings


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_empty_means_always_open():
    hours = OpeningHours.parse("  ")
    assert hours.always and hours.is_open(utc(2026, 3, 1, 3, 0)) and hours.describe() == "around the clock"


@pytest.mark.parametrize(("moment", "is_open"), [
    (utc(2026, 3, 2, 8, 59), False),   # Monday, a minute before opening
    (utc(2026, 3, 2, 9, 0), True),     # opening minute
    (utc(2026, 3, 2, 16, 59), True),
    (utc(2026, 3, 2, 17, 0), False),   # closing is exclusive
    (utc(2026, 3, 6, 12, 0), True),    # Friday
    (utc(2026, 3, 7, 11, 0), True),    # Saturday's short day
    (utc(2026, 3, 7, 15, 0), False),
    (utc(2026, 3, 8, 12, 0), False),   # Sunday
    (utc(2026, 3, 8, 23, 30), True),   # Sunday's late shift, up to midnight
])
def test_open_within_a_span_on_its_days(moment, is_open):
    hours = OpeningHours.parse("Mon-Fri 09:00-17:00; sat 10:00-14:00, sun 23:00-24:00")
    assert hours.is_open(moment) is is_open


def test_hours_are_local_to_the_zone_across_daylight_saving():
    hours = OpeningHours.parse("mon-fri 09:00-17:00", "Europe/Berlin")
    assert hours.is_open(utc(2026, 3, 27, 8, 0))       # Friday 09:00 CET (UTC+1)
    assert not hours.is_open(utc(2026, 3, 27, 7, 30))  # 08:30 CET
    assert hours.is_open(utc(2026, 3, 30, 7, 0))       # Monday 09:00 CEST (UTC+2) after the change
    assert not hours.is_open(utc(2026, 3, 30, 15, 0))  # 17:00 CEST


def test_described_for_customers():
    hours = OpeningHours.parse("mon-fri 09:00-17:30; sat 10:00-14:00; daily 20:00-24:00", "Europe/Berlin")
    assert hours.describe() == ("Mon\u2013Fri 09:00\u201317:30, Sat 10:00\u201314:00, Daily 20:00\u201324:00 "
                                "(Europe/Berlin time)")


@pytest.mark.parametrize(("text", "zone", "complaint"), [
    ("mon-fri 9-17", "UTC", "cannot read 'mon-fri 9-17'"),
    ("weekdays 09:00-17:00", "UTC", "cannot read"),
    ("mon-fri 17:00-09:00", "UTC", "closing time must be after the opening time"),
    ("fri-mon 09:00-17:00", "UTC", "a day range runs forward"),
    ("mon-fry 09:00-17:00", "UTC", "'fry' is not a day"),
    ("mon 25:00-26:00", "UTC", "25:00 is not a time of day"),
    ("mon 09:00-17:00", "Mars/Olympus", "'Mars/Olympus' is not a known time zone"),
])
def test_unreadable_hours_are_refused_with_the_reason(text, zone, complaint):
    with pytest.raises(ValueError, match=complaint):
        OpeningHours.parse(text, zone)


def test_settings_refuse_unreadable_hours_at_start():
    with pytest.raises(ValueError, match="BUSINESS_HOURS / BUSINESS_TIMEZONE: cannot read 'nine to five'"):
        Settings(_env_file=None, business_hours="nine to five")
    settings = Settings(_env_file=None, business_hours="sat 10:00-14:00", business_timezone="Europe/London")
    assert settings.opening_hours.zone == "Europe/London"

"""Ticket facts in words for customers: durations, times, the SLA promise."""

from __future__ import annotations

from datetime import datetime

from bot.settings import Settings, get_settings
from bot.tickets.models import Ticket


def plain_duration(hours: float) -> str:
    # "24 hours" reads as a promise; "1 day" sounds vaguer. Days from 48 hours on.
    if hours < 48 or hours % 24:
        whole = int(hours) if float(hours).is_integer() else hours
        return f"{whole} hour" + ("" if whole == 1 else "s")
    days = int(hours // 24)
    return f"{days} day" + ("" if days == 1 else "s")


def plain_time(moment: datetime) -> str:
    return moment.strftime("%a %d %b, %H:%M UTC")


def sla_promise(ticket: Ticket, settings: Settings | None = None) -> str:
    target = (settings or get_settings()).sla_policy[ticket.priority]
    return (
        f"We'll reply within {plain_duration(target.first_response_hours)} "
        f"(by {plain_time(ticket.first_response_due)}) and aim to resolve it within "
        f"{plain_duration(target.resolution_hours)}."
    )

"""The gauges a scrape reads from the database (bot.metrics.StateCollector): the same whichever process
answers, and cheap (counts over indexed columns)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.alerts.models import Alert
from bot.conversations.models import Handoff
from bot.db import transaction, utcnow
from bot.mail.models import MAIL_STATUSES, InboundMail, OutboxMail
from bot.recovery.models import RecoveryItem
from bot.reports.kpis import SlaWatch
from bot.settings import get_settings
from bot.tickets.models import Ticket
from bot.users.models import User

State = list[tuple[str, str, float | dict[tuple[str, ...], float], tuple[str, ...]]]


def current_state() -> State:
    now = utcnow()
    with transaction() as session:
        queued, oldest = session.execute(select(func.count(), func.min(Handoff.queued_at))
                                         .where(Handoff.status == "queued")).one()
        online = session.scalar(select(func.count()).select_from(User).where(User.active.is_(True),
                                                                               User.presence == "online"))
        outbox = dict(session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all())
        held = session.scalar(select(func.count()).select_from(InboundMail).where(InboundMail.outcome == "held"))
        active = set(session.scalars(select(Alert.rule_key).where(Alert.cleared_at.is_(None))))
        overdue = session.scalar(select(func.count()).select_from(RecoveryItem).where(RecoveryItem.is_overdue(now)))
        breaching = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.is_open,
                                                                                  SlaWatch(now).breaching))
    oldest_wait = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    rules = {rule.key for rule in get_settings().alert_rules} | active
    return [
        ("support_queue_length", "requests for a person waiting in the queue", float(queued), ()),
        ("support_queue_oldest_wait_seconds", "how long the longest-waiting request has waited (0: none)",
         oldest_wait, ()),
        ("support_agents_online", "staff members online", float(online or 0), ()),
        ("support_outbox_emails", "e-mails to customers by state (pending, sending, sent, failed)",
         {(status,): float(outbox.get(status, 0)) for status in MAIL_STATUSES}, ("status",)),
        ("support_mailbox_held", "messages from the support mailbox held for a person", float(held or 0), ()),
        ("support_alert_active", "1 while the alert rule fires (ALERT_RULES)",
         {(key,): float(key in active) for key in sorted(rules)}, ("rule",)),
        ("support_recovery_overdue", "service-recovery items past their due time", float(overdue or 0), ()),
        ("support_tickets_breaching_sla", "open tickets past a due time they have not met", float(breaching or 0), ()),
    ]

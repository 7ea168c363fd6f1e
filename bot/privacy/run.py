"""Export and erasure as one step each, for the command line and the API alike: the database
change, Rasa's tracker store, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.audit.service import record
from bot.db import transaction
from bot.privacy.service import erase, export, retain, subject_key
from bot.settings import get_settings
from bot.trackers import forget_conversations


def export_customer(email: str, *, actor: str, actor_id: int | None = None, address: str | None = None
                    ) -> dict[str, Any]:
    with transaction() as session:
        data = export(session, email)
        record(session, "privacy.exported", actor=actor, actor_id=actor_id, target=subject_key(email),
               address=address, details={"conversations": len(data["conversations"]), "tickets": len(data["tickets"]),
                                         "feedback": len(data["feedback"])})
    return data


def erase_customer(email: str, *, actor: str, actor_id: int | None = None, address: str | None = None
                   ) -> dict[str, int]:
    """Erase in our database (one transaction, audited), then Rasa's state of those conversations."""
    with transaction() as session:
        done = erase(session, email)
        record(session, "privacy.erased", actor=actor, actor_id=actor_id, target=subject_key(email),
               address=address, details=done["counts"])
    counts = dict(done["counts"])
    counts["tracker_records"] = forget_conversations(get_settings().rasa_tracker_store, done["conversation_ids"])
    return counts


def retention_run(before: datetime) -> dict[str, int]:
    """One retention pass (the API's hourly sweep, when RETENTION_DAYS is set): chats untouched since
    `before` anonymised, Rasa's state of them deleted, and the run audited when it changed anything."""
    total: dict[str, int] = {}
    while True:
        with transaction() as session:
            done = retain(session, before)
            if done["conversation_ids"]:
                record(session, "retention.run", actor="system",
                       details={**done["counts"], "before": before.isoformat()})
        if not done["conversation_ids"]:
            return total
        forgotten = forget_conversations(get_settings().rasa_tracker_store, done["conversation_ids"])
        for key, value in {**done["counts"], "tracker_records": forgotten}.items():
            total[key] = total.get(key, 0) + value

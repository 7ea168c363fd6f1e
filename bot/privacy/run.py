"""Export and erasure as one step each, for the command line and the API alike: the database
change, Rasa's tracker store, and the audit log."""

from __future__ import annotations

from typing import Any

from bot.audit.service import record
from bot.db import transaction
from bot.privacy.service import erase, export, subject_key
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

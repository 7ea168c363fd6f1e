"""Rasa checks every custom action's reply against a JSON schema with `jsonschema.validate`, which
first checks that schema against the JSON Schema metaschema, on every call. The schema is a constant
of Rasa's; re-checking it was 10% of a busy Rasa shard's time (py-spy, 2-core machine, ticket form
openings). `check_schema_once()` makes Rasa's RemoteAction check replies with a validator built once.
A reply that fails it is handed to Rasa's own check, so it is refused exactly as before, with
Rasa's own message."""

from __future__ import annotations

from typing import Any

_done = False


def check_schema_once() -> None:
    global _done
    if _done:
        return
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    checker = validator_for(schema)
    checker.check_schema(schema)
    validator = checker(schema)
    rasas_own = RemoteAction._validate_action_result

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        return True if validator.is_valid(result) else rasas_own(self, result)

    RemoteAction._validate_action_result = _validate_action_result
    _done = True

"""channels.action_results, run in Rasa's environment (.venv-rasa) against Rasa's own RemoteAction:
replies are checked with a validator built once, and a bad reply is still refused with Rasa's error."""

from __future__ import annotations

from tests.nlu.test_components import run_in_rasa

_SCRIPT = """
import json, sys
import jsonschema
from rasa.core.actions.action import RemoteAction
from channels.action_results import check_schema_once

# Count the checks of the schema itself (a plain function on the class: called with the schema).
checker = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
original_check = checker.check_schema
checks = []
def counting(schema):
    checks.append(1)
    return original_check(schema)
checker.check_schema = counting

action = RemoteAction("action_x", None)
out = {}
for name, reply in json.loads(sys.stdin.read()).items():
    before = len(checks)
    try:
        out[name] = [action._validate_action_result(reply), len(checks) - before]
    except jsonschema.ValidationError as error:
        out[name] = ["refused: " + error.message, len(checks) - before]
    if name == "good_before":
        check_schema_once()
        check_schema_once()
print(json.dumps(out))
"""


def test_replies_are_checked_without_rechecking_the_schema_and_bad_ones_are_refused_as_rasa_does():
    good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    bad = {"events": [{"no_event_key": True}], "responses": "not a list"}
    out = run_in_rasa(_SCRIPT, {"good_before": good, "good_after": good, "bad_after": bad})
    assert out["good_before"] == [True, 1]  # Rasa's own: the schema is checked on every reply
    assert out["good_after"] == [True, 0]
    verdict, _ = out["bad_after"]
    assert verdict.startswith("refused: ") and "Failed to validate Action server response" in verdict

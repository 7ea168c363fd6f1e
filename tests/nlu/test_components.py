"""The Rasa tokenizer of our own, run in Rasa's environment (.venv-rasa) as Rasa runs it."""

from __future__ import annotations

import json
import subprocess

import pytest

from bot.settings import PROJECT_ROOT
from harness.rasa import RASA

RASA_PYTHON = RASA.parent / "python"

_SCRIPT = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from nlu.components import DetailsTokenizer
tokenizer = DetailsTokenizer(DetailsTokenizer.get_default_config())
out = {}
for text in json.loads(sys.stdin.read()):
    message = Message({"text": text})
    tokenizer.process([message])
    out[text] = [(t.text, t.start, t.end) for t in message.get("text_tokens")]
print(json.dumps(out))
"""


def run_in_rasa(script: str, payload: object) -> object:
    """What `script`, run by Rasa's Python in the project folder with `payload` as JSON on its
    standard input, prints as JSON on its last line."""
    if not RASA_PYTHON.exists():
        pytest.skip(f"Rasa's environment is not built ({RASA_PYTHON} missing); `make test` builds it")
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script], input=json.dumps(payload), capture_output=True, text=True,
        cwd=PROJECT_ROOT, check=True, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def tokens(*texts: str) -> dict[str, list[list]]:
    return run_in_rasa(_SCRIPT, texts)


def test_details_become_one_placeholder_token_each_and_keep_their_offsets():
    text = "Paid twice on 12/11, 79,00 EUR each, order BS-50129, ref TCK-7QK2MD, me: a.b@example.com"
    [(_, got)] = tokens(text).items()

    words = [word for word, _, _ in got]
    assert words == ["Paid", "twice", "on", "numericdate", "moneyamount", "each", "order", "longnumber",
                     "ref", "ticketreference", "me", "emailaddress"]
    by_word = {word: text[start:end] for word, start, end in got}
    assert by_word["moneyamount"] == "79,00 EUR"
    assert by_word["ticketreference"] == "TCK-7QK2MD"
    assert by_word["emailaddress"] == "a.b@example.com"


def test_a_line_without_details_is_tokenized_as_by_rasas_whitespace_tokenizer():
    [(_, got)] = tokens("I want to open a ticket, please!").items()

    assert [word for word, _, _ in got] == ["I", "want", "to", "open", "a", "ticket", "please"]


_GATE_SCRIPT = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from nlu.components import FaqAnswerGate
gate = FaqAnswerGate({**FaqAnswerGate.get_default_config(), "threshold": 0.3})
out = []
for intent, topic_confidence in json.loads(sys.stdin.read()):
    message = Message({"text": "x", "intent": {"name": intent, "confidence": 0.99},
                       "intent_ranking": [{"name": intent, "confidence": 0.99}, {"name": "greet", "confidence": 0.01}],
                       "response_selector": {"faq": {"response": {"confidence": topic_confidence,
                                                                  "intent_response_key": "faq/track_order"}}}})
    gate.process([message])
    out.append([message.get("intent")["confidence"], message.get("intent_ranking")[0]["confidence"]])
print(json.dumps(out))
"""


def test_the_faq_gate_lowers_an_faq_line_to_an_unsure_topics_confidence_and_nothing_else():
    unsure, sure, other = run_in_rasa(_GATE_SCRIPT, [["faq", 0.12], ["faq", 0.8], ["open_ticket", 0.05]])

    assert unsure == [0.12, 0.12]  # the FallbackClassifier (0.6) then hands it to the fallback
    assert sure == [0.99, 0.99]
    assert other == [0.99, 0.99]  # only FAQ answers get the second look


_EXPLICIT_SCRIPT = """
import json, sys
from rasa.shared.nlu.training_data.message import Message
from nlu.components import ExplicitRequest
component = ExplicitRequest()
out = []
for text, intent in json.loads(sys.stdin.read()):
    message = Message({"text": text, "intent": {"name": intent, "confidence": 0.97},
                       "intent_ranking": [{"name": intent, "confidence": 0.97},
                                          {"name": "open_ticket", "confidence": 0.02}]})
    component.process([message])
    out.append([message.get("intent"), [r["name"] for r in message.get("intent_ranking")]])
print(json.dumps(out))
"""


def test_an_explicit_request_overrides_what_the_classifier_read_and_leads_the_ranking():
    ticket, person, question = run_in_rasa(_EXPLICIT_SCRIPT, [
        ["I need to open a ticket. Do you ship to Austria?", "faq"],
        ["let me talk to a person please", "nlu_fallback"],
        ["do you ship to Austria?", "faq"],
    ])

    assert ticket == [{"name": "open_ticket", "confidence": 1.0}, ["open_ticket", "faq"]]
    assert person == [{"name": "request_human", "confidence": 1.0}, ["request_human", "nlu_fallback", "open_ticket"]]
    assert question == [{"name": "faq", "confidence": 0.97}, ["faq", "open_ticket"]]  # no request: unchanged

"""The held-out NLU file stays held out: big enough, and never part of the training data."""

import re
from collections import Counter

import pytest

from bot.settings import PROJECT_ROOT
from harness.rasa import HOLDOUT, nlu_examples

ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Lower-case words only, so "Hi :)" and "hi", or "what's" and "whats", count as the same example."""
    text = ANNOTATION.sub(lambda match: match.group(1), text.lower()).replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text).split())


@pytest.fixture(scope="module")
def holdout() -> list[tuple[str, str]]:
    return nlu_examples(HOLDOUT)


def test_holdout_has_the_size_the_quality_bar_needs(holdout):
    counts = Counter("faq" if intent.startswith("faq/") else intent for intent, _ in holdout)
    assert len(holdout) >= 250
    assert counts["out_of_scope"] >= 40
    assert counts["faq"] >= 50


def test_no_holdout_example_is_in_the_training_data(holdout):
    training = {normalise(text): (intent, text)
                for path in sorted((PROJECT_ROOT / "data").rglob("*.yml")) for intent, text in nlu_examples(path)}
    assert training, "no training examples found under data/"
    leaked = [(text, training[key]) for _, text in holdout if (key := normalise(text)) in training]
    assert not leaked, f"held-out examples also in data/: {leaked[:10]}"


def test_normalise_ignores_case_punctuation_and_annotations():
    assert normalise("Hi :)") == normalise("hi")
    assert normalise("What's that?") == normalise("whats that")
    assert normalise("ticket [TCK-ABC234](ticket_ref) please!") == "ticket tck abc234 please"


def test_the_first_messages_set_is_held_out_realistic_and_labelled_with_known_intents():
    """Issue 14's set: at least 200 first messages, most with a detail of the case, none labelled as a
    form answer (no form asks anything in a first message), in neither the training data nor the other set."""
    import yaml

    from harness.rasa import FIRST_MESSAGES

    first = nlu_examples(FIRST_MESSAGES)
    assert len(first) >= 200
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    topics = set(yaml.safe_load((PROJECT_ROOT / "data" / "faq_responses.yml").read_text(encoding="utf-8"))
                 ["responses"])
    known = set(domain["intents"]) | {topic.removeprefix("utter_") for topic in topics}
    assert {intent for intent, _ in first} <= known - {"inform"}
    detail = re.compile(r"\d|@|tck", re.IGNORECASE)
    assert sum(bool(detail.search(text)) for _, text in first) >= 0.6 * len(first)
    elsewhere = {normalise(text) for path in [*sorted((PROJECT_ROOT / "data").rglob("*.yml")), HOLDOUT]
                 for _, text in nlu_examples(path)}
    leaked = [text for _, text in first if normalise(text) in elsewhere]
    assert not leaked, f"first messages also in data/ or the other held-out set: {leaked[:10]}"
    assert len({normalise(text) for _, text in first}) == len(first), "a first message is listed twice"

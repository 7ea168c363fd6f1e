"""The learned ticket classifier: training, saving once per version of the examples, and how its
reading and the keyword rules decide together."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_CATEGORIES
from bot.tickets import textcat
from bot.tickets.classification import classify, guess_category
from bot.tickets.textcat import Reading, macro_f1

CATEGORIES = list(DEFAULT_CATEGORIES)
KEYS = [category.key for category in CATEGORIES]

TINY = """requests:
  - {text: "you took the money twice from my card", classification: urgent, category: billing_payments}
  - {text: "my card was debited two times", classification: urgent, category: billing_payments}
  - {text: "please send me a copy of my invoice", classification: routine, category: billing_payments}
  - {text: "where can I download my invoice", classification: routine, category: billing_payments}
  - {text: "the parcel is late", classification: routine, category: orders_shipping}
  - {text: "third time I write about the late parcel", classification: complex, category: orders_shipping}
"""


def test_macro_f1_averages_each_labels_f1():
    assert macro_f1(["a", "a", "b"], ["a", "a", "b"]) == 1.0
    # a: tp 1, fp 0, fn 1 -> 2/3; b: tp 1, fp 1, fn 0 -> 2/3
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)


def test_examples_with_an_unknown_classification_are_refused(tmp_path):
    path = tmp_path / "requests.yml"
    path.write_text('requests:\n  - {text: "x", classification: critical, category: other}\n')
    with pytest.raises(ValueError, match="critical"):
        textcat.load_examples(path)


def test_a_model_is_built_once_per_version_of_the_examples(tmp_path):
    examples, models = tmp_path / "requests.yml", tmp_path / "models"
    examples.write_text(TINY)

    first = textcat.build(examples, models)
    again = textcat.build(examples, models)
    examples.write_text(TINY + '  - {text: "app crashes", classification: routine, category: product_technical}\n')
    changed = textcat.build(examples, models)

    assert first == again and first.is_dir()
    assert changed != first and changed.is_dir()
    assert not [p for p in models.iterdir() if p.name.startswith(".")], "no half-written model is left behind"


def test_the_reading_picks_a_classification_and_one_of_the_configured_categories(tmp_path):
    examples = tmp_path / "requests.yml"
    examples.write_text(TINY)
    nlp = textcat.classifier(examples, tmp_path / "models")

    reading = textcat.read(nlp, "send me a copy of the invoice please", ["billing_payments", "orders_shipping"])

    assert reading.classification in textcat.CLASSIFICATIONS
    assert reading.category in ("billing_payments", "orders_shipping")
    assert 0.0 <= reading.classification_score <= 1.0


def sure(classification: str, category: str = "billing_payments", score: float = 0.9) -> Reading:
    return Reading(classification, score, category, score)


def test_a_sure_reading_decides_and_says_so():
    verdict = classify("my card was debited two times", category="billing_payments", categories=CATEGORIES,
                       learned=sure("urgent"))
    assert verdict.classification == "urgent" and verdict.reason.startswith("reads as urgent (90%)")


def test_a_sure_reading_overrules_a_keyword_that_was_used_harmlessly():
    # The rules read "fire" as a safety risk; the classifier knows a fire-red jumper is routine.
    verdict = classify("is the fire red jumper back in stock", category="other", categories=CATEGORIES,
                       learned=sure("routine", "other"))
    assert verdict.classification == "routine"


def test_an_unsure_reading_leaves_the_decision_to_the_rules():
    verdict = classify("You charged twice for one order", category="billing_payments", categories=CATEGORIES,
                       learned=sure("routine", score=0.4))
    assert verdict.classification == "urgent" and verdict.reason.startswith("charged twice")


def test_earlier_tickets_make_a_non_urgent_request_complex_whatever_the_reading():
    verdict = classify("where is my parcel", category="orders_shipping", categories=CATEGORIES,
                       earlier_tickets=2, learned=sure("routine", "orders_shipping"))
    assert verdict.classification == "complex" and verdict.reason == "repeat contact (2 earlier ticket(s))"


def test_the_learned_category_is_used_only_when_sure_and_configured():
    assert guess_category("money twice", CATEGORIES, sure("urgent", "billing_payments")) == "billing_payments"
    assert guess_category("parcel late", CATEGORIES, sure("routine", "billing_payments", 0.3)) == "orders_shipping"
    assert guess_category("parcel late", CATEGORIES, sure("routine", "gift_wrapping")) == "orders_shipping"
    assert guess_category("hello there", CATEGORIES, sure("routine", "other")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was charged twice for order 48213", "urgent"),
        ("Not urgent at all, could you send me a copy of the invoice for order 48213?", "routine"),
    ],
)
def test_the_shipped_classifier_reads_clear_requests_right(text, expected):
    reading = textcat.read_request(text, KEYS)
    assert reading is not None and reading.classification == expected



def test_a_classifier_that_cannot_be_had_leaves_the_decision_to_the_rules(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise PermissionError("models/ is read-only")

    monkeypatch.setattr(textcat, "classifier", broken)
    assert textcat.read_request("you took the money twice from my card", ["billing_payments"]) is None
    assert "keyword rules decide alone" in caplog.text

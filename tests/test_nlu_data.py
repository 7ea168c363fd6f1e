"""The NLU data keeps the held-out sets honest: what is trained stays clear of what is measured."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from harness.overlap import MIN_DISTANCE, closest_pairs, jaccard_distance, too_close, training_texts, words
from harness.rasa import nlu_examples

TESTS = PROJECT_ROOT / "tests"
HELD_OUT = sorted(TESTS.glob("nlu_*.yml"))
# Training files written after the held-out sets existed (issues 14 and 15): none of their lines
# may come within MIN_DISTANCE of a held-out line, whichever set it is in.
LATER_TRAINING = [PROJECT_ROOT / "data" / "nlu" / name
                  for name in ("details_core.yml", "details_faq.yml", "more_details.yml", "out_of_scope_wide.yml",
                               "paraphrases.yml", "voices_core.yml", "voices_faq.yml", "voices_more.yml")]


def test_jaccard_distance_counts_shared_words():
    assert jaccard_distance(words("where is my order"), words("Where is my order?")) == 0.0
    assert jaccard_distance(words("where is my order"), words("where is my parcel")) == pytest.approx(0.4)
    assert jaccard_distance(words("hello"), words("goodbye")) == 1.0


def test_closest_pair_is_found_through_shared_words():
    [pair] = closest_pairs(["is my parcel lost"], ["where is my parcel", "hello there", "my parcel is lost"])
    assert pair.training == "my parcel is lost" and pair.distance == 0.0


@pytest.mark.parametrize("path", LATER_TRAINING, ids=lambda p: p.name)
def test_later_training_lines_stay_clear_of_every_held_out_set(path: Path):
    assert path.exists(), f"{path} is listed but missing"
    held_out = [text for held in HELD_OUT for _, text in nlu_examples(held)]
    trained = [text for _, text in nlu_examples(path)]
    close = [pair for pair in closest_pairs(trained, held_out) if pair.distance <= MIN_DISTANCE]
    assert not close, "\n".join(f"{p.distance:.2f}: {p.heldout!r} ~ held-out {p.training!r}" for p in close[:20])


def test_the_hard_held_out_set_is_clear_of_the_training_data():
    close = too_close(TESTS / "nlu_holdout_hard.yml")
    assert not close, "\n".join(f"{p.distance:.2f}: {p.heldout!r} ~ {p.training!r}" for p in close[:20])


def test_training_data_has_no_duplicate_lines():
    counts = Counter(text.lower() for text in training_texts())
    duplicates = sorted(text for text, count in counts.items() if count > 1)
    assert not duplicates, duplicates[:20]


def test_the_hard_held_out_set_has_the_size_and_the_out_of_scope_share_the_issue_asks():
    from harness.rasa import HARD, near_domain_texts

    examples = nlu_examples(HARD)
    out_of_scope = [text for intent, text in examples if intent == "out_of_scope"]
    near = near_domain_texts(HARD)
    assert len(examples) >= 600
    assert len(out_of_scope) >= 150
    assert len(near) >= 60 and near <= set(out_of_scope)
    assert len({text.lower() for _, text in examples}) == len(examples), "a line is listed twice"

"""How close held-out NLU examples are to the training examples (word-set Jaccard distance).

A held-out example that nearly repeats a training line measures memory, not understanding:
`python -m harness rasa overlap` lists the pairs closer than the limit, and the tests keep
every held-out set clear of them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT

TRAINING = PROJECT_ROOT / "data" / "nlu"
# Held-out examples must be farther than this from every training example (1 = nothing shared).
MIN_DISTANCE = 0.6
_WORD = re.compile(r"[a-z0-9äöüß]+")


def words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def jaccard_distance(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return 1.0 - len(a & b) / len(union) if union else 0.0


@dataclass(frozen=True)
class Closest:
    heldout: str
    training: str
    distance: float


def closest_pairs(heldout: list[str], training: list[str]) -> list[Closest]:
    """For each held-out text, its closest training text (an inverted index over words keeps
    this to the training lines that share a word with it)."""
    training_words = [words(text) for text in training]
    index: dict[str, list[int]] = defaultdict(list)
    for position, found in enumerate(training_words):
        for word in found:
            index[word].append(position)
    pairs = []
    for text in heldout:
        mine = words(text)
        candidates = {position for word in mine for position in index.get(word, ())}
        best = min(
            ((jaccard_distance(mine, training_words[p]), p) for p in candidates),
            default=(1.0, -1),
        )
        pairs.append(Closest(text, training[best[1]] if best[1] >= 0 else "", best[0]))
    return pairs


def training_texts(folder: Path = TRAINING) -> list[str]:
    from harness.rasa import nlu_examples

    return [text for path in sorted(folder.glob("*.yml")) for _, text in nlu_examples(path)]


def too_close(heldout_file: Path, limit: float = MIN_DISTANCE) -> list[Closest]:
    """The held-out examples in `heldout_file` within `limit` of a training example."""
    from harness.rasa import nlu_examples

    heldout = [text for _, text in nlu_examples(heldout_file)]
    return [pair for pair in closest_pairs(heldout, training_texts()) if pair.distance <= limit]

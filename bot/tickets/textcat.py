"""Routine / urgent / complex, and the category, learned from examples (data/classification.yml).

A spaCy `textcat_multilabel` on a blank English pipeline (hashed word embeddings and a bag of
words: nothing downloaded). Trained once per version of the examples, in seconds, and kept under
models/ beside the Rasa model (`make model` builds it; a process that finds none trains it).
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
import yaml
from spacy.language import Language
from spacy.training import Example
from spacy.util import minibatch

from bot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

EXAMPLES_FILE = PROJECT_ROOT / "data" / "classification.yml"
MODELS = PROJECT_ROOT / "models"
CLASSIFICATIONS = ("routine", "urgent", "complex")
EPOCHS = 25
SEED = 1
# spaCy's default textcat_multilabel model (hashed word embeddings and a bag of words), with word pairs
# in the bag ("not urgent", "charged twice"): chosen over the default, a wider encoder and more epochs
# by 4-fold cross-validation on data/classification.yml (macro-F1 0.816 against 0.798 and 0.790).
MODEL = {
    "@architectures": "spacy.TextCatEnsemble.v2",
    "nO": None,
    "linear_model": {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
                     "no_output_layer": False, "length": 262144},
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 64, "rows": [2000, 2000, 500, 1000, 500],
                  "attrs": ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"], "include_static_vectors": False},
        "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 64, "window_size": 1,
                   "maxout_pieces": 3, "depth": 2},
    },
}


@dataclass(frozen=True)
class LabelledRequest:
    text: str
    classification: str
    category: str


@dataclass(frozen=True)
class Reading:
    """What the classifier reads in a request: its best classification and category, with scores."""

    classification: str
    classification_score: float
    category: str
    category_score: float


def load_examples(path: Path = EXAMPLES_FILE) -> list[LabelledRequest]:
    rows = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("requests") or []
    examples = [LabelledRequest(str(r["text"]), str(r["classification"]), str(r["category"])) for r in rows]
    wrong = [e for e in examples if e.classification not in CLASSIFICATIONS]
    if wrong:
        raise ValueError(f"{path}: unknown classification {wrong[0].classification!r} for {wrong[0].text!r}")
    return examples


def _labels(examples: list[LabelledRequest]) -> tuple[list[str], list[str]]:
    categories = sorted({e.category for e in examples})
    return list(CLASSIFICATIONS), categories


def train(examples: list[LabelledRequest], *, epochs: int = EPOCHS, seed: int = SEED) -> Language:
    """A pipeline whose `doc.cats` scores every classification and every category seen in `examples`."""
    classifications, categories = _labels(examples)
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat_multilabel", config={"model": MODEL})
    for label in (*classifications, *categories):
        textcat.add_label(label)
    data = [
        Example.from_dict(
            nlp.make_doc(e.text),
            {"cats": {**{c: float(c == e.classification) for c in classifications},
                      **{c: float(c == e.category) for c in categories}}},
        )
        for e in examples
    ]
    optimizer = nlp.initialize(lambda: data)
    rng = random.Random(seed)
    for _epoch in range(epochs):
        rng.shuffle(data)
        for batch in minibatch(data, size=16):
            nlp.update(batch, drop=0.2, sgd=optimizer)
    return nlp


def read(nlp: Language, text: str, categories: list[str]) -> Reading:
    """The best classification, and the best of `categories` (the configured ones) by the model's scores."""
    cats = nlp(text or "").cats
    classification = max(CLASSIFICATIONS, key=lambda label: cats.get(label, 0.0))
    known = [c for c in categories if c in cats]
    category = max(known, key=lambda label: cats[label]) if known else ""
    return Reading(classification, cats.get(classification, 0.0), category, cats.get(category, 0.0))


def examples_hash(path: Path = EXAMPLES_FILE) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(f"{spacy.__version__}|{EPOCHS}|{SEED}|{Path(__file__).read_bytes().hex()}".encode())
    return digest.hexdigest()[:16]


def model_dir(path: Path = EXAMPLES_FILE, models: Path = MODELS) -> Path:
    return models / f"requests-{examples_hash(path)}"


def build(path: Path = EXAMPLES_FILE, models: Path = MODELS) -> Path:
    """Train and save the classifier for the current examples, unless it is there already."""
    target = model_dir(path, models)
    if target.is_dir():
        return target
    nlp = train(load_examples(path))
    models.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed: a reader never sees half a model, and two
    # processes training at once both end with the same complete one.
    scratch = Path(tempfile.mkdtemp(prefix=".requests-", dir=models))
    try:
        nlp.to_disk(scratch)
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


@lru_cache(maxsize=2)
def _loaded(directory: Path) -> Language:
    return spacy.load(directory)


def classifier(path: Path = EXAMPLES_FILE, models: Path = MODELS) -> Language:
    """The trained classifier for the current examples (trained now if none is saved yet)."""
    return _loaded(build(path, models))


def macro_f1(expected: list[str], predicted: list[str]) -> float:
    """The mean over labels (those in `expected`) of each label's F1."""
    scores = []
    for label in sorted(set(expected)):
        tp = sum(e == p == label for e, p in zip(expected, predicted, strict=True))
        fp = sum(p == label != e for e, p in zip(expected, predicted, strict=True))
        fn = sum(e == label != p for e, p in zip(expected, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def read_request(text: str, categories: list[str]) -> Reading | None:
    """The classifier's reading of a request, or None when there are no examples to learn from
    (a company that removed data/classification.yml keeps the keyword rules alone)."""
    if not EXAMPLES_FILE.is_file():
        return None
    try:
        nlp = classifier()
    except Exception:  # a models/ folder that cannot be written, examples that cannot be read
        logger.exception("the ticket classifier could not be loaded or trained; the keyword rules decide alone")
        return None
    return read(nlp, text, categories)

"""The classifier's own fit (nlu/softmax.py) against scikit-learn's LogisticRegression, in Rasa's
environment where both live: the same objective must give the same model."""

from __future__ import annotations

from tests.nlu.test_components import run_in_rasa

_SCRIPT = """
import json, sys
import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from nlu.softmax import fit

rng = np.random.default_rng(7)
n, classes = 600, ["a", "b", "c", "d"]
centres = rng.normal(size=(len(classes), 8))
y = rng.integers(0, len(classes), n)
dense = centres[y] + rng.normal(scale=1.5, size=(n, 8))
sparse = sp.random(n, 40, density=0.1, random_state=3, format="csr")
sparse = sp.csr_matrix(sparse + sp.csr_matrix((np.ones(n), (np.arange(n), y * 10)), shape=(n, 40)) * 0.5)
labels = [classes[i] for i in y]
ours = fit(dense, sparse, labels, C=5.0)
theirs = LogisticRegression(C=5.0, max_iter=3000).fit(sp.hstack([sp.csr_matrix(dense), sparse]).tocsr(), labels)
test_dense, test_sparse = dense[:100] + 0.3, sparse[:100]
mine = ours.predict_proba(test_dense, test_sparse)
sk = theirs.predict_proba(sp.hstack([sp.csr_matrix(test_dense), test_sparse]).tocsr())
no_dense = fit(np.zeros((n, 0)), sparse, labels, C=5.0)
print(json.dumps({
    "classes": list(ours.classes_), "sk_classes": list(theirs.classes_),
    "max_difference": float(np.abs(mine - sk).max()),
    "same_choice": float((mine.argmax(1) == sk.argmax(1)).mean()),
    "training_accuracy": float((ours.classes_[ours.predict_proba(dense, sparse).argmax(1)] == np.array(labels)).mean()),
    "sums": float(np.abs(mine.sum(1) - 1).max()),
    "sparse_only_shape": list(no_dense.predict_proba(np.zeros((3, 0)), sparse[:3]).shape),
}))
try:
    fit(dense, sparse, ["a"] * n, C=1.0)
    print(json.dumps({"one_label": "accepted"}))
except ValueError as error:
    print(json.dumps({"one_label": str(error)}))
"""


def test_the_fit_gives_scikit_learns_model_for_the_same_objective():
    out = run_in_rasa(_SCRIPT.rsplit("try:", 1)[0], None)
    assert out["classes"] == out["sk_classes"] == ["a", "b", "c", "d"]
    # The same optimum up to the optimiser's tolerance: probabilities within a hundredth, same choices.
    assert out["max_difference"] < 0.01
    assert out["same_choice"] == 1.0
    assert out["training_accuracy"] > 0.7
    assert out["sums"] < 1e-9
    # Without an embedding (no dense columns) the words alone are fitted and read.
    assert out["sparse_only_shape"] == [3, 4]


def test_a_single_label_is_refused_with_a_clear_error():
    out = run_in_rasa(_SCRIPT, None)
    assert out["one_label"] == "the classifier needs examples of at least two labels"

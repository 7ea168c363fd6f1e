"""A second opinion beside the regression: the training lines nearest in meaning to a line vote for
their labels (issue 15's "similarity check against each topic's examples").

The regression weighs every word and the embedding over all the training lines at once; a
question worded like a handful of training lines for one FAQ topic, but sharing words with another
topic, can still be pulled to the other. The k nearest training lines by cosine similarity of their
sentence embeddings each vote for their label with weight exp((similarity - best) / temperature),
so the closest lines count most. MeaningClassifier mixes these votes into the regression's
probabilities (nlu/meaning.py). No Rasa imports: numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


@dataclass
class Neighbours:
    """The training lines' embeddings (unit length) and each one's label, as an index into `classes`."""

    vectors: np.ndarray
    labels: np.ndarray
    n_classes: int

    @classmethod
    def of(cls, vectors: np.ndarray, labels: list[str], classes: list[str]) -> Neighbours:
        index = {label: position for position, label in enumerate(classes)}
        return cls(unit(np.asarray(vectors, dtype=np.float32)), np.array([index[label] for label in labels]),
                   len(classes))

    def vote(self, vectors: np.ndarray, k: int, temperature: float) -> np.ndarray:
        """For each row of `vectors`, a probability for every class from its k nearest training lines."""
        similarity = unit(np.asarray(vectors, dtype=np.float32)) @ self.vectors.T
        k = min(k, similarity.shape[1])
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        closest = np.take_along_axis(similarity, nearest, axis=1)
        weights = np.exp((closest - closest.max(axis=1, keepdims=True)) / temperature)
        votes = np.zeros((len(vectors), self.n_classes))
        rows = np.repeat(np.arange(len(vectors)), k)
        np.add.at(votes, (rows, self.labels[nearest].ravel()), weights.ravel())
        return votes / votes.sum(axis=1, keepdims=True)

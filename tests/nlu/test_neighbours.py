"""The nearest training lines' vote (nlu/neighbours.py): numpy only, no Rasa."""

from __future__ import annotations

import numpy as np
import pytest

from nlu.neighbours import Neighbours

CLASSES = ["faq/track_order", "faq/order_missing", "out_of_scope"]


def _training() -> Neighbours:
    # Two lines near the x axis for tracking, one near y for a missing parcel, one far off for out of scope.
    vectors = np.array([[1.0, 0.05, 0.0], [0.9, -0.05, 0.0], [0.1, 1.0, 0.0], [0.0, 0.0, 3.0]])
    return Neighbours.of(vectors, ["faq/track_order", "faq/track_order", "faq/order_missing", "out_of_scope"],
                         CLASSES)


def test_the_votes_are_a_probability_for_every_class_and_the_nearest_lines_win():
    votes = _training().vote(np.array([[2.0, 0.1, 0.0], [0.05, 0.5, 0.0]]), k=3, temperature=0.02)
    assert votes.shape == (2, 3)
    assert np.allclose(votes.sum(axis=1), 1.0)
    assert votes[0].argmax() == 0 and votes[1].argmax() == 1


def test_length_does_not_count_only_direction():
    neighbours = _training()
    assert np.allclose(neighbours.vote(np.array([[0.0, 0.0, 0.01]]), k=1, temperature=0.02),
                       neighbours.vote(np.array([[0.0, 0.0, 100.0]]), k=1, temperature=0.02))


@pytest.mark.parametrize(("temperature", "sharper"), [(0.01, True), (10.0, False)])
def test_a_low_temperature_lets_the_closest_line_decide(temperature, sharper):
    # Halfway between the tracking lines and the missing-parcel line, slightly nearer the latter.
    votes = _training().vote(np.array([[0.5, 0.6, 0.0]]), k=3, temperature=temperature)[0]
    assert bool(votes[1] > 0.9) is sharper
    if not sharper:  # nearly even: two tracking lines against one
        assert votes[0] > votes[1] > 0.25


def test_k_larger_than_the_training_lines_takes_them_all():
    votes = _training().vote(np.array([[1.0, 0.0, 0.0]]), k=50, temperature=1.0)
    assert (votes > 0).all()

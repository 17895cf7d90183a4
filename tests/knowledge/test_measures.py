"""Rarity, confusion sets and the next best question on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from segone.knowledge.distinguishability import measures

# Traits: 0 A (values), 1 B (free_time), 2 C (family), 3 D (team), 4 E (values)
CATEGORY = ["values", "free_time", "family", "team", "values"]
HELD = {
    0: [0, 1],  # A B
    1: [0, 1, 2],  # A B C: C is its own, so it is a segment of one
    2: [0],  # A
    3: [],  # nothing known: confused with everyone
    4: [3],  # D, which nobody else has
    5: [4],  # E ...
    6: [4],  # ... and an identical customer
}


def _index() -> measures.Index:
    return measures.index(_holdings(), len(HELD))


def _holdings() -> measures.Holdings:
    pairs = [(c, t) for c, traits in HELD.items() for t in traits]
    return measures.Holdings(
        customers=np.array([c for c, _ in pairs]), traits=np.array([t for _, t in pairs]), n_traits=5
    )


def test_rarity_is_counted_among_the_customers_known_in_the_category() -> None:
    # values: A and E, held by customers 0, 1, 2 and 5, 6: five customers we know a value of; free
    # time: B, customers 0 and 1; family and team: one customer each. Customer 3 (nothing known) and
    # the customers known in other categories do not count.
    population = measures.populations(_holdings(), CATEGORY)
    assert population.tolist() == [5, 2, 1, 1, 5]
    assert measures.rarity(_index(), population).tolist() == pytest.approx([3 / 5, 1.0, 1.0, 1.0, 2 / 5])


def test_confusion_sets_by_hand() -> None:
    confusion = measures.confusion_sets(_index())
    assert confusion.sizes.tolist() == [2, 1, 3, 7, 1, 2, 2]
    assert confusion.look_alikes[0] == [1]  # A B: customer 1 holds both too
    assert confusion.look_alikes[1] == [] and confusion.look_alikes[4] == []  # segments of one
    assert confusion.look_alikes[2] == [0, 1]
    assert confusion.look_alikes[3] == [0, 1, 2, 4, 5]  # the first five of everyone else
    assert confusion.look_alikes[5] == [6] and confusion.look_alikes[6] == [5]  # identical customers


def test_the_next_question_is_the_one_leaving_fewest_look_alikes() -> None:
    idx = _index()
    confusion = measures.confusion_sets(idx)
    members = confusion.members[(0,)]  # customer 2 (A) is confused with 0 and 1
    # free_time: both look-alikes answered B -> 2^2/2 = 2 remain; family: only 1 holds C -> 1/2.
    best = measures.next_question(idx, members, 2, ["free_time", "family"], CATEGORY)
    assert best == ("family", pytest.approx(0.5))
    # A category no look-alike has an answer in: any answer singles the customer out.
    assert measures.next_question(idx, members, 2, ["free_time", "team"], CATEGORY) == ("team", 0.0)
    # Ties go to the category listed first.
    assert measures.next_question(idx, members, 2, ["team", "values"], CATEGORY) == ("team", 0.0)


def test_a_segment_of_one_has_no_question() -> None:
    idx = _index()
    confusion = measures.confusion_sets(idx)
    assert measures.next_question(idx, confusion.members[(0, 1, 2)], 1, ["team"], CATEGORY) is None


def test_large_confusion_sets_are_exact() -> None:
    rng = np.random.default_rng(3)
    n, k = 3000, 40
    held = rng.random((n, k)) < 0.08
    customers, traits = np.nonzero(held)
    idx = measures.index(measures.Holdings(customers, traits, k), n)
    sizes = measures.confusion_sets(idx).sizes
    for customer in rng.choice(n, 50, replace=False):
        mine = held[customer]
        expected = int(np.all(held[:, mine], axis=1).sum())
        assert sizes[customer] == expected

"""Can we really tell our customers apart? Rarity, confusion sets and the next best question.

Pure NumPy over integer ids: ``holdings`` pairs each customer with each of its traits (a trait is a
differentiator after grouping paraphrases, a discretised attribute or a behaviour band; see ``traits``).

- **Rarity** of a trait: the share of its *population* who hold it, the population being the customers
  we know something about in the trait's topic (a fact category, a detail, a behaviour measure): a fact
  about hobbies is rare or common among the customers whose hobbies we know, not among all customers.
- **Confusion set** of a customer: every customer holding all of its traits (itself included). Its size is
  the customer's **distinguishability**; 1 is a segment of one. Exact: an inverted index from trait to its
  sorted holders, intersected rarest trait first, stopping as soon as only the customer is left.
  Customers with the same set of traits share one confusion set, computed once (every customer we know
  nothing about is confused with everyone).
- **Next best question** for a customer whose confusion set holds others: among the categories we know
  nothing about for it, the one whose answer is expected to leave the fewest look-alikes. If ``n_a`` of the
  ``M`` look-alikes hold answer ``a`` in that category, and our customer answers like a look-alike picked
  at random (or with something none of them holds), the look-alikes left are expected to number
  ``sum_a n_a^2 / M``. A category none of them has an answer in leaves none: any answer singles the
  customer out. Ties go to the category listed first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
LOOK_ALIKES_KEPT = 5
QUESTION_SAMPLE = 20_000  # look-alikes considered for the next question (all of them up to this many)


@dataclass(frozen=True)
class Holdings:
    """Which customer holds which trait: ``customers[i]`` holds ``traits[i]`` (pairs unique)."""

    customers: IntArray
    traits: IntArray
    n_traits: int


@dataclass(frozen=True)
class Index:
    """Both directions of ``Holdings`` as CSR arrays over customer positions ``0..n_customers-1``."""

    n_customers: int
    holders_start: IntArray  # trait t's holders: holders[holders_start[t]:holders_start[t + 1]], sorted
    holders: IntArray
    held_start: IntArray  # customer c's traits: held[held_start[c]:held_start[c + 1]], sorted
    held: IntArray

    def holders_of(self, trait: int) -> IntArray:
        return self.holders[self.holders_start[trait] : self.holders_start[trait + 1]]

    def traits_of(self, customer: int) -> IntArray:
        return self.held[self.held_start[customer] : self.held_start[customer + 1]]

    @property
    def holder_counts(self) -> IntArray:
        return np.diff(self.holders_start)


@dataclass(frozen=True)
class Confusion:
    """Per customer position: the confusion set's size and up to ``LOOK_ALIKES_KEPT`` other members."""

    sizes: IntArray
    look_alikes: list[list[int]]
    members: dict[tuple[int, ...], IntArray]  # by trait set: the whole set, for the next question


def index(holdings: Holdings, n_customers: int) -> Index:
    customers = np.asarray(holdings.customers, dtype=np.int64)
    traits = np.asarray(holdings.traits, dtype=np.int64)
    by_trait = np.lexsort((customers, traits))
    holders_start = np.zeros(holdings.n_traits + 1, dtype=np.int64)
    np.cumsum(np.bincount(traits, minlength=holdings.n_traits), out=holders_start[1:])
    by_customer = np.lexsort((traits, customers))
    held_start = np.zeros(n_customers + 1, dtype=np.int64)
    np.cumsum(np.bincount(customers, minlength=n_customers), out=held_start[1:])
    return Index(
        n_customers=n_customers,
        holders_start=holders_start,
        holders=customers[by_trait],
        held_start=held_start,
        held=traits[by_customer],
    )


def populations(holdings: Holdings, topics: Sequence[str]) -> IntArray:
    """Per trait: the customers holding at least one trait of the same topic (``topics[t]``)."""
    if not topics:
        return np.zeros(0, dtype=np.int64)
    names, topic_of = np.unique(np.asarray(topics, dtype=str), return_inverse=True)
    pairs = np.unique(
        np.stack([np.asarray(holdings.customers, dtype=np.int64), topic_of[holdings.traits]]), axis=1
    )
    per_topic = np.bincount(pairs[1], minlength=len(names)) if pairs.size else np.zeros(len(names))
    return np.asarray(per_topic[topic_of], dtype=np.int64)


def rarity(idx: Index, population: IntArray) -> FloatArray:
    """The share of each trait's population holding it."""
    return idx.holder_counts / np.maximum(population, 1)


def confusion_sets(idx: Index) -> Confusion:
    counts = idx.holder_counts
    sizes = np.empty(idx.n_customers, dtype=np.int64)
    look_alikes: list[list[int]] = [[] for _ in range(idx.n_customers)]
    members: dict[tuple[int, ...], IntArray] = {}
    everyone = np.arange(idx.n_customers, dtype=np.int64)
    for customer in range(idx.n_customers):
        key = tuple(idx.traits_of(customer).tolist())
        found = members.get(key)
        if found is None:
            found = everyone if not key else _intersect(idx, sorted(key, key=lambda t: (counts[t], t)))
            members[key] = found
        sizes[customer] = found.shape[0]
        if found.shape[0] > 1:
            others = found[found != customer][:LOOK_ALIKES_KEPT]
            look_alikes[customer] = others.tolist()
    return Confusion(sizes=sizes, look_alikes=look_alikes, members=members)


def _intersect(idx: Index, traits: Sequence[int]) -> IntArray:
    """The holders of all ``traits`` (rarest first): each step keeps the candidates found, by binary search,
    in the next trait's sorted holders, so a common trait costs log(its holders) per candidate."""
    current = idx.holders_of(traits[0])
    for trait in traits[1:]:
        if current.shape[0] <= 1:
            break  # only the customer itself is left
        others = idx.holders_of(trait)
        found = np.minimum(np.searchsorted(others, current), others.shape[0] - 1)
        current = current[others[found] == current]
    return current


def next_question(
    idx: Index,
    members: IntArray,
    customer: int,
    unknown_categories: Sequence[str],
    trait_category: Sequence[str | None],
) -> tuple[str, float] | None:
    """The unknown category leaving the fewest expected look-alikes, with that number; None if alone."""
    others = members[members != customer]
    if others.shape[0] == 0 or not unknown_categories:
        return None
    if others.shape[0] > QUESTION_SAMPLE:
        others = np.random.default_rng(customer).choice(others, QUESTION_SAMPLE, replace=False)
    starts, ends = idx.held_start[others], idx.held_start[others + 1]
    lengths = ends - starts
    positions = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
    their_traits = idx.held[positions]
    categories = np.asarray(trait_category, dtype=object)[their_traits]
    scale = (members.shape[0] - 1) / others.shape[0]  # a sample's counts, scaled to all look-alikes
    best: tuple[str, float] | None = None
    for category in unknown_categories:
        answers = their_traits[categories == category]
        counts = np.unique(answers, return_counts=True)[1].astype(np.float64)
        expected = float((counts**2).sum() / others.shape[0]) * scale
        if best is None or expected < best[1] - 1e-12:
            best = (category, expected)
    return best

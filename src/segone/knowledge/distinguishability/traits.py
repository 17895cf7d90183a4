"""Everything we know about the customers, as traits: the vocabulary of the distinguishability measures.

Three sources, each trait with a stable ``key``:

- **facts**: current differentiators, statements that say the same thing in other words grouped into one
  trait (``grouping.group_statements``, within a category): ``fact:<category>:<group>``;
- **attributes**: a customer's details (``city: Leeds``), text values as they are, numbers in five bands of
  equal counts (``since`` 1997-2003 ...); a detail whose values are mostly unique (an id, a phone number)
  says nothing about look-alikes and is left out: ``attribute:<key>=<value>``;
- **behaviour**: bands of the last behaviour refresh (how many purchase days, how recent, how much per
  purchase: low, middle, high thirds) and the preferred channel: ``behaviour:<name>=<band>``.

A trait's ``question`` is what could be asked to learn it: the fact's category, ``attribute:<key>``, or
None for behaviour (we observe it, we do not ask). Its ``topic`` is what it tells about: the fact's
category (``fact:<category>``), the detail (``attribute:<key>``) or the behaviour measure
(``behaviour:<name>``); rarity is counted among the customers we know something about in that topic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segone.knowledge.distinguishability import grouping
from segone.knowledge.distinguishability.measures import Holdings

IDENTIFIER_SHARE = 0.5  # a detail with more distinct values than this share of its holders is an id
NUMBER_BANDS = 5
BEHAVIOUR_BANDS = ("low", "middle", "high")


@dataclass(frozen=True)
class FactRow:
    differentiator_id: int
    customer: int  # position of the customer, 0..n-1
    category: str
    text: str


@dataclass
class Traits:
    keys: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # fact, attribute or behaviour
    questions: list[str | None] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    pairs: set[tuple[int, int]] = field(default_factory=set)  # (customer position, trait)
    fact_traits: dict[int, int] = field(default_factory=dict)  # differentiator id -> trait
    _by_key: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, kind: str, question: str | None, label: str, topic: str) -> int:
        found = self._by_key.get(key)
        if found is not None:
            return found
        self._by_key[key] = len(self.keys)
        self.keys.append(key)
        self.kinds.append(kind)
        self.questions.append(question)
        self.labels.append(label)
        self.topics.append(topic)
        return len(self.keys) - 1

    def holdings(self) -> Holdings:
        ordered = sorted(self.pairs)
        customers = np.array([c for c, _ in ordered], dtype=np.int64)
        traits = np.array([t for _, t in ordered], dtype=np.int64)
        return Holdings(customers=customers, traits=traits, n_traits=len(self.keys))


def build(
    facts: Sequence[FactRow],
    attributes: Sequence[dict[str, Any]],
    behaviour: dict[int, dict[str, Any]],
    *,
    threshold: float | None = None,
    method: str = "tfidf",
) -> Traits:
    """``attributes[c]`` are customer ``c``'s details; ``behaviour[c]`` its behaviour profile, if any."""
    traits = Traits()
    _facts(traits, facts, threshold=threshold, method=method)
    _attributes(traits, attributes)
    _behaviour(traits, behaviour)
    return traits


def _facts(traits: Traits, facts: Sequence[FactRow], *, threshold: float | None, method: str) -> None:
    if not facts:
        return
    labels = grouping.group_statements(
        [f.text for f in facts], [f.category for f in facts], threshold=threshold, method=method
    )
    wording: dict[int, Counter[str]] = {}
    for fact, label in zip(facts, labels.tolist(), strict=True):
        wording.setdefault(label, Counter())[fact.text.strip()] += 1
    # The trait reads as its most frequent wording (the shortest among equals).
    reads = {
        label: min(counts.items(), key=lambda item: (-item[1], len(item[0]), item[0]))[0]
        for label, counts in wording.items()
    }
    for fact, label in zip(facts, labels.tolist(), strict=True):
        trait = traits.add(
            f"fact:{fact.category}:{label}", "fact", fact.category, reads[label], f"fact:{fact.category}"
        )
        traits.pairs.add((fact.customer, trait))
        traits.fact_traits[fact.differentiator_id] = trait


def _attributes(traits: Traits, attributes: Sequence[dict[str, Any]]) -> None:
    values: dict[str, list[tuple[int, Any]]] = {}
    for customer, details in enumerate(attributes):
        for key, value in (details or {}).items():
            if value is None or value == "" or isinstance(value, dict | list):
                continue
            values.setdefault(str(key), []).append((customer, value))
    for key, held in values.items():
        numbers = [v for _, v in held if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numbers) == len(held) and len({*numbers}) > NUMBER_BANDS:
            _number_bands(traits, key, held)
            continue
        texts = [(customer, str(value).strip()) for customer, value in held]
        distinct = {text.casefold() for _, text in texts}
        if len(texts) > 20 and len(distinct) > IDENTIFIER_SHARE * len(texts):
            continue
        for customer, text in texts:
            trait = traits.add(
                f"attribute:{key}={text.casefold()}",
                "attribute",
                f"attribute:{key}",
                f"{key}: {text}",
                f"attribute:{key}",
            )
            traits.pairs.add((customer, trait))


def _number_bands(traits: Traits, key: str, held: list[tuple[int, Any]]) -> None:
    values = np.array([float(v) for _, v in held])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, NUMBER_BANDS + 1)))
    bands = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, max(len(edges) - 2, 0))
    for (customer, _), band in zip(held, bands.tolist(), strict=True):
        low, high = edges[band], edges[min(band + 1, len(edges) - 1)]
        label = f"{key}: {_number(low)} to {_number(high)}"
        trait = traits.add(
            f"attribute:{key}#{band}", "attribute", f"attribute:{key}", label, f"attribute:{key}"
        )
        traits.pairs.add((customer, trait))


def _behaviour(traits: Traits, behaviour: dict[int, dict[str, Any]]) -> None:
    buyers = {c: p for c, p in behaviour.items() if p.get("purchases")}
    for name, label in (
        ("purchases", "purchase days"),
        ("recency_days", "days since the last purchase"),
        ("mean_value", "value per purchase"),
    ):
        held = [(c, float(p[name])) for c, p in buyers.items() if p.get(name) is not None]
        if len(held) < len(BEHAVIOUR_BANDS):
            continue
        values = np.array([v for _, v in held])
        edges = np.quantile(values, [1 / 3, 2 / 3])
        for customer, value in held:
            band = BEHAVIOUR_BANDS[int(np.searchsorted(edges, value, side="right"))]
            trait = traits.add(
                f"behaviour:{name}={band}", "behaviour", None, f"{label}: {band}", f"behaviour:{name}"
            )
            traits.pairs.add((customer, trait))
    for customer, profile in behaviour.items():
        channel = profile.get("preferred_channel")
        if channel:
            trait = traits.add(
                f"behaviour:channel={channel}",
                "behaviour",
                None,
                f"mostly through {channel}",
                "behaviour:channel",
            )
            traits.pairs.add((customer, trait))


def _number(value: float) -> str:
    return f"{value:g}"

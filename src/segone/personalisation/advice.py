""" "It depends": a question about our offerings answered for one customer (docs/personalisation.md,
"It depends").

The answer is retrieval and rules over our own data, deterministic and explainable, with no external
service: the offerings the question is about are those whose name, description and needs are most like
its words (the knowledge domain's text similarity, as matching compares facts with offerings); when the
question names none, the customer's stored offers are the options. Each option then gets a verdict and
its reasons, each citing what it rests on, always the customer's own:

- **not for them**: an inactive offering, or an ``eligible_if`` rule the customer does not meet;
- **they have it**: they bought it and it is not ``repeatable`` (the purchase event is cited);
- **fits**: one of their current facts is like the offering (the fact is cited), or the last offers
  refresh matched it to them (its stored reasons, each citing a fact or purchase of theirs);
- **depends**: nothing we know of them speaks for or against it; the answer says what to ask (the needs
  it serves).

A price band above what they usually spend is said as a caveat (their mean purchase, from the behaviour
profile). Options are ordered: fits, depends, they have it, not for them; within each by how alike the
offering is to the question, then by key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from segone import formatting
from segone.knowledge.distinguishability import service as text
from segone.personalisation.matching import fact_reason, offer_text
from segone.personalisation.rules import Rule
from segone.personalisation.schemas import AdviceVerdict as Verdict

QUESTION_MAX = 500
OPTIONS_MAX = 4
MIN_RELEVANCE = 0.08
"""How alike (cosine, TF-IDF) an offering must be to the question to count as one it is about."""
MIN_FIT = 0.1
"""How alike one of the customer's facts must be to an offering to speak for it (matching's min_content)."""

_BAND_FLOOR = {"under_50": 0.0, "50_200": 50.0, "200_plus": 200.0}


_ORDER = {Verdict.FITS: 0, Verdict.DEPENDS: 1, Verdict.HAS_IT: 2, Verdict.NOT_FOR_THEM: 3}


@dataclass(frozen=True)
class Option:
    """An offering as advice reads it."""

    key: str
    name: str
    description: str
    needs: Sequence[str]
    price_band: str | None
    active: bool
    repeatable: bool
    rule: Rule | None


@dataclass(frozen=True)
class Customer:
    """What advice knows of the customer: who they are, their current facts ``(id, text, learned_at)``,
    their purchases of offerings ``{key: (event_id, ts)}`` (the latest each), their stored offers
    ``{key: reasons}``, their audiences (names in lower case) and their mean purchase."""

    kind: str
    attributes: dict[str, Any]
    facts: Sequence[tuple[int, str, datetime]]
    bought: dict[str, tuple[str, datetime]]
    offered: dict[str, list[dict[str, Any]]]
    audiences: set[str]
    mean_value: float | None


@dataclass(frozen=True)
class Judged:
    option: Option
    relevance: float
    verdict: Verdict
    reasons: list[dict[str, Any]]
    caveats: list[str]
    ask: str | None


def relevant(question: str, options: Sequence[Option], *, method: str) -> list[tuple[Option, float]]:
    """The options the question is about, most alike first (at most ``OPTIONS_MAX``)."""
    if not options:
        return []
    texts = [offer_text(o.name, o.description, o.needs) for o in options]
    alike = text.text_similarities([question], texts, method=method).toarray()[0]
    ranked = sorted(
        ((o, float(a)) for o, a in zip(options, alike, strict=True) if a >= MIN_RELEVANCE),
        key=lambda pair: (-round(pair[1], 9), pair[0].key),
    )
    return ranked[:OPTIONS_MAX]


def judge(
    options: Sequence[tuple[Option, float]], customer: Customer, *, method: str, currency: str
) -> list[Judged]:
    """Each option's verdict for the customer, with its reasons and caveats, best first."""
    if not options:
        return []
    facts = list(customer.facts)
    fit = (
        text.text_similarities(
            [f[1] for f in facts],
            [offer_text(o.name, o.description, o.needs) for o, _ in options],
            method=method,
        ).toarray()
        if facts
        else None
    )
    judged = []
    for column, (option, relevance) in enumerate(options):
        best = -1
        if fit is not None and fit[:, column].max() >= MIN_FIT:
            best = int(fit[:, column].argmax())
        judged.append(_judge(option, relevance, customer, facts[best] if best >= 0 else None, currency))
    return sorted(judged, key=lambda j: (_ORDER[j.verdict], -round(j.relevance, 9), j.option.key))


def _judge(
    option: Option,
    relevance: float,
    customer: Customer,
    fact: tuple[int, str, datetime] | None,
    currency: str,
) -> Judged:
    reasons: list[dict[str, Any]] = []
    if not option.active:
        return Judged(option, relevance, Verdict.NOT_FOR_THEM, [], ["We no longer offer it."], None)
    if option.rule is not None and not option.rule.holds(
        kind=customer.kind, attributes=customer.attributes, audiences=customer.audiences
    ):
        return Judged(
            option,
            relevance,
            Verdict.NOT_FOR_THEM,
            [],
            [f"It is only for customers with {option.rule.text}."],
            None,
        )
    bought = customer.bought.get(option.key)
    if bought is not None:
        event_id, at = bought
        reasons.append(
            {
                "kind": "repeat",
                "text": f"You bought {option.name} on {at.day} {at:%b %Y}.",
                "fact_id": None,
                "event_id": event_id,
                "offering": option.key,
                "at": at.isoformat(),
            }
        )
        if not option.repeatable:
            return Judged(option, relevance, Verdict.HAS_IT, reasons, [], None)
    if fact is not None:
        reasons.insert(0, fact_reason(fact[0], fact[1], fact[2]))
    for stored in customer.offered.get(option.key, []):
        if not any(_same(stored, r) for r in reasons):
            reasons.append(stored)
    caveats = _price(option, customer.mean_value, currency)
    speaks = any(r["kind"] in ("fact", "purchase") for r in reasons)
    if speaks:
        return Judged(option, relevance, Verdict.FITS, reasons, caveats, None)
    needs = ", ".join(option.needs) or option.name
    return Judged(option, relevance, Verdict.DEPENDS, reasons, caveats, f"Ask whether they need: {needs}.")


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("fact_id"), a.get("event_id")) == (b.get("fact_id"), b.get("event_id"))


def _price(option: Option, mean_value: float | None, currency: str) -> list[str]:
    floor = _BAND_FLOOR.get(option.price_band or "")
    if mean_value is None or floor is None or floor <= 0 or mean_value >= floor:
        return []
    usual = formatting.money(mean_value, currency)
    return [f"You usually spend about {usual} a purchase; {option.name} costs more than that."]


def summary(judged: Sequence[Judged], *, asked_about_none: bool) -> str:
    """The answer's first sentence."""
    if not judged:
        return "We have nothing in our catalogue that answers this, and no offers for them yet."
    fits = [j.option.name for j in judged if j.verdict is Verdict.FITS]
    opening = (
        "The question names none of our offerings; from what we know of them: "
        if asked_about_none
        else "It depends on who is asking. For this customer: "
    )
    if fits:
        return opening + f"{_listed(fits)} {'fits' if len(fits) == 1 else 'fit'} best."
    if any(j.verdict is Verdict.DEPENDS for j in judged):
        return opening + "we do not know enough about them yet to choose; ask first."
    return opening + "none of these is for them."


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

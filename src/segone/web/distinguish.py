"""How well the easel sheet tells this customer apart: rarity badges, look-alikes, what to ask or show."""

from __future__ import annotations

from dataclasses import dataclass, field

from segone import formatting
from segone.views.schemas import CustomerSheet, SheetFact


@dataclass
class Badge:
    text: str
    rare: bool
    title: str


@dataclass
class Distinguish:
    measured: bool
    headline: str
    ask: str | None
    look_alikes: list[tuple[int, str]] = field(default_factory=list)
    show: list[SheetFact] = field(default_factory=list)
    badges: dict[int, Badge] = field(default_factory=dict)
    stale: int = 0


def distinguish(sheet: CustomerSheet) -> Distinguish:
    knowledge, facts = sheet.knowledge, sheet.facts()
    badges = {fact.id: found for fact in facts if (found := badge(fact)) is not None}
    size = knowledge.distinguishability
    ask = None
    if size is None:
        headline = "Not measured yet: rarity and look-alikes appear after the next knowledge refresh."
    elif size == 1:
        headline = "A segment of one: no other customer has everything we know of this one."
    else:
        others = size - 1
        who = "customer looks" if others == 1 else "customers look"
        headline = f"{formatting.count(others)} {who} like this one to us."
    if knowledge.next_question is not None and size is not None and size > 1:
        q = knowledge.next_question
        ask = f"Ask about {q.label.lower()}: “{q.prompt}”"
    elif size is None or size > 1:
        ask = f"Ask about {sheet.gaps[0].label.lower()}: “{sheet.gaps[0].prompt}”" if sheet.gaps else None
    show = [fact for fact in facts if fact.id in set(knowledge.show_them_you_know)]
    return Distinguish(
        measured=size is not None,
        headline=headline,
        ask=ask,
        look_alikes=[(a.id, a.name) for a in knowledge.look_alikes],
        show=show,
        badges=badges,
        stale=knowledge.stale_facts,
    )


def badge(fact: SheetFact) -> Badge | None:
    """ "Only them", "Rare: 3 of 412 customers we know about in family" or "Common: ...": counted among the
    customers with a current fact in the same category (thresholds: docs/knowledge.md)."""
    if fact.holders is None or fact.population is None or fact.rarity is None:
        return None
    among = f"{formatting.count(fact.population)} {'customer' if fact.population == 1 else 'customers'}"
    where = f"we know about in {fact.category_label.lower()}"
    title = f"Trait: {fact.trait}" if fact.trait else ""
    if fact.holders <= 1:
        return Badge(f"Only them of {among} {where}", True, title)
    held = f"{formatting.count(fact.holders)} of {among} {where}"
    if fact.rare:
        return Badge(f"Rare: {held}", True, title)
    return Badge(f"Common: {held} ({fact.rarity:.0%})", False, title)

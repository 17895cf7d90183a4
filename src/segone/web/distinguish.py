"""How well the easel sheet tells this customer apart: rarity badges, look-alikes, what to ask or show."""

from __future__ import annotations

from dataclasses import dataclass, field

from segone import formatting
from segone.views.customer_sheet import Badge, badge, next_ask
from segone.views.schemas import CustomerSheet, SheetFact


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
    if size is None:
        headline = "Not measured yet: rarity and look-alikes appear after the next knowledge refresh."
    elif size == 1:
        headline = "A segment of one: no other customer has everything we know of this one."
    else:
        others = size - 1
        who = "customer looks" if others == 1 else "customers look"
        headline = f"{formatting.count(others)} {who} like this one to us."
    question = next_ask(sheet)
    ask = f"Ask about {question.label.lower()}: “{question.prompt}”" if question else None
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

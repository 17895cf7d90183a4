"""What the pages show, gathered from the services in the product's terms (no rows, no columns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from segone.channels import Channel
from segone.customers import service as customers
from segone.customers.models import Customer
from segone.customers.schemas import CustomerOut
from segone.encounters import service as encounters
from segone.encounters.models import Encounter
from segone.encounters.schemas import EncounterOut
from segone.knowledge.categories.schemas import Category, CategoryList
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorOut, DifferentiatorStatus, RecognitionOut
from segone.web.deps import Viewer

CHANNEL_LABELS = {
    Channel.MEETING: "Meeting",
    Channel.CALL: "Call",
    Channel.EMAIL: "E-mail",
    Channel.CHAT: "Chat",
    Channel.STORE: "Store visit",
    Channel.OTHER: "Other",
}

# How sure we are, in words an associate would use; the numbers are what the service stores.
CONFIDENCE_CHOICES = (("0.95", "Sure"), ("0.8", "Fairly sure"), ("0.5", "Not sure yet"))
KIND_LABELS = {"person": "Person", "business": "Business"}
# How many categories an empty sheet suggests to learn first.
LEARN_FIRST = 4


def confidence_label(value: float) -> str:
    if value >= 0.9:
        return "sure"
    if value >= 0.65:
        return "fairly sure"
    return "not sure yet"


def confidence_choice(value: float) -> str:
    """The choice nearest to a stored confidence, for pre-filling a form."""
    return min(CONFIDENCE_CHOICES, key=lambda choice: abs(float(choice[0]) - value))[0]


def channel_label(channel: str | None) -> str:
    if channel is None:
        return ""
    try:
        return CHANNEL_LABELS[Channel(channel)]
    except ValueError:
        return channel


@dataclass(frozen=True)
class CustomerCard:
    id: int
    name: str
    kind: str
    identities: list[str]
    facts: int
    acknowledged: int
    last_encounter_at: datetime | None

    @property
    def ratio(self) -> float | None:
        return self.acknowledged / self.facts if self.facts else None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


def customer_cards(db: Session, rows: list[Customer]) -> list[CustomerCard]:
    ids = [c.id for c in rows]
    counts = knowledge.counts_by_customer(db, ids)
    last_seen = encounters.last_encounter_at(db, ids)
    return [
        CustomerCard(
            id=c.id,
            name=c.name,
            kind=c.kind,
            identities=[i.key for i in c.identities],
            facts=counts.get(c.id, (0, 0))[0],
            acknowledged=counts.get(c.id, (0, 0))[1],
            last_encounter_at=last_seen.get(c.id),
        )
        for c in rows
    ]


@dataclass(frozen=True)
class EncounterRow:
    encounter: EncounterOut
    customer_id: int
    customer_name: str

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS[self.encounter.channel]

    @property
    def preview(self) -> str:
        text = self.encounter.notes or self.encounter.cares_about or self.encounter.worries_about
        first = text.strip().splitlines()[0] if text.strip() else ""
        return first if len(first) <= 140 else first[:137].rstrip() + "…"


def encounter_rows(
    db: Session, viewer: Viewer, rows: list[Encounter], *, with_customer: bool = False
) -> list[EncounterRow]:
    names: dict[int, tuple[int, str]] = {}
    if with_customer:
        for customer_id in {e.customer_id for e in rows}:
            customer = customers.get(db, actor=viewer.actor, customer_id=customer_id)
            names[customer_id] = (customer.id, customer.name)
    return [
        EncounterRow(
            encounter=out,
            customer_id=names.get(out.customer_id, (out.customer_id, ""))[0],
            customer_name=names.get(out.customer_id, (0, ""))[1],
        )
        for out in encounters.to_out_many(db, rows)
    ]


@dataclass
class CategoryGroup:
    category: Category
    facts: list[DifferentiatorOut] = field(default_factory=list)


@dataclass
class Sheet:
    """The easel sheet of one customer: what we know, grouped, and what the customer knows we know."""

    customer: CustomerOut
    groups: list[CategoryGroup]
    unknown: list[Category]
    outdated: list[DifferentiatorOut]
    recognition: RecognitionOut
    choices: list[Category]
    encounters: list[EncounterRow]
    more_encounters: bool
    merged_from: list[dict[str, Any]]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.customer.kind.value, self.customer.kind.value)

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def learn_first(self) -> list[Category]:
        return self.unknown[:LEARN_FIRST]

    @property
    def learn_later(self) -> list[Category]:
        return self.unknown[LEARN_FIRST:]

    def fact_by_id(self, fact_id: int) -> DifferentiatorOut | None:
        for group in self.groups:
            for fact in group.facts:
                if fact.id == fact_id:
                    return fact
        return None


def sheet(db: Session, viewer: Viewer, customer: Customer, categories: CategoryList) -> Sheet:
    facts = knowledge.to_out_many(
        db,
        knowledge.list_for_customer(db, actor=viewer.actor, customer_id=customer.id, include_outdated=True),
        categories,
    )
    current = [f for f in facts if f.status == DifferentiatorStatus.CURRENT]
    choices = categories.for_kind(customer.kind)
    by_name: dict[str, CategoryGroup] = {c.name: CategoryGroup(c) for c in choices}
    for fact in current:
        group = by_name.get(fact.category)
        if group is None:
            # A category from other settings or another kind: still shown, under its own label.
            group = CategoryGroup(Category(fact.category, "both", fact.category_label, ""))
            by_name[fact.category] = group
        group.facts.append(fact)
    recent = encounters.list_for_customer(db, actor=viewer.actor, customer_id=customer.id, limit=6)
    merged_from = [
        {
            "id": m.merged_id,
            "name": m.snapshot.get("name", ""),
            "at": m.merged_at,
            "identities": m.snapshot.get("identities", []),
        }
        for m in customers.merges_into(db, customer_id=customer.id)
    ]
    return Sheet(
        customer=customers.to_out(customer),
        groups=[g for g in by_name.values() if g.facts],
        unknown=[c for c in choices if not by_name[c.name].facts],
        outdated=[f for f in facts if f.status == DifferentiatorStatus.OUTDATED],
        recognition=knowledge.recognition(db, actor=viewer.actor, customer_id=customer.id),
        choices=choices,
        encounters=encounter_rows(db, viewer, recent[:5]),
        more_encounters=len(recent) > 5,
        merged_from=merged_from,
    )

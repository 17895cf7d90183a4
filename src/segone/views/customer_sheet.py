"""The customer sheet: everything the customer page shows, read once for the web, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from segone import formatting
from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction
from segone.behaviour import service as behaviour
from segone.customer_service.promises import service as promises
from segone.customer_service.recovery import service as recovery
from segone.customers import service as customers
from segone.encounters import service as encounters
from segone.knowledge.categories.schemas import Category, CategoryList, CategoryOut
from segone.knowledge.distinguishability import service as insights
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorStatus
from segone.personalisation.messages import service as messages
from segone.segmentation import service as segmentation
from segone.views.schemas import Ask, CustomerSheet, FactGroup, MergedRecord, SheetFact, SheetKnowledge

RECENT_ENCOUNTERS = 5


def customer_sheet(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    categories: CategoryList,
    freshness_months: int,
    currency: str,
    audited: bool = True,
    consent_default: bool | None = None,
) -> CustomerSheet:
    """The easel sheet of a customer (a merged record's id gives the survivor's sheet): who they are,
    what we know by category and whether they know we know it, how rare each fact is, look-alikes and
    what to ask next, recent encounters, the behaviour profile (amounts in ``currency``) and the records
    merged into this one; their recovery cases and the promises made to them. With ``consent_default``
    (the setting, granted or not), their consent per purpose too (a list of many sheets leaves it out).
    The read is recorded in the audit log (who read whose data) unless ``audited`` is false: a view that
    records its own read."""
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    if audited:
        accounts.record_read(
            db,
            actor=actor,
            action=AuditAction.CUSTOMER_VIEWED,
            customer_id=customer.id,
            summary=f"Read the sheet of {customer.name}",
        )
    stored = knowledge.list_for_customer(db, actor=actor, customer_id=customer.id, include_outdated=True)
    facts = knowledge.to_out_many(db, stored, categories)
    known = insights.knowledge_of(
        db,
        actor=actor,
        customer_id=customer.id,
        categories=categories,
        freshness_months=freshness_months,
        facts=stored,
    )
    insight = {fact.id: fact for fact in known.facts}
    through = messages.refs(db, [f.acknowledgement.message_id for f in facts if f.acknowledgement])
    choices = [_category_out(c) for c in categories.for_kind(customer.kind)]
    groups = {c.name: FactGroup(category=c, facts=[]) for c in choices}
    for fact in facts:
        if fact.status != DifferentiatorStatus.CURRENT:
            continue
        group = groups.get(fact.category)
        if group is None:
            # A category from other settings or another kind: still shown, under its own label.
            label = CategoryOut(name=fact.category, label=fact.category_label, kind="both", prompt="")
            group = groups[fact.category] = FactGroup(category=label, facts=[])
        found = insight.get(fact.id)
        group.facts.append(
            SheetFact(
                **fact.model_dump(),
                trait=found.trait if found else None,
                holders=found.holders if found else None,
                population=found.population if found else None,
                rarity=found.rarity if found else None,
                rare=found.rare if found else False,
                stale=found.stale if found else False,
                through_message=through.get(fact.acknowledgement.message_id or 0)
                if fact.acknowledgement
                else None,
            )
        )
    # What they know and hold, from the facts measured above: the standing reads them otherwise.
    held = ({f.category for f in known.facts}, {f.trait_id for f in known.facts if f.trait_id is not None})
    # Before the standing, which reads the profile columns ``behaviour_of`` keeps in the session.
    behaviour_read = behaviour.behaviour_of(db, actor=actor, customer_id=customer.id, currency=currency)
    placed = segmentation.customer_segments(db, actor=actor, customer_id=customer.id, held=held)
    recent = encounters.list_for_customer(
        db, actor=actor, customer_id=customer.id, limit=RECENT_ENCOUNTERS + 1
    )
    return CustomerSheet(
        customer=customers.to_out(customer),
        recognition=known.recognition,
        categories=choices,
        groups=[group for group in groups.values() if group.facts],
        gaps=[c for c in choices if not groups[c.name].facts],
        outdated=[f for f in facts if f.status == DifferentiatorStatus.OUTDATED],
        knowledge=SheetKnowledge(
            refreshed_at=known.refreshed_at,
            distinguishability=known.distinguishability,
            look_alikes=known.look_alikes,
            next_question=known.next_question,
            show_them_you_know=known.show_them_you_know,
            stale_facts=known.stale_facts,
        ),
        encounters=encounters.to_out_many(
            db, recent[:RECENT_ENCOUNTERS], facts=knowledge.ids_by_encounter_of(stored)
        ),
        more_encounters=len(recent) > RECENT_ENCOUNTERS,
        behaviour=behaviour_read,
        merged_from=[
            MergedRecord(
                id=m.merged_id,
                name=m.snapshot.get("name", ""),
                merged_at=m.merged_at,
                identities=m.snapshot.get("identities", []),
            )
            for m in customers.merges_into(db, customer_id=customer.id)
        ],
        segment_path=placed.path,
        standing=placed.standing,
        recovery=recovery.for_customer(db, actor=actor, customer_id=customer.id),
        promises=promises.for_customer(db, actor=actor, customer_id=customer.id),
        consent=None
        if consent_default is None
        else customers.consent_of(db, actor=actor, customer_id=customer.id, default_granted=consent_default),
    )


def next_ask(sheet: CustomerSheet) -> Ask | None:
    """What to ask next: the refresh's best question while others look like them, else the first category
    we know nothing about; nothing for a segment of one with every category known (or no better question)."""
    knowledge, size = sheet.knowledge, sheet.knowledge.distinguishability
    question = knowledge.next_question
    if question is not None and size is not None and size > 1:
        others = formatting.plural(size - 1, "customer")
        remaining = formatting.decimal(question.expected_look_alikes, 1)
        why = f"{others} look like them to us; the answer leaves about {remaining}."
        return Ask(key=question.key, label=question.label, prompt=question.prompt, why=why)
    if (size is None or size > 1) and sheet.gaps:
        gap = sheet.gaps[0]
        why = f"Nothing known about {gap.label.lower()} yet."
        return Ask(key=gap.name, label=gap.label, prompt=gap.prompt, why=why)
    return None


def _category_out(category: Category) -> CategoryOut:
    return CategoryOut(name=category.name, label=category.label, kind=category.kind, prompt=category.prompt)


@dataclass
class Badge:
    """A fact's rarity in words, for every entry point that shows it."""

    text: str
    rare: bool
    title: str


def badge(fact: SheetFact) -> Badge | None:
    """ "Only them, among 412 customers …", "Rare: 3 of 412 customers we know about in family" or
    "Common: ...": counted among the customers with a current fact in the same category (thresholds:
    docs/knowledge.md)."""
    if fact.holders is None or fact.population is None or fact.rarity is None:
        return None
    among = f"{formatting.count(fact.population)} {'customer' if fact.population == 1 else 'customers'}"
    where = f"we know about in {fact.category_label.lower()}"
    title = f"Trait: {fact.trait}" if fact.trait else ""
    if fact.holders <= 1:
        return Badge(f"Only them, among {among} {where}", True, title)
    held = f"{formatting.count(fact.holders)} of {among} {where}"
    if fact.rare:
        return Badge(f"Rare: {held}", True, title)
    return Badge(f"Common: {held} ({fact.rarity:.0%})", False, title)

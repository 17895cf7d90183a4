"""What the last knowledge refresh found about one customer, read in a few queries for pages and the API.

Rarity and distinguishability come from the last ``segone knowledge refresh``; recognition and freshness
are read live (they change with every acknowledgement and confirmation). A fact added since the refresh
has no rarity yet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.clock import utcnow
from segone.customers import service as customers
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.distinguishability import grouping
from segone.knowledge.distinguishability.schemas import (
    FactInsight,
    FactTraitOut,
    Gap,
    KnowledgeOut,
    LookAlike,
    Question,
)
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorStatus
from segone.knowledge.models import (
    CustomerMeasure,
    Differentiator,
    FactTrait,
    KnowledgeRefresh,
    KnowledgeTrait,
)
from segone.storage.batching import among, chunks, values_per_statement
from segone.storage.subject import Rows, delete_about, ids_where, rows_about

# A trait is rare when at most this share of the customers we know something about in its topic (the
# fact's category) hold it, or when nobody else does; the thresholds are documented in docs/knowledge.md.
RARE_SHARE = 0.05
DAYS_PER_MONTH = 30.44


# Every sheet reads both; built once, as building costs as much as running them.
# The columns a fact's insight shows, as plain rows.
_TRAITS_OF_FACTS = (
    select(
        FactTrait.differentiator_id,
        KnowledgeTrait.id,
        KnowledgeTrait.label,
        KnowledgeTrait.holders,
        KnowledgeTrait.population,
        KnowledgeTrait.rarity,
    )
    .join(KnowledgeTrait, KnowledgeTrait.id == FactTrait.trait_id)
    .where(FactTrait.differentiator_id.in_(bindparam("fact_ids", expanding=True)))
)
# The measure with its refresh's time only: the refresh's row holds the (large) distribution.
_MEASURE_OF_CUSTOMER = (
    select(CustomerMeasure, KnowledgeRefresh.finished_at)
    .outerjoin(KnowledgeRefresh, KnowledgeRefresh.id == CustomerMeasure.refresh_id)
    .where(CustomerMeasure.customer_id == bindparam("customer_id"))
)


def knowledge_of(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    categories: CategoryList,
    freshness_months: int,
    facts: Sequence[Differentiator] | None = None,
) -> KnowledgeOut:
    """``facts``: the customer's facts (``knowledge.list_for_customer``'s, outdated ones or not) when the
    caller has read them already, so that they are not read twice; the current ones are measured."""
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    if facts is None:
        facts = knowledge.list_for_customer(db, actor=actor, customer_id=customer.id)
    else:
        facts = [fact for fact in facts if fact.status == DifferentiatorStatus.CURRENT.value]
    traits = {
        trait.differentiator_id: trait
        for trait in db.execute(_TRAITS_OF_FACTS, {"fact_ids": [f.id for f in facts] or [0]})
    }
    stale_before = utcnow() - timedelta(days=freshness_months * DAYS_PER_MONTH)
    insights = []
    for fact in facts:
        trait = traits.get(fact.id)
        # Traits of a refresh from before populations were counted have shares of all customers: they
        # are not measured until the next refresh.
        population = trait.population if trait is not None else None
        rare = (
            trait is not None
            and population is not None
            and (trait.holders <= 1 or trait.rarity <= RARE_SHARE)
        )
        category = categories.find(fact.category)
        insights.append(
            FactInsight(
                id=fact.id,
                text=fact.text,
                category=fact.category,
                category_label=category.label if category else fact.category,
                acknowledged=fact.acknowledgement is not None,
                trait=trait.label if trait else None,
                trait_id=trait.id if trait else None,
                holders=trait.holders if trait else None,
                population=population,
                rarity=round(trait.rarity, 6) if trait and population is not None else None,
                rare=rare,
                stale=fact.last_confirmed_at < stale_before,
                last_confirmed_at=fact.last_confirmed_at,
            )
        )
    measured = db.execute(_MEASURE_OF_CUSTOMER, {"customer_id": customer.id}).first()
    measure, refreshed_at = (measured[0], measured[1]) if measured else (None, None)
    wanted = measure.look_alikes if measure else []
    names = customers.names_by_id(db, wanted)
    known = {f.category for f in facts}
    gaps = [
        Gap(category=c.name, label=c.label, prompt=c.prompt)
        for c in categories.for_kind(customer.kind)
        if c.name not in known
    ]
    return KnowledgeOut(
        customer_id=customer.id,
        refreshed_at=refreshed_at,
        distinguishability=measure.distinguishability if measure else None,
        look_alikes=[LookAlike(id=i, name=names[i]) for i in wanted if i in names],
        recognition=knowledge.recognition_of(facts),
        facts=insights,
        stale_facts=sum(1 for f in insights if f.stale),
        gaps=gaps,
        next_question=_question(measure, categories),
        show_them_you_know=[f.id for f in insights if f.rare and not f.acknowledged],
    )


def _question(measure: CustomerMeasure | None, categories: CategoryList) -> Question | None:
    if measure is None or measure.next_question is None or measure.next_question_remaining is None:
        return None
    key = measure.next_question
    if key.startswith("attribute:"):
        name = key.removeprefix("attribute:")
        label, prompt = name.replace("_", " ").capitalize(), f"What is their {name.replace('_', ' ')}?"
    else:
        category = categories.find(key)
        label, prompt = (category.label, category.prompt) if category else (key, f"Ask about {key}.")
    return Question(key=key, label=label, prompt=prompt, expected_look_alikes=measure.next_question_remaining)


def fact_traits(db: Session, *, min_holders: int = 1) -> list[FactTraitOut]:
    """The traits of the last refresh that group facts (not attribute values or behaviour bands, which other
    variables describe already) held by at least ``min_holders`` customers, most held first (ties by id)."""
    rows = db.scalars(
        select(KnowledgeTrait)
        .where(KnowledgeTrait.kind == "fact", KnowledgeTrait.holders >= min_holders)
        .order_by(KnowledgeTrait.holders.desc(), KnowledgeTrait.id)
    )
    return [FactTraitOut(id=t.id, label=t.label, category=t.question or "", holders=t.holders) for t in rows]


def trait_holders(
    db: Session, trait_ids: Collection[int], customer_ids: Sequence[int] | None = None
) -> dict[int, set[int]]:
    """The customers (of ``customer_ids``, or any) holding each of these fact traits now: those with a
    current fact of the trait (a fact outdated since the refresh no longer counts; a merged customer's facts
    count for the survivor)."""
    held: dict[int, set[int]] = {trait_id: set() for trait_id in trait_ids}
    if not held:
        return held
    query = (
        select(FactTrait.trait_id, Differentiator.customer_id)
        .join(Differentiator, Differentiator.id == FactTrait.differentiator_id)
        .where(Differentiator.status == "current")
    )
    if customer_ids is None:
        queries = [query.where(FactTrait.trait_id.in_(sorted(held)))]
    else:
        # The few customers' own facts' traits, kept when wanted: a sheet asks for one customer and the
        # hundred-odd traits of a segmentation, whose list would cost more to bind than the rows to read.
        size = values_per_statement(db)
        chunked = chunks(sorted(set(customer_ids)), size)
        queries = [query.where(among(db, Differentiator.customer_id, chunk)) for chunk in chunked]
    for each in queries:
        for trait_id, customer_id in db.execute(each):
            if trait_id in held:
                held[trait_id].add(customer_id)
    return held


def current_categories_and_traits(db: Session, customer_id: int) -> tuple[set[str], set[int]]:
    """The categories in which a customer has a current fact and the fact traits they hold now, in one
    query: ``knowledge.known_categories`` and ``trait_holders`` for one customer (their sheet's standing)."""
    categories: set[str] = set()
    traits: set[int] = set()
    for category, trait_id in db.execute(
        select(Differentiator.category, FactTrait.trait_id)
        .outerjoin(FactTrait, FactTrait.differentiator_id == Differentiator.id)
        .where(Differentiator.customer_id == customer_id, Differentiator.status == "current")
    ):
        categories.add(category)
        if trait_id is not None:
            traits.add(trait_id)
    return categories, traits


def text_similarities(
    queries: Sequence[str], documents: Sequence[str], *, method: str = "tfidf", min_similarity: float = 0.0
) -> Any:
    """How alike each query is to each document, as a sparse ``len(queries) x len(documents)`` matrix of
    cosine similarities (scipy CSR, float32; below ``min_similarity`` left out): the words of statements
    as trait grouping reads them, by TF-IDF or by sentence embeddings (``method``, as
    ``SEGONE_KNOWLEDGE_METHOD``). Other domains compare their texts with what customers told us through it
    (personalisation: facts against offerings)."""
    return grouping.similarities(queries, documents, method=method, min_similarity=min_similarity)


def data_about(
    db: Session, *, customer_ids: Sequence[int], differentiator_ids: Sequence[int]
) -> dict[str, Rows]:
    """What the last knowledge refresh measured about these customers and the traits their facts were
    read as, as stored."""
    return {
        "knowledge_customer_measures": rows_about(db, CustomerMeasure, "customer_id", customer_ids),
        "knowledge_fact_traits": rows_about(db, FactTrait, "differentiator_id", differentiator_ids),
    }


def erase_about(
    db: Session, *, customer_ids: Sequence[int], differentiator_ids: Sequence[int]
) -> dict[str, int]:
    """Delete what the last knowledge refresh measured about these customers and the traits their facts
    were read as: a trait only they held goes; a trait others hold too keeps its rarity (an anonymous
    figure) and is labelled with another holder's wording, as its label may be theirs."""
    traits = set(ids_where(db, FactTrait, "differentiator_id", differentiator_ids, key="trait_id"))
    links = delete_about(db, FactTrait, "differentiator_id", differentiator_ids)
    emptied: list[int] = []
    for trait in db.scalars(select(KnowledgeTrait).where(among(db, KnowledgeTrait.id, sorted(traits)))):
        wording = db.scalars(
            select(Differentiator.text)
            .join(FactTrait, FactTrait.differentiator_id == Differentiator.id)
            .where(FactTrait.trait_id == trait.id, Differentiator.customer_id.not_in(customer_ids))
            .order_by(Differentiator.id)
            .limit(1)
        ).first()
        if wording is None:
            emptied.append(trait.id)
        else:
            trait.label = wording
    db.flush()
    return {
        "knowledge_fact_traits": links,
        "knowledge_traits": delete_about(db, KnowledgeTrait, "id", emptied),
        "knowledge_customer_measures": delete_about(db, CustomerMeasure, "customer_id", customer_ids),
    }

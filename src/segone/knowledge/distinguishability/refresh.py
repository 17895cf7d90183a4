"""``segone knowledge refresh``: traits, rarity, confusion sets and next questions, stored for fast reads.

Reads every current differentiator, every customer's details and the behaviour profiles, builds the traits
(``traits.build``), measures them (``measures``) and replaces the stored results in one transaction, so a
page shows one refresh or the next, never a mix. A failed refresh leaves the last results and says why in
its row of ``knowledge_refreshes``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.behaviour import service as behaviour_service
from segone.clock import utcnow
from segone.customers import service as customers_service
from segone.knowledge.categories import service as categories
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.distinguishability import grouping, measures
from segone.knowledge.distinguishability import traits as trait_building
from segone.knowledge.models import (
    CustomerMeasure,
    Differentiator,
    FactTrait,
    KnowledgeRefresh,
    KnowledgeTrait,
)
from segone.progress import Progress, silent
from segone.settings import Settings
from segone.storage import bulk, leases
from segone.storage.batching import chunks
from segone.storage.engine import session_scope

_TRAITS = cast(Table, KnowledgeTrait.__table__)
_FACT_TRAITS = cast(Table, FactTrait.__table__)
_MEASURES = cast(Table, CustomerMeasure.__table__)
WRITE_CHUNK = 20_000
WHAT = "A knowledge refresh"
BUCKETS = ((1, 1, "1"), (2, 2, "2"), (3, 5, "3-5"), (6, 10, "6-10"), (11, 100, "11-100"))


@dataclass
class KnowledgeReport:
    refresh_id: int
    customers: int
    differentiators: int
    traits: int
    segments_of_one: int
    distribution: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Loaded:
    ids: list[int]
    kinds: list[str]
    facts: list[trait_building.FactRow]
    attributes: list[dict[str, Any]]
    behaviour: dict[int, dict[str, Any]]


def threshold_of(method: str, configured: float | None) -> float:
    """The similarity threshold in force: the configured one, or the method's own default."""
    if configured is not None:
        return configured
    return grouping.DEFAULT_THRESHOLD if method == "tfidf" else grouping.DEFAULT_EMBEDDINGS_THRESHOLD


def refresh(
    sessions: sessionmaker[Session], settings: Settings, *, actor: Actor, progress: Progress = silent
) -> KnowledgeReport:
    """Traits, rarity, look-alikes and next questions of every customer, stored as one refresh.

    Runs in several transactions (the run is recorded first, so a failure is recorded too).
    """
    require(actor, Permission.RUN_ANALYTICS)
    with session_scope(sessions) as db:
        run = KnowledgeRefresh(
            method=settings.knowledge_method,
            threshold=threshold_of(settings.knowledge_method, settings.knowledge_threshold),
            distribution={},
            seconds={},
        )
        leases.take(db, KnowledgeRefresh, run, what=WHAT, lease_seconds=settings.lease_seconds)
        run_id = run.id
    try:
        with leases.Heartbeat(
            sessions, KnowledgeRefresh, run_id, lease_seconds=settings.lease_seconds
        ) as heartbeat:
            return _refresh(sessions, settings, run_id, progress, heartbeat)
    except BaseException as exc:
        with session_scope(sessions) as db:
            failed = db.get(KnowledgeRefresh, run_id)
            if failed is not None:
                failed.status, failed.finished_at = "failed", utcnow()
                failed.message = f"{type(exc).__name__}: {exc}"[:2000]
        raise


def _refresh(
    sessions: sessionmaker[Session],
    settings: Settings,
    run_id: int,
    progress: Progress,
    heartbeat: leases.Heartbeat,
) -> KnowledgeReport:
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def stage(name: str, done: int, total: int) -> None:
        progress(name, done, total)

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    stage("Reading what we know", 0, 1)
    with session_scope(sessions) as db:
        loaded = _load(db)
    stage("Reading what we know", 1, 1)
    lap("read")

    stage("Grouping facts into traits", 0, 1)
    found = trait_building.build(
        loaded.facts,
        loaded.attributes,
        loaded.behaviour,
        threshold=settings.knowledge_threshold,
        method=settings.knowledge_method,
    )
    stage("Grouping facts into traits", 1, 1)
    lap("traits")

    n = len(loaded.ids)
    holdings = found.holdings()
    idx = measures.index(holdings, n)
    population = measures.populations(holdings, found.topics)
    rarity = measures.rarity(idx, population)
    stage("Finding look-alikes", 0, n)
    confusion = measures.confusion_sets(idx)
    stage("Finding look-alikes", n, n)
    lap("confusion sets")

    questions = _next_questions(idx, confusion, loaded, found, categories.in_force(settings), stage)
    lap("next questions")

    distribution = _distribution(confusion.sizes)
    segments_of_one = int(np.count_nonzero(confusion.sizes == 1))
    stage("Writing the results", 0, n)
    heartbeat.check(WHAT)
    with session_scope(sessions) as db:
        _write(db, run_id, loaded, found, idx, population, rarity, confusion, questions)
        run = db.get(KnowledgeRefresh, run_id)
        assert run is not None
        run.status, run.finished_at = "done", utcnow()
        run.customers, run.differentiators, run.traits = n, len(loaded.facts), len(found.keys)
        run.segments_of_one, run.distribution = segments_of_one, distribution
        lap("write")
        run.seconds = seconds
    stage("Writing the results", n, n)
    return KnowledgeReport(
        refresh_id=run_id,
        customers=n,
        differentiators=len(loaded.facts),
        traits=len(found.keys),
        segments_of_one=segments_of_one,
        distribution=distribution,
        seconds=seconds,
    )


def _load(db: Session) -> _Loaded:
    customers = customers_service.kinds_and_attributes(db)
    ids = [row[0] for row in customers]
    position = {customer_id: i for i, customer_id in enumerate(ids)}
    facts = [
        trait_building.FactRow(fact_id, position[customer_id], category, text)
        for fact_id, customer_id, category, text in db.execute(
            select(
                Differentiator.id, Differentiator.customer_id, Differentiator.category, Differentiator.text
            )
            .where(Differentiator.status == "current")
            .order_by(Differentiator.id)
        )
        if customer_id in position
    ]
    behaviour = {
        position[customer_id]: traits
        for customer_id, traits in behaviour_service.traits_by_customer(db).items()
        if customer_id in position
    }
    return _Loaded(
        ids=ids,
        kinds=[row[1] for row in customers],
        facts=facts,
        attributes=[row[2] for row in customers],
        behaviour=behaviour,
    )


def _gaps(
    customer: int,
    loaded: _Loaded,
    found: trait_building.Traits,
    idx: measures.Index,
    categories: CategoryList,
) -> list[str]:
    """The fact categories of the customer's kind we know nothing about for it, in the listed order."""
    asked = {found.questions[t] for t in idx.traits_of(customer).tolist()}
    return [c.name for c in categories.for_kind(loaded.kinds[customer]) if c.name not in asked]


def _next_questions(
    idx: measures.Index,
    confusion: measures.Confusion,
    loaded: _Loaded,
    found: trait_building.Traits,
    categories: CategoryList,
    stage: Callable[[str, int, int], None],
) -> list[tuple[str | None, float | None]]:
    """Per customer: the next question and the look-alikes expected to remain after its answer.

    Customers with the same traits (and kind) share the answer: their look-alikes are the same, and none
    of them has an answer in the categories asked about.
    """
    # Details worth asking a customer about: those some customer of the same kind has.
    attribute_questions: dict[str, list[str]] = {}
    for customer in range(idx.n_customers):
        held = {found.questions[t] for t in idx.traits_of(customer).tolist()}
        asked = attribute_questions.setdefault(loaded.kinds[customer], [])
        asked.extend(q for q in held if q and q.startswith("attribute:") and q not in asked)
    for questions in attribute_questions.values():
        questions.sort()
    results: list[tuple[str | None, float | None]] = []
    cache: dict[tuple[tuple[int, ...], str], tuple[str | None, float | None]] = {}
    n = idx.n_customers
    for customer in range(n):
        if customer % 5000 == 0:
            stage("Choosing the next best questions", customer, n)
        if confusion.sizes[customer] <= 1:
            results.append((None, None))
            continue
        traits = tuple(idx.traits_of(customer).tolist())
        kind = loaded.kinds[customer]
        answer = cache.get((traits, kind))
        if answer is None:
            # What we could ask: the empty categories, then the details others of its kind have and it lacks.
            held = {found.questions[t] for t in traits}
            candidates = _gaps(customer, loaded, found, idx, categories)
            candidates += [q for q in attribute_questions.get(kind, []) if q not in held]
            best = measures.next_question(
                idx, confusion.members[traits], customer, candidates, found.questions
            )
            answer = best if best is not None else (None, None)
            cache[(traits, kind)] = answer
        results.append(answer)
    stage("Choosing the next best questions", n, n)
    return results


def _distribution(sizes: np.ndarray[Any, Any]) -> dict[str, int]:
    out = {label: int(np.count_nonzero((sizes >= low) & (sizes <= high))) for low, high, label in BUCKETS}
    out[">100"] = int(np.count_nonzero(sizes > 100))
    return out


def _write(
    db: Session,
    run_id: int,
    loaded: _Loaded,
    found: trait_building.Traits,
    idx: measures.Index,
    population: np.ndarray[Any, Any],
    rarity: np.ndarray[Any, Any],
    confusion: measures.Confusion,
    questions: list[tuple[str | None, float | None]],
) -> None:
    db.execute(delete(FactTrait))
    db.execute(delete(CustomerMeasure))
    db.execute(delete(KnowledgeTrait))
    connection = db.connection()
    counts = idx.holder_counts
    trait_ids = (
        bulk.insert_returning_ids(
            connection,
            _TRAITS,
            [
                {
                    "refresh_id": run_id,
                    "key": key[:400],
                    "kind": found.kinds[t],
                    "question": found.questions[t],
                    "label": found.labels[t],
                    "holders": int(counts[t]),
                    "population": int(population[t]),
                    "rarity": float(rarity[t]),
                }
                for t, key in enumerate(found.keys)
            ],
        )
        if found.keys
        else []
    )
    fact_rows = [
        {"differentiator_id": fact_id, "trait_id": trait_ids[t]} for fact_id, t in found.fact_traits.items()
    ]
    for facts_batch in chunks(fact_rows, WRITE_CHUNK):
        bulk.insert_rows(connection, _FACT_TRAITS, facts_batch)
    measure_rows = [
        {
            "customer_id": customer_id,
            "refresh_id": run_id,
            "trait_count": int(idx.held_start[c + 1] - idx.held_start[c]),
            "distinguishability": int(confusion.sizes[c]),
            "look_alikes": [loaded.ids[other] for other in confusion.look_alikes[c]],
            "next_question": questions[c][0],
            "next_question_remaining": _rounded(questions[c][1]),
        }
        for c, customer_id in enumerate(loaded.ids)
    ]
    for measures_batch in chunks(measure_rows, WRITE_CHUNK):
        bulk.insert_rows(connection, _MEASURES, measures_batch)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)

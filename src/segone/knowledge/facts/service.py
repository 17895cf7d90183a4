"""Use cases of the knowledge domain: the easel sheet of differentiators and acknowledgements."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission, Person
from segone.accounts.service import record_audit, require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Conflict, Invalid, NotFound, StaleVersion
from segone.exporting import Batch, Column, Export, Kind
from segone.knowledge.categories.schemas import CategoryList, CategoryOut
from segone.knowledge.facts.schemas import (
    AcknowledgementOut,
    AcknowledgeRequest,
    DifferentiatorCreate,
    DifferentiatorOut,
    DifferentiatorStatus,
    DifferentiatorUpdate,
    FactSearchHit,
    OutdateRequest,
    RecognitionOut,
)
from segone.knowledge.models import Acknowledgement
from segone.knowledge.models import Differentiator as Differentiator
from segone.storage import fulltext
from segone.storage.batching import among, chunks, values_per_statement
from segone.storage.subject import Rows, delete_about, ids_of, ids_where, rows_about
from segone.storage.versions import bump, lock_for_edit


def to_out_many(
    db: Session, facts: list[Differentiator], categories: CategoryList
) -> list[DifferentiatorOut]:
    people = accounts.people_by_id(
        db,
        [f.learned_by_id for f in facts]
        + [f.acknowledgement.acknowledged_by_id for f in facts if f.acknowledgement],
    )
    labels = {c.name: c.label for c in categories.all}
    result = []
    for fact in facts:
        ack = fact.acknowledgement
        learned_by = people.get(fact.learned_by_id) if fact.learned_by_id else None
        acknowledged_by = people.get(ack.acknowledged_by_id) if ack and ack.acknowledged_by_id else None
        result.append(
            DifferentiatorOut(
                id=fact.id,
                customer_id=fact.customer_id,
                text=fact.text,
                category=fact.category,
                category_label=labels.get(fact.category, fact.category.replace("_", " ")),
                learned_by=learned_by.email if learned_by else None,
                learned_by_name=learned_by.name if learned_by else None,
                learned_at=fact.learned_at,
                encounter_id=fact.encounter_id,
                channel=fact.channel,
                confidence=fact.confidence,
                status=DifferentiatorStatus(fact.status),
                outdated_at=fact.outdated_at,
                replaced_by_id=fact.replaced_by_id,
                last_confirmed_at=fact.last_confirmed_at,
                version=fact.version,
                acknowledgement=AcknowledgementOut(
                    acknowledged_at=ack.acknowledged_at,
                    acknowledged_by=acknowledged_by.email if acknowledged_by else None,
                    acknowledged_by_name=acknowledged_by.name if acknowledged_by else None,
                    encounter_id=ack.encounter_id,
                    message_id=ack.message_id,
                    how=ack.how,
                )
                if ack
                else None,
            )
        )
    return result


def list_categories(
    *, actor: Actor, categories: CategoryList, customer_kind: str | None = None
) -> list[CategoryOut]:
    """The differentiator categories in force; with a kind of customer, only those that fit it."""
    require(actor, Permission.READ_CUSTOMERS)
    chosen = categories.for_kind(customer_kind) if customer_kind else list(categories.all)
    return [CategoryOut(name=c.name, label=c.label, kind=c.kind, prompt=c.prompt) for c in chosen]


def get(db: Session, *, actor: Actor, differentiator_id: int) -> Differentiator:
    require(actor, Permission.READ_CUSTOMERS)
    fact = db.get(Differentiator, differentiator_id)
    if fact is None:
        raise NotFound(f"There is no differentiator {differentiator_id}.")
    return fact


def list_for_customer(
    db: Session, *, actor: Actor, customer_id: int, include_outdated: bool = False
) -> list[Differentiator]:
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    stmt = _OF_CUSTOMER if include_outdated else _CURRENT_OF_CUSTOMER
    return list(db.scalars(stmt, {"customer_id": customer.id}))


# The acknowledgements joined in, not read by a second statement: every sheet and briefing lists them.
# Built once, as building costs as much as running them.
_OF_CUSTOMER = (
    select(Differentiator)
    .options(joinedload(Differentiator.acknowledgement))
    .where(Differentiator.customer_id == bindparam("customer_id"))
    .order_by(Differentiator.learned_at.desc(), Differentiator.id)
)
_CURRENT_OF_CUSTOMER = _OF_CUSTOMER.where(Differentiator.status == DifferentiatorStatus.CURRENT.value)


def add(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    data: DifferentiatorCreate,
    categories: CategoryList,
    learned_by_id: int | None = None,
) -> Differentiator:
    """Record a differentiator; learned by the acting user unless another employee is named.

    An ``encounter_id`` is not checked here (knowledge knows no encounters): callers outside the
    encounters domain go through ``segone.views.facts``, which checks it is an encounter with the customer.
    """
    require(actor, Permission.ADD_DIFFERENTIATORS)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    category = categories.get(data.category)
    if not category.applies_to(customer.kind):
        raise Invalid(
            f"'{category.label}' is a {category.kind} category; {customer.name} is a {customer.kind}."
        )
    learned_at = data.learned_at or utcnow()
    fact = Differentiator(
        customer_id=customer.id,
        text=data.text,
        category=category.name,
        learned_by_id=learned_by_id if learned_by_id is not None else actor.user_id,
        learned_at=learned_at,
        encounter_id=data.encounter_id,
        channel=data.channel.value if data.channel else None,
        confidence=data.confidence,
        last_confirmed_at=learned_at,
    )
    db.add(fact)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DIFFERENTIATOR_ADDED,
        customer_id=customer.id,
        summary=f"Learned ({category.label}): {fact.text}",
        details={"differentiator_id": fact.id},
    )
    return fact


def edit(
    db: Session,
    *,
    actor: Actor,
    differentiator_id: int,
    data: DifferentiatorUpdate,
    categories: CategoryList,
) -> Differentiator:
    require(actor, Permission.ADD_DIFFERENTIATORS)
    fact = get(db, actor=actor, differentiator_id=differentiator_id)
    current = lock_for_edit(db, fact)
    if fact.status != DifferentiatorStatus.CURRENT.value:
        raise Conflict(f"Differentiator {fact.id} is outdated; add what is true now instead.")
    if data.version is not None and data.version != current:
        raise StaleVersion(
            f"This fact was changed by someone else since you opened it (you had version {data.version}, "
            f"it is at version {current} now): nothing was changed. Make your change again on what it "
            "says now.",
            details={
                "version": current,
                "current": to_out_many(db, [fact], categories)[0].model_dump(mode="json"),
            },
        )
    changes: dict[str, object] = {}
    if data.text is not None and data.text != fact.text:
        changes["text"] = {"from": fact.text, "to": data.text}
        fact.text = data.text
    if data.category is not None and data.category != fact.category:
        category = categories.get(data.category)
        customer = customers.get(db, actor=actor, customer_id=fact.customer_id)
        if not category.applies_to(customer.kind):
            raise Invalid(
                f"'{category.label}' is a {category.kind} category; {customer.name} is a {customer.kind}."
            )
        changes["category"] = {"from": fact.category, "to": data.category}
        fact.category = data.category
    if data.confidence is not None and data.confidence != fact.confidence:
        changes["confidence"] = {"from": fact.confidence, "to": data.confidence}
        fact.confidence = data.confidence
    if data.confirmed:
        fact.last_confirmed_at = utcnow()
        changes["confirmed"] = True
    if changes:
        bump(fact)
        db.flush()
        record_audit(
            db,
            actor=actor,
            action=AuditAction.DIFFERENTIATOR_EDITED,
            customer_id=fact.customer_id,
            summary=f"Edited: {fact.text}",
            details={"differentiator_id": fact.id, **changes},
        )
    return fact


def outdate(
    db: Session,
    *,
    actor: Actor,
    differentiator_id: int,
    data: OutdateRequest,
) -> Differentiator:
    """Mark a fact as no longer true; with a replacement, the new fact is linked to the old one."""
    require(actor, Permission.ADD_DIFFERENTIATORS)
    fact = get(db, actor=actor, differentiator_id=differentiator_id)
    lock_for_edit(db, fact)
    if fact.status == DifferentiatorStatus.OUTDATED.value:
        raise Conflict(f"Differentiator {fact.id} is outdated already.")
    replacement: Differentiator | None = None
    if data.replacement and data.replacement.strip():
        replacement = Differentiator(
            customer_id=fact.customer_id,
            text=" ".join(data.replacement.split()),
            category=fact.category,
            learned_by_id=actor.user_id,
            channel=None,
            confidence=fact.confidence,
        )
        db.add(replacement)
        db.flush()
    fact.status = DifferentiatorStatus.OUTDATED.value
    fact.outdated_at = utcnow()
    fact.replaced_by_id = replacement.id if replacement else None
    bump(fact)
    db.flush()
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DIFFERENTIATOR_OUTDATED,
        customer_id=fact.customer_id,
        summary=f"No longer true: {fact.text}" + (f" — now: {replacement.text}" if replacement else ""),
        details={
            "differentiator_id": fact.id,
            "replaced_by_id": replacement.id if replacement else None,
        },
    )
    return replacement or fact


def acknowledge(
    db: Session,
    *,
    actor: Actor,
    differentiator_id: int,
    data: AcknowledgeRequest,
    message_id: int | None = None,
    at: datetime | None = None,
) -> Differentiator:
    """The customer now knows that we know this; acknowledging twice keeps the first record.

    Entry points go through ``segone.views.facts.acknowledge``, which checks the ``encounter_id``. A
    message that showed it to them (``message_id``, at ``at``) is the caller's to check (personalisation's
    messages, which knowledge knows nothing of).
    """
    require(actor, Permission.ACKNOWLEDGE)
    fact = get(db, actor=actor, differentiator_id=differentiator_id)
    if fact.status != DifferentiatorStatus.CURRENT.value:
        raise Conflict(f"Differentiator {fact.id} is outdated; acknowledge what is true now.")
    if fact.acknowledgement is not None:
        return fact
    fact.acknowledgement = Acknowledgement(
        acknowledged_by_id=actor.user_id,
        acknowledged_at=at or utcnow(),
        encounter_id=data.encounter_id,
        message_id=message_id,
        how=data.how.strip(),
    )
    db.flush()
    through = {"message_id": message_id} if message_id is not None else {}
    record_audit(
        db,
        actor=actor,
        action=AuditAction.DIFFERENTIATOR_ACKNOWLEDGED,
        customer_id=fact.customer_id,
        summary=f"Showed the customer we know: {fact.text}",
        details={"differentiator_id": fact.id, "how": data.how, **through},
    )
    return fact


def acknowledge_shown(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    differentiator_ids: Sequence[int],
    data: AcknowledgeRequest,
    message_id: int | None = None,
    at: datetime | None = None,
) -> list[Differentiator]:
    """Acknowledge several facts of one customer at once (those shown to them in an encounter or a
    message).

    Only the customer's own current facts can be: any other id (another customer's fact, an outdated
    one, one that does not exist) refuses them all, naming each such id. The encounter in ``data`` and the
    message are the caller's to check, as in ``acknowledge``.
    """
    require(actor, Permission.ACKNOWLEDGE)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    wanted = list(dict.fromkeys(differentiator_ids))
    if not wanted:
        return []
    own = set(
        db.scalars(
            select(Differentiator.id).where(
                Differentiator.id.in_(wanted),
                Differentiator.customer_id == customer.id,
                Differentiator.status == DifferentiatorStatus.CURRENT.value,
            )
        )
    )
    others = [fact_id for fact_id in wanted if fact_id not in own]
    if others:
        named = ", ".join(str(fact_id) for fact_id in others)
        what = (
            f"Differentiator {named} is not a current fact"
            if len(others) == 1
            else f"Differentiators {named} are not current facts"
        )
        raise Invalid.of_field(
            "acknowledge",
            f"{what} of {customer.name}; only the customer's own current facts can be acknowledged.",
            differentiator_ids=others,
        )
    return [
        acknowledge(db, actor=actor, differentiator_id=fact_id, data=data, message_id=message_id, at=at)
        for fact_id in wanted
    ]


def recognition_of(current: Sequence[Differentiator]) -> RecognitionOut:
    """``recognition`` of a customer whose current facts are read already (each with its acknowledgement)."""
    acknowledged = sum(1 for fact in current if fact.acknowledgement is not None)
    return RecognitionOut(
        current=len(current),
        acknowledged=acknowledged,
        ratio=round(acknowledged / len(current), 4) if current else None,
    )


def recognition(db: Session, *, actor: Actor, customer_id: int) -> RecognitionOut:
    """Recognition ratio: of the current facts, how many the customer knows that we know."""
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    current, acknowledged = db.execute(
        select(func.count(Differentiator.id), func.count(Acknowledgement.id))
        .select_from(Differentiator)
        .outerjoin(Acknowledgement)
        .where(
            Differentiator.customer_id == customer.id,
            Differentiator.status == DifferentiatorStatus.CURRENT.value,
        )
    ).one()
    return RecognitionOut(
        current=current,
        acknowledged=acknowledged,
        ratio=round(acknowledged / current, 4) if current else None,
    )


def counts_by_customer(db: Session, customer_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(current facts, acknowledged facts) per customer, for lists."""
    if not customer_ids:
        return {}
    rows = db.execute(
        select(
            Differentiator.customer_id,
            func.count(Differentiator.id),
            func.count(Acknowledgement.id),
        )
        .outerjoin(Acknowledgement)
        .where(
            Differentiator.customer_id.in_(customer_ids),
            Differentiator.status == DifferentiatorStatus.CURRENT.value,
        )
        .group_by(Differentiator.customer_id)
    )
    return {cid: (n, a) for cid, n, a in rows}


def known_categories(
    db: Session, *, batch_size: int = 10_000, customer_ids: Sequence[int] | None = None
) -> Iterator[tuple[int, str]]:
    """``(customer_id, category)`` for every category in which a customer (of ``customer_ids``, or any) has
    at least one current fact, by customer id then category, streamed ``batch_size`` rows at a time (what
    segmentation's "knows: …" variables read)."""
    query = (
        select(Differentiator.customer_id, Differentiator.category)
        .where(Differentiator.status == DifferentiatorStatus.CURRENT.value)
        .distinct()
        .order_by(Differentiator.customer_id, Differentiator.category)
    )
    if customer_ids is None:
        yield from db.execute(query.execution_options(yield_per=batch_size))
        return
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        yield from db.execute(query.where(among(db, Differentiator.customer_id, chunk)))


def fact_rows(
    db: Session, *, as_of: datetime | None = None, batch_size: int = 10_000
) -> Iterator[tuple[int, int, str, str, datetime]]:
    """``(id, customer_id, text, category, learned_at)`` of every fact current now (or, with ``as_of``, of
    every fact that was current at that moment: learned by then and not outdated before it), by id,
    streamed ``batch_size`` rows at a time (what personalisation matches offerings against)."""
    query = select(
        Differentiator.id,
        Differentiator.customer_id,
        Differentiator.text,
        Differentiator.category,
        Differentiator.learned_at,
    ).order_by(Differentiator.id)
    if as_of is None:
        query = query.where(Differentiator.status == DifferentiatorStatus.CURRENT.value)
    else:
        query = query.where(
            Differentiator.learned_at <= as_of,
            or_(
                Differentiator.status == DifferentiatorStatus.CURRENT.value,
                Differentiator.outdated_at > as_of,
            ),
        )
    for row in db.execute(query.execution_options(yield_per=batch_size)):
        yield row.id, row.customer_id, row.text, row.category, row.learned_at


def current_owners(db: Session, fact_ids: Collection[int]) -> dict[int, int]:
    """The customer of each of these facts that is still current (outdated and unknown ones left out)."""
    owners: dict[int, int] = {}
    for chunk in chunks(sorted(set(fact_ids)), values_per_statement(db)):
        rows = db.execute(
            select(Differentiator.id, Differentiator.customer_id).where(
                among(db, Differentiator.id, chunk),
                Differentiator.status == DifferentiatorStatus.CURRENT.value,
            )
        )
        owners.update((fact_id, customer_id) for fact_id, customer_id in rows)
    return owners


def move_to(db: Session, *, from_customer_id: int, to_customer_id: int) -> int:
    """Hand every fact of one customer record to another (used by merge); returns how many."""
    result = db.execute(
        update(Differentiator)
        .where(Differentiator.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def texts_of(db: Session, *, customer_id: int) -> list[str]:
    """The text of every fact on the customer's sheet, outdated ones too."""
    return list(db.scalars(select(Differentiator.text).where(Differentiator.customer_id == customer_id)))


def ids_by_encounter(db: Session, encounter_ids: list[int]) -> dict[int, list[int]]:
    """The facts learned in each of these encounters, in the order they were added."""
    found: dict[int, list[int]] = {}
    if not encounter_ids:
        return found
    rows = db.execute(
        select(Differentiator.id, Differentiator.encounter_id)
        .where(Differentiator.encounter_id.in_(encounter_ids))
        .order_by(Differentiator.id)
    )
    for fact_id, encounter_id in rows:
        if encounter_id is not None:
            found.setdefault(encounter_id, []).append(fact_id)
    return found


def ids_by_encounter_of(facts: Iterable[Differentiator]) -> dict[int, list[int]]:
    """``ids_by_encounter`` from a customer's facts already read (all of them, outdated ones too): a fact
    learned in an encounter is about that encounter's customer."""
    found: dict[int, list[int]] = {}
    for fact in sorted(facts, key=lambda f: f.id):
        if fact.encounter_id is not None:
            found.setdefault(fact.encounter_id, []).append(fact.id)
    return found


def customer_ids_by_facts(db: Session, *, offset: int = 0, limit: int = 10) -> list[int]:
    """Customers with the most current facts first (ties by id), for rankings."""
    count = func.count(Differentiator.id)
    return list(
        db.scalars(
            select(Differentiator.customer_id)
            .where(Differentiator.status == DifferentiatorStatus.CURRENT.value)
            .group_by(Differentiator.customer_id)
            .order_by(count.desc(), Differentiator.customer_id)
            .offset(offset)
            .limit(limit)
        )
    )


# ---- exports --------------------------------------------------------------------------------------------

EXPORT_BATCH = 10_000
EXPORT_COLUMNS = (
    Column("id", Kind.INTEGER),
    Column("customer_id", Kind.INTEGER),
    Column("customer"),
    Column("customer_name"),
    Column("category"),
    Column("text"),
    Column("status"),
    Column("learned_at", Kind.TIMESTAMP),
    Column("learned_by"),
    Column("learned_by_name"),
    Column("encounter_id", Kind.INTEGER),
    Column("channel"),
    Column("confidence", Kind.FLOAT),
    Column("last_confirmed_at", Kind.TIMESTAMP),
    Column("outdated_at", Kind.TIMESTAMP),
    Column("replaced_by_id", Kind.INTEGER),
    Column("acknowledged", Kind.BOOLEAN),
    Column("acknowledged_at", Kind.TIMESTAMP),
    Column("acknowledged_by"),
    Column("acknowledged_by_name"),
    Column("acknowledged_how"),
    Column("acknowledged_encounter_id", Kind.INTEGER),
)
"""``customer`` is the customer's first identity, or its id when it has none, and ``learned_by`` an
e-mail: the facts import reads ``customer``, ``text``, ``category``, ``learned_by``, ``learned_at`` back."""


def export_facts(db: Session, *, actor: Actor, batch_size: int = EXPORT_BATCH) -> Export:
    """Every fact, current and outdated, by id: its customer, who learned it when and where (encounter,
    channel), how sure we are, when it was last confirmed, and whether the customer knows we know.

    Entry points go through ``segone.views.exports.start``, which records the export in the audit trail.
    """
    require(actor, Permission.EXPORT_DATA)
    d, a = Differentiator, Acknowledgement
    facts_page = (
        select(
            d.id,
            d.customer_id,
            d.category,
            d.text,
            d.status,
            d.learned_at,
            d.learned_by_id,
            d.encounter_id,
            d.channel,
            d.confidence,
            d.last_confirmed_at,
            d.outdated_at,
            d.replaced_by_id,
        )
        .order_by(d.id)
        .limit(batch_size)
    )
    # The acknowledgements of a page by a range of the unique index: no join whose plan could read them
    # all for every page.
    acknowledgements = select(
        a.differentiator_id, a.acknowledged_at, a.acknowledged_by_id, a.how, a.encounter_id
    )

    def read(session: Session) -> Iterator[Batch]:
        people: dict[int, Person] = {}  # employees are few: each is looked up once per export
        after = 0
        while facts := session.execute(facts_page.where(d.id > after)).all():
            first, last = facts[0].id, facts[-1].id
            acks = {
                ack.differentiator_id: ack
                for ack in session.execute(acknowledgements.where(a.differentiator_id.between(first, last)))
            }
            customers_named = customers.names_and_first_identities(
                session, customer_ids=[f.customer_id for f in facts]
            )
            wanted = {f.learned_by_id for f in facts} | {ack.acknowledged_by_id for ack in acks.values()}
            people.update(accounts.people_by_id(session, wanted - people.keys()))
            rows = []
            for f in facts:
                name, identity = customers_named.get(f.customer_id, ("", None))
                learner = people.get(f.learned_by_id) if f.learned_by_id else None
                ack = acks.get(f.id)
                acknowledger = people.get(ack.acknowledged_by_id) if ack and ack.acknowledged_by_id else None
                row: dict[str, Any] = {
                    **f._asdict(),
                    "customer": identity or str(f.customer_id),
                    "customer_name": name,
                    "learned_by": learner.email if learner else None,
                    "learned_by_name": learner.name if learner else None,
                    "acknowledged": ack is not None,
                    "acknowledged_at": ack.acknowledged_at if ack else None,
                    "acknowledged_by": acknowledger.email if acknowledger else None,
                    "acknowledged_by_name": acknowledger.name if acknowledger else None,
                    "acknowledged_how": ack.how if ack else None,
                    "acknowledged_encounter_id": ack.encounter_id if ack else None,
                }
                rows.append(row)
            yield rows
            after = last

    total = int(db.scalar(select(func.count(d.id))) or 0)
    return Export("facts", EXPORT_COLUMNS, total, read)


# ---- full-text search over the facts (segone.search composes it with the encounter notes) ----------------

FACTS_INDEX = fulltext.FullTextIndex("differentiators", ("text",))  # made by migration 0004


def search_facts(
    db: Session, terms: Sequence[str], *, all_terms: bool, limit: int, include_outdated: bool = False
) -> list[fulltext.Match]:
    """Facts holding every term (``all_terms``) or some, with their relevance; at most ``limit`` (the
    newest on SQLite). Current facts only, unless ``include_outdated``."""
    current = None if include_outdated else f"t.status = '{DifferentiatorStatus.CURRENT.value}'"
    return fulltext.matches(db, FACTS_INDEX, terms, all_terms=all_terms, limit=limit, condition=current)


def fact_hits(db: Session, found: Sequence[fulltext.Match], terms: Sequence[str]) -> list[FactSearchHit]:
    """The facts of these matches, each with a snippet marking the terms."""
    by_id = {m.id: m for m in found}
    if not by_id:
        return []
    d = Differentiator
    columns = (d.id, d.customer_id, d.text, d.category, d.channel, d.status, d.learned_at)
    rows = db.execute(select(*columns).where(d.id.in_(list(by_id)))).all()
    snippets = fulltext.snippets(db, FACTS_INDEX, list(by_id), terms)
    return [
        FactSearchHit.model_validate(
            {
                **row._asdict(),  # id, customer_id, category, channel, learned_at (text and status: below)
                "snippet": snippets.get(row.id) or fulltext.unmarked(row.text),
                "score": by_id[row.id].score,
                "matched_all_terms": by_id[row.id].all_terms,
                "outdated": row.status == DifferentiatorStatus.OUTDATED.value,
            }
        )
        for row in rows
    ]


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """Every differentiator learned about these customers (current or not, with who learned it, when and
    where: its provenance) and every acknowledgement of them, as stored."""
    facts = rows_about(db, Differentiator, "customer_id", customer_ids)
    return {
        "differentiators": facts,
        "acknowledgements": rows_about(db, Acknowledgement, "differentiator_id", ids_of(facts)),
    }


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete every differentiator learned about these customers and every acknowledgement of them, and
    their words from the search index."""
    facts = ids_where(db, Differentiator, "customer_id", customer_ids)
    acknowledgements = delete_about(db, Acknowledgement, "differentiator_id", facts)
    # A fact replaced by another of theirs points at it: unlink first, whatever order the chunks take.
    for chunk in chunks(facts, values_per_statement(db)):
        db.execute(update(Differentiator).where(Differentiator.id.in_(chunk)).values(replaced_by_id=None))
    deleted = delete_about(db, Differentiator, "id", facts)
    fulltext.purge(db, FACTS_INDEX)
    return {"acknowledgements": acknowledgements, "differentiators": deleted}

"""Use cases of the encounters domain: log an encounter, and what was learned in it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, Permission, Person
from segone.accounts.service import record_audit, require
from segone.channels import Channel
from segone.clock import utcnow
from segone.customers import service as customers
from segone.encounters.models import Encounter, RejectedSuggestion
from segone.encounters.schemas import EncounterCreate, EncounterOut, NoteSearchHit
from segone.errors import Invalid, NotFound
from segone.exporting import Batch, Column, Export, Kind
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.settings import DEFAULT_ENCOUNTER_DATE_FLOOR
from segone.storage import fulltext
from segone.storage.batching import chunks, values_per_statement
from segone.storage.subject import Rows, delete_about, ids_where, rows_about


def to_out_many(
    db: Session, encounters: list[Encounter], *, facts: dict[int, list[int]] | None = None
) -> list[EncounterOut]:
    """``facts``: the facts learned in each encounter, when the caller has read every fact of their
    customer (``knowledge.ids_by_encounter_of``)."""
    ids = [e.id for e in encounters]
    people = accounts.people_by_id(db, [e.employee_id for e in encounters])
    if facts is None:
        facts = knowledge.ids_by_encounter(db, ids)
    return [
        EncounterOut(
            id=e.id,
            customer_id=e.customer_id,
            employee=people[e.employee_id].email if e.employee_id in people else None,
            employee_name=people[e.employee_id].name if e.employee_id in people else None,
            channel=Channel(e.channel),
            occurred_at=e.occurred_at,
            duration_minutes=e.duration_minutes,
            notes=e.notes,
            cares_about=e.cares_about,
            worries_about=e.worries_about,
            listening_share=e.listening_share,
            differentiator_ids=facts.get(e.id, []),
            created_at=e.created_at,
        )
        for e in encounters
    ]


def get(db: Session, *, actor: Actor, encounter_id: int) -> Encounter:
    require(actor, Permission.READ_CUSTOMERS)
    encounter = db.get(Encounter, encounter_id)
    if encounter is None:
        raise NotFound(f"There is no encounter {encounter_id}.")
    return encounter


# Built once: every customer sheet and briefing reads it, and building costs as much as running it.
_OF_CUSTOMER = (
    select(Encounter)
    .where(Encounter.customer_id == bindparam("customer_id"))
    .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
    .limit(bindparam("limit"))
)


def list_for_customer(db: Session, *, actor: Actor, customer_id: int, limit: int = 100) -> list[Encounter]:
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    return list(db.scalars(_OF_CUSTOMER, {"customer_id": customer.id, "limit": limit}))


def list_by_employee(db: Session, *, actor: Actor, employee_id: int, limit: int = 20) -> list[Encounter]:
    """An employee's own most recent encounters, with any customer."""
    require(actor, Permission.READ_CUSTOMERS)
    stmt = (
        select(Encounter)
        .where(Encounter.employee_id == employee_id)
        .order_by(Encounter.occurred_at.desc(), Encounter.id.desc())
        .limit(limit)
    )
    return list(db.scalars(stmt))


# A clock a little ahead of ours (a phone, another server) must not make "just now" a future encounter.
CLOCK_SKEW = timedelta(minutes=5)


def check_when(occurred_at: datetime | None, *, date_floor: date) -> None:
    """Refuse an encounter dated in the future (beyond ``CLOCK_SKEW``) or before ``date_floor`` (UTC)."""
    if occurred_at is None:
        return
    if occurred_at > utcnow() + CLOCK_SKEW:
        raise Invalid.of_field(
            "occurred_at", "The encounter's date is in the future; log an encounter once it has happened."
        )
    if occurred_at < datetime.combine(date_floor, time(), tzinfo=UTC):
        raise Invalid.of_field(
            "occurred_at",
            f"The encounter's date is before {date_floor.isoformat()}, the earliest an encounter may have; "
            "check the year.",
        )


def record(
    db: Session,
    *,
    actor: Actor,
    customer_id: int,
    data: EncounterCreate,
    categories: CategoryList,
    employee_id: int | None = None,
    date_floor: date = DEFAULT_ENCOUNTER_DATE_FLOOR,
) -> Encounter:
    """Log an encounter, the differentiators learned in it and those shown to the customer
    (``data.acknowledge``), all in one transaction; ``date_floor`` is the settings'
    ``encounter_date_floor``."""
    require(actor, Permission.ADD_ENCOUNTERS)
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    check_when(data.occurred_at, date_floor=date_floor)
    encounter = Encounter(
        customer_id=customer.id,
        employee_id=employee_id if employee_id is not None else actor.user_id,
        channel=data.channel.value,
        occurred_at=data.occurred_at or utcnow(),
        duration_minutes=data.duration_minutes,
        notes=data.notes.strip(),
        cares_about=data.cares_about.strip(),
        worries_about=data.worries_about.strip(),
        listening_share=data.listening_share,
    )
    db.add(encounter)
    db.flush()
    customers.note_first_activity(db, {customer.id: encounter.occurred_at})
    record_audit(
        db,
        actor=actor,
        action=AuditAction.ENCOUNTER_RECORDED,
        customer_id=customer.id,
        summary=f"{data.channel.value.capitalize()} with {customer.name}"
        + (f" ({data.duration_minutes} min)" if data.duration_minutes else ""),
        details={"encounter_id": encounter.id},
    )
    for fact in data.facts:
        knowledge.add(
            db,
            actor=actor,
            customer_id=customer.id,
            data=DifferentiatorCreate(
                text=fact.text,
                category=fact.category,
                learned_at=encounter.occurred_at,
                encounter_id=encounter.id,
                channel=data.channel,
                confidence=fact.confidence,
            ),
            categories=categories,
            learned_by_id=encounter.employee_id,
        )
    if data.acknowledge:
        knowledge.acknowledge_shown(
            db,
            actor=actor,
            customer_id=customer.id,
            differentiator_ids=data.acknowledge,
            data=AcknowledgeRequest(encounter_id=encounter.id, how="in this encounter"),
        )
    return encounter


def last_encounter_at(db: Session, customer_ids: list[int]) -> dict[int, datetime]:
    if not customer_ids:
        return {}
    rows = db.execute(
        select(Encounter.customer_id, func.max(Encounter.occurred_at))
        .where(Encounter.customer_id.in_(customer_ids))
        .group_by(Encounter.customer_id)
    )
    return {customer_id: at for customer_id, at in rows}


def move_to(db: Session, *, from_customer_id: int, to_customer_id: int) -> int:
    """Hand every encounter of one customer record to another (used by merge)."""
    result = db.execute(
        update(Encounter)
        .where(Encounter.customer_id == from_customer_id)
        .values(customer_id=to_customer_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def listening_share(db: Session, *, start: datetime, end: datetime) -> float | None:
    """The mean listening share of the encounters in this period (None when none estimated one)."""
    mean = db.scalar(
        select(func.avg(Encounter.listening_share)).where(
            Encounter.occurred_at >= start, Encounter.occurred_at <= end
        )
    )
    return None if mean is None else round(float(mean), 4)


def check_with_customer(db: Session, *, encounter_id: int | None, customer_id: int) -> None:
    """Refuse an encounter id that is not an encounter with this customer (None passes)."""
    if encounter_id is None:
        return
    encounter = db.get(Encounter, encounter_id)
    if encounter is None or encounter.customer_id != customer_id:
        raise Invalid(f"Encounter {encounter_id} is not an encounter with customer {customer_id}.")


def count_for_customer(db: Session, *, actor: Actor, customer_id: int) -> int:
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    return int(db.scalar(select(func.count(Encounter.id)).where(Encounter.customer_id == customer.id)) or 0)


# ---- exports --------------------------------------------------------------------------------------------

EXPORT_BATCH = 10_000
EXPORT_COLUMNS = (
    Column("id", Kind.INTEGER),
    Column("customer_id", Kind.INTEGER),
    Column("customer"),
    Column("customer_name"),
    Column("employee"),
    Column("employee_name"),
    Column("channel"),
    Column("occurred_at", Kind.TIMESTAMP),
    Column("duration_minutes", Kind.INTEGER),
    Column("listening_share", Kind.FLOAT),
    Column("cares_about"),
    Column("worries_about"),
    Column("notes"),
    Column("facts_learned", Kind.INTEGER),
    Column("fact_ids"),
    Column("created_at", Kind.TIMESTAMP),
)
"""``customer`` is the customer's first identity (its id when it has none), ``employee`` an e-mail and
``fact_ids`` the ids of the facts learned in the encounter, separated by ``;``."""


def export_encounters(db: Session, *, actor: Actor, batch_size: int = EXPORT_BATCH) -> Export:
    """Every encounter, by id: with whom, by whom, how and when, what the customer cares and worries about,
    the listening share, the notes, and the facts learned in it.

    Entry points go through ``segone.views.exports.start``, which records the export in the audit trail.
    """
    require(actor, Permission.EXPORT_DATA)
    e = Encounter
    columns = (
        e.id,
        e.customer_id,
        e.employee_id,
        e.channel,
        e.occurred_at,
        e.duration_minutes,
        e.listening_share,
        e.cares_about,
        e.worries_about,
        e.notes,
        e.created_at,
    )
    page = select(*columns).order_by(e.id).limit(batch_size)

    def read(session: Session) -> Iterator[Batch]:
        people: dict[int, Person] = {}  # employees are few: each is looked up once per export
        after = 0
        while encounters := session.execute(page.where(e.id > after)).all():
            ids = [encounter.id for encounter in encounters]
            facts: dict[int, list[int]] = {}
            for chunk in chunks(ids, values_per_statement(session)):
                facts.update(knowledge.ids_by_encounter(session, list(chunk)))
            named = customers.names_and_first_identities(
                session, customer_ids=[encounter.customer_id for encounter in encounters]
            )
            people.update(accounts.people_by_id(session, {x.employee_id for x in encounters} - people.keys()))
            rows = []
            for encounter in encounters:
                name, identity = named.get(encounter.customer_id, ("", None))
                employee = people.get(encounter.employee_id) if encounter.employee_id else None
                learned = facts.get(encounter.id, [])
                rows.append(
                    {
                        **encounter._asdict(),
                        "customer": identity or str(encounter.customer_id),
                        "customer_name": name,
                        "employee": employee.email if employee else None,
                        "employee_name": employee.name if employee else None,
                        "facts_learned": len(learned),
                        "fact_ids": ";".join(str(fact_id) for fact_id in learned),
                    }
                )
            yield rows
            after = encounters[-1].id

    total = int(db.scalar(select(func.count(e.id))) or 0)
    return Export("encounters", EXPORT_COLUMNS, total, read)


# ---- full-text search over the notes (segone.search composes it with the facts) -------------------------

# Indexed by migration 0004.
NOTES_INDEX = fulltext.FullTextIndex("encounters", ("notes", "cares_about", "worries_about"))


def search_notes(db: Session, terms: Sequence[str], *, all_terms: bool, limit: int) -> list[fulltext.Match]:
    """Encounters whose notes, cares or worries hold every term (``all_terms``) or some, with their
    relevance; at most ``limit`` (the newest on SQLite)."""
    return fulltext.matches(db, NOTES_INDEX, terms, all_terms=all_terms, limit=limit)


def note_hits(db: Session, found: Sequence[fulltext.Match], terms: Sequence[str]) -> list[NoteSearchHit]:
    """The encounters of these matches, each with a snippet marking the terms (or the start of the text)."""
    if not found:
        return []
    matched = {m.id: m for m in found}
    e = Encounter
    texts = (e.notes, e.cares_about, e.worries_about)
    rows = db.execute(
        select(e.id, e.customer_id, e.channel, e.occurred_at, *texts).where(e.id.in_(list(matched)))
    ).all()
    snippets = fulltext.snippets(db, NOTES_INDEX, list(matched), terms)
    hits = []
    for row in rows:
        whole = " ".join(part for part in (row.notes, row.cares_about, row.worries_about) if part)
        match = matched[row.id]
        hits.append(
            NoteSearchHit(
                id=row.id,
                customer_id=row.customer_id,
                channel=row.channel,
                snippet=snippets.get(row.id) or fulltext.unmarked(whole[:200]),
                score=match.score,
                matched_all_terms=match.all_terms,
                occurred_at=row.occurred_at,
            )
        )
    return hits


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """Every encounter with these customers, notes included, as stored."""
    return {"encounters": rows_about(db, Encounter, "customer_id", customer_ids)}


def erase_suggestions_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete the sentences of these customers' notes kept as not to propose again; first, as they point
    at the facts an erasure deletes next."""
    encounters = ids_where(db, Encounter, "customer_id", customer_ids)
    return {"rejected_suggestions": delete_about(db, RejectedSuggestion, "encounter_id", encounters)}


def erase_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, int]:
    """Delete every encounter with these customers, notes included, and their words from the search index
    (after their facts and suggestions, which point at them)."""
    deleted = delete_about(db, Encounter, "customer_id", customer_ids)
    fulltext.purge(db, NOTES_INDEX)
    return {"encounters": deleted}

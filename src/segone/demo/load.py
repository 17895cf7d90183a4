"""Writing the demo into the operational store, and emptying the store for ``segone demo --reset``.

Users are made through the accounts service. Customers, identities, encounters, differentiators,
acknowledgements and their audit entries go in with bulk inserts (the per-row services would take minutes):
the demo's own customers (``load``), then the other customers of the CDNOW purchase history
(``load_purchase_history``), written as those services write them: the same columns, the same audit actions
and summaries, at the time each thing happened, so that every customer's history reads as if it had been
lived.

Everything is dated from the start of the load day (``timeline.demo_moment``), the clock included while
the demo writes (its users' records and audit entries): two loads on one day write the same store.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.passwords import hash_password
from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Permission, UserCreate
from segone.accounts.service import record_audits, require
from segone.clock import fixed_at, utcnow
from segone.customers import service as customers
from segone.customers.models import ConsentRecord, Customer, CustomerIdentity
from segone.customers.schemas import ConsentPurpose, ConsentSource, parse_identity
from segone.demo.generate import (
    DEFAULT_SEED,
    SYSTEM_EMAIL,
    PlannedCustomer,
    cdnow_purchases,
    generate,
    generate_purchase_history,
)
from segone.demo.offerings import load_catalogue
from segone.demo.timeline import demo_moment
from segone.demo.users import DEMO_PASSWORD, DEMO_USERS, DemoUser
from segone.encounters.models import Encounter
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.models import Acknowledgement, Differentiator
from segone.migrations.tables import Base
from segone.progress import Progress, silent
from segone.storage import bulk
from segone.storage.batching import is_postgres

_CUSTOMERS = cast(Table, Customer.__table__)
_IDENTITIES = cast(Table, CustomerIdentity.__table__)
_CONSENTS = cast(Table, ConsentRecord.__table__)
_ENCOUNTERS = cast(Table, Encounter.__table__)
_FACTS = cast(Table, Differentiator.__table__)
_ACKS = cast(Table, Acknowledgement.__table__)


class DemoSummary(BaseModel):
    """What ``segone demo`` loaded."""

    users: int
    customers: int
    people: int
    businesses: int
    differentiators: int
    acknowledged: int
    encounters: int
    empty_customers: int
    duplicates: list[tuple[int, int]]  # (the original record, its duplicate) — ready to merge
    offerings: int  # in the catalogue (``offerings.CATALOGUE``)
    day: date
    seconds: float


def customer_count(db: Session) -> int:
    """Every customer record, merged ones included: the store is empty only when this is 0."""
    return int(db.scalar(select(func.count(Customer.id))) or 0)


def empty_store(db: Session, *, actor: Actor) -> None:
    """Delete every row of every table (users included): the store as ``segone db upgrade`` leaves it."""
    require(actor, Permission.MANAGE_SETTINGS)
    tables = Base.metadata.sorted_tables
    if is_postgres(db):
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.expunge_all()
        return
    # Children go first, so each parent's foreign-key check finds an empty child table, except where a
    # table refers to itself: an index for the time of the delete keeps that check from scanning the
    # table once per row (minutes instead of milliseconds for tens of thousands of facts).
    helpers = []
    for table in tables:
        indexed = {tuple(c.name for c in index.columns) for index in table.indexes}
        for key in table.foreign_keys:
            column = key.parent
            if key.column.table is table and (column.name,) not in indexed and not column.unique:
                name = f"tmp_empty_{table.name}_{column.name}"
                db.execute(text(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table.name}" ("{column.name}")'))
                helpers.append(name)
    for table in reversed(tables):
        db.execute(table.delete())
    for name in helpers:
        db.execute(text(f'DROP INDEX "{name}"'))
    db.expunge_all()


def load(
    db: Session,
    *,
    actor: Actor,
    categories: CategoryList,
    seed: int = DEFAULT_SEED,
    people: int = 1500,
    businesses: int = 500,
    day: date | None = None,
    progress: Progress = silent,
) -> DemoSummary:
    """Load the demo as of ``day`` (default: today, UTC) into the store: its users (kept if they exist),
    its customers and its catalogue of offerings."""
    require(actor, Permission.MANAGE_SETTINGS)
    started = time.perf_counter()
    day = day or utcnow().date()
    now = demo_moment(day)
    with fixed_at(now):
        progress("Creating demo users", 0, len(DEMO_USERS))
        users = create_users(db, actor)
        progress("Creating demo users", len(DEMO_USERS), len(DEMO_USERS))
        plan = generate(seed=seed, now=now, categories=categories, people=people, businesses=businesses)
        counts = _write(db, plan.customers, users, categories, progress)
        progress("Importing the catalogue", 0, 1)
        catalogue = load_catalogue(db, actor=actor)
        progress("Importing the catalogue", 1, 1)
    return DemoSummary(
        users=len(users),
        customers=len(plan.customers),
        people=sum(1 for c in plan.customers if c.kind == "person"),
        businesses=sum(1 for c in plan.customers if c.kind == "business"),
        differentiators=counts["differentiators"],
        acknowledged=counts["acknowledged"],
        encounters=counts["encounters"],
        empty_customers=sum(1 for c in plan.customers if not c.facts and not c.encounters),
        duplicates=counts["duplicates"],
        offerings=catalogue.created + catalogue.updated + catalogue.unchanged,
        day=day,
        seconds=round(time.perf_counter() - started, 2),
    )


class HistorySummary(BaseModel):
    """The customers of the purchase history the demo wrote."""

    customers: int
    known: int  # with facts and encounters
    differentiators: int
    encounters: int


def load_purchase_history(
    db: Session,
    *,
    actor: Actor,
    categories: CategoryList,
    seed: int = DEFAULT_SEED,
    day: date,
    progress: Progress = silent,
) -> HistorySummary:
    """Write the CDNOW customers the store does not hold yet (the demo's consumers are the first ones),
    as of ``day``: named people with an e-mail, some of them known, so that an import of the purchases
    finds every buyer."""
    require(actor, Permission.MANAGE_SETTINGS)
    now = demo_moment(day)
    with fixed_at(now):
        users = create_users(db, actor)
        purchases = cdnow_purchases()
        held, _ = customers.identity_holders(
            db, system="cdnow", values=[f"{number:05d}" for number in purchases]
        )
        missing = set(purchases) - {int(value) for value in held}
        planned = generate_purchase_history(
            seed=seed,
            now=now,
            categories=categories,
            purchases={number: purchases[number] for number in missing},
        )
        counts = _write(db, planned, users, categories, progress)
    return HistorySummary(
        customers=len(planned),
        known=sum(1 for c in planned if c.facts),
        differentiators=counts["differentiators"],
        encounters=counts["encounters"],
    )


def create_users(db: Session, actor: Actor, users: Sequence[DemoUser] = DEMO_USERS) -> dict[str, int]:
    """The demo users' ids by e-mail, creating those that do not exist yet."""
    existing = accounts.user_ids_by_email(db, emails=[demo_user.email for demo_user in users])
    # They share one password, so one (deliberately slow) hash serves them all.
    password_hash: str | None = None
    ids = {}
    for demo_user in users:
        if demo_user.email not in existing:
            data = UserCreate(
                email=demo_user.email, name=demo_user.name, role=demo_user.role, team=demo_user.team
            )
            user = accounts.create(db, actor=actor, data=data)
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user.password_hash = password_hash
            existing[demo_user.email] = user.id
        ids[demo_user.email] = existing[demo_user.email]
    db.flush()
    return ids


def _write(
    db: Session,
    planned: list[PlannedCustomer],
    users: dict[str, int],
    categories: CategoryList,
    report: Progress,
) -> dict[str, Any]:
    connection = db.connection()
    labels = {c.name: c.label for c in categories.all}
    audit: list[AuditRecord] = []

    def entry(
        email: str,
        at: datetime,
        action: AuditAction,
        customer_id: int,
        summary: str,
        details: dict[str, Any],
    ) -> None:
        audit.append(AuditRecord(users.get(email), email, action, summary, customer_id, details, at))

    total = len(planned)
    report("Writing customers", 0, total)
    customer_ids = bulk.insert_returning_ids(
        connection,
        _CUSTOMERS,
        [
            {
                "kind": c.kind,
                "name": c.name,
                "attributes": c.attributes,
                "created_at": c.created_at,
                "updated_at": max([c.created_at] + [f.learned_at for f in c.facts]),
                "since": c.since,
                "merged_into_id": None,
                "merged_at": None,
            }
            for c in planned
        ],
    )
    identities: list[dict[str, Any]] = []
    ordered: dict[date, list[PlannedCustomer]] = {}
    for customer_id, customer in zip(customer_ids, planned, strict=True):
        keys = [parse_identity(raw) for raw in customer.identities]
        identities.extend(
            {"customer_id": customer_id, "system": s, "value": v, "created_at": customer.created_at}
            for s, v in keys
        )
        if customer.created_by == SYSTEM_EMAIL:
            ordered.setdefault(customer.created_at.date(), []).append(customer)
            continue
        entry(
            customer.created_by,
            customer.created_at,
            AuditAction.CUSTOMER_CREATED,
            customer_id,
            f"Customer {customer.name} created",
            {"identities": [f"{s}:{v}" for s, v in keys]},
        )
    # The web shop's new customers are recorded by the system as the events of each day's orders arrive:
    # one entry a day, as the events import writes one for the customers it creates.
    for made in ordered.values():
        audit.append(
            AuditRecord(
                None,
                SYSTEM_EMAIL,
                AuditAction.CUSTOMERS_CREATED_FROM_EVENTS,
                f"{len(made)} customers created for the web shop's orders",
                None,
                {
                    "count": len(made),
                    "identities": [c.identities[0] for c in made[:20]],
                    "source": "web shop",
                },
                max(c.created_at for c in made),
            )
        )
    bulk.insert_rows(connection, _IDENTITIES, identities)
    # The made-up customers agreed to everything, so the demo shows segments, scores and offers whatever
    # SEGONE_CONSENT_DEFAULT says; a record rather than the default, as an import of consent on file would.
    bulk.insert_rows(
        connection,
        _CONSENTS,
        [
            {
                "customer_id": customer_id,
                "purpose": purpose.value,
                "granted": True,
                "source": ConsentSource.IMPORT.value,
                "recorded_by_id": None,
                "recorded_by": "segone demo",
                "recorded_at": customer.created_at,
                "note": "Demo customer: consent on file.",
            }
            for customer_id, customer in zip(customer_ids, planned, strict=True)
            for purpose in ConsentPurpose
        ],
    )
    report("Writing customers", total, total)

    report("Writing encounters", 0, total)
    planned_encounters = [
        (cid, c, e) for cid, c in zip(customer_ids, planned, strict=True) for e in c.encounters
    ]
    encounter_ids = bulk.insert_returning_ids(
        connection,
        _ENCOUNTERS,
        [
            {
                "customer_id": cid,
                "employee_id": users[e.employee],
                "channel": e.channel,
                "occurred_at": e.occurred_at,
                "duration_minutes": e.duration_minutes,
                "notes": e.notes,
                "cares_about": e.cares_about,
                "worries_about": e.worries_about,
                "listening_share": e.listening_share,
                "created_at": e.occurred_at,
            }
            for cid, _c, e in planned_encounters
        ],
    )
    ids_of: dict[int, list[int]] = {}
    for encounter_id, (cid, customer, e) in zip(encounter_ids, planned_encounters, strict=True):
        ids_of.setdefault(cid, []).append(encounter_id)
        entry(
            e.employee,
            e.occurred_at,
            AuditAction.ENCOUNTER_RECORDED,
            cid,
            f"{e.channel.capitalize()} with {customer.name}"
            + (f" ({e.duration_minutes} min)" if e.duration_minutes else ""),
            {"encounter_id": encounter_id},
        )
    report("Writing encounters", total, total)

    report("Writing what we know", 0, total)
    planned_facts = [(cid, f) for cid, c in zip(customer_ids, planned, strict=True) for f in c.facts]
    fact_ids = bulk.insert_returning_ids(
        connection,
        _FACTS,
        [
            {
                "customer_id": cid,
                "text": f.text,
                "category": f.category,
                "learned_by_id": users[f.learned_by],
                "learned_at": f.learned_at,
                "encounter_id": ids_of[cid][f.encounter] if f.encounter is not None else None,
                "channel": f.channel,
                "confidence": f.confidence,
                "status": "current",
                "outdated_at": None,
                "replaced_by_id": None,
                "last_confirmed_at": f.learned_at,
                "created_at": f.learned_at,
                "updated_at": f.learned_at,
            }
            for cid, f in planned_facts
        ],
    )
    acknowledgements = []
    for fact_id, (cid, f) in zip(fact_ids, planned_facts, strict=True):
        entry(
            f.learned_by,
            f.learned_at,
            AuditAction.DIFFERENTIATOR_ADDED,
            cid,
            f"Learned ({labels.get(f.category, f.category)}): {f.text}",
            {"differentiator_id": fact_id},
        )
        ack = f.acknowledgement
        if ack is not None:
            acknowledgements.append(
                {
                    "differentiator_id": fact_id,
                    "acknowledged_by_id": users[ack.by],
                    "acknowledged_at": ack.at,
                    "encounter_id": ids_of[cid][ack.encounter] if ack.encounter is not None else None,
                    "how": ack.how,
                }
            )
            entry(
                ack.by,
                ack.at,
                AuditAction.DIFFERENTIATOR_ACKNOWLEDGED,
                cid,
                f"Showed the customer we know: {f.text}",
                {"differentiator_id": fact_id, "how": ack.how},
            )
    bulk.insert_rows(connection, _ACKS, acknowledgements)
    report("Writing what we know", total, total)

    report("Writing history", 0, len(audit))
    audit.sort(key=lambda record: record.at.timestamp() if record.at else 0.0)
    record_audits(db, audit)
    report("Writing history", len(audit), len(audit))
    duplicates = [
        (customer_ids[c.duplicate_of], cid)
        for cid, c in zip(customer_ids, planned, strict=True)
        if c.duplicate_of is not None
    ]
    return {
        "differentiators": len(fact_ids),
        "acknowledged": len(acknowledgements),
        "encounters": len(encounter_ids),
        "duplicates": duplicates,
    }

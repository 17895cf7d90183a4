"""Queries of the customers domain."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    Table,
    any_,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from segone.customers.models import ConsentRecord, Customer, CustomerIdentity
from segone.customers.schemas import CustomerRef
from segone.storage import bulk
from segone.storage.batching import (
    ROWS_PER_STATEMENT,
    array_literal,
    chunks,
    driver_rows,
    is_postgres,
    values_per_statement,
)
from segone.storage.patterns import contains_text

Key = tuple[str, str]
NewCustomer = tuple[str, str, dict[str, Any], Iterable[Key]]
"""(kind, name, attributes, identities) of a customer to insert."""

_CUSTOMERS = cast(Table, Customer.__table__)
_IDENTITIES = cast(Table, CustomerIdentity.__table__)
_CONSENTS = cast(Table, ConsentRecord.__table__)

ConsentKey = tuple[int, str]
"""(customer id, purpose)."""


def by_identity(db: Session, *, system: str, value: str) -> Customer | None:
    return db.scalar(
        select(Customer)
        .join(CustomerIdentity)
        .where(CustomerIdentity.system == system, CustomerIdentity.value == value)
    )


def identity_owners(db: Session, *, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which customer holds each of these identities, for those that are taken.

    Built for imports of many thousand keys: one query per system and batch, each answered from the
    (system, value) unique index.
    """
    if not keys:
        return {}
    by_system: dict[str, list[str]] = {}
    for system, value in dict.fromkeys(keys):
        by_system.setdefault(system, []).append(value)
    postgres = is_postgres(db)
    size = values_per_statement(db)
    owners: dict[tuple[str, str], int] = {}
    for system, values in by_system.items():
        if postgres:
            # One array parameter, each value looked up in the (system, value) index by a lateral
            # subquery: joined as a table, the planner hashed every identity of the system for each batch
            # (45 ms of the database's CPU at 100,000 customers, ten times that at a million) to find a
            # thousand; a LIMIT keeps the subquery from being pulled up into such a join. The driver's
            # rows: SQLAlchemy's, a thousand a batch, took a quarter of an events batch.
            query = (
                "SELECT wanted.value, found.customer_id FROM unnest(?::text[]) AS wanted(value) "
                f"CROSS JOIN LATERAL (SELECT i.customer_id FROM {_IDENTITIES.name} AS i "
                "WHERE i.system = ? AND i.value = wanted.value LIMIT 1) AS found"
            )
            for chunk in chunks(values, size):
                owners.update(
                    ((system, value), customer_id)
                    for value, customer_id in driver_rows(db, query, (_text_array(chunk), system))
                )
            continue
        # Inside SQLite's limit of bound parameters per statement.
        for chunk in chunks(values, size):
            batch = select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                CustomerIdentity.system == system, CustomerIdentity.value.in_(chunk)
            )
            for value, customer_id in db.execute(batch):
                owners[(system, value)] = customer_id
    return owners


def _text_array(values: Sequence[str]) -> str:
    import pyarrow as pa  # here: the CLI's commands that never look identities up must not load Arrow

    return array_literal(pa.array(values, pa.string()))


def profiles_by_id(db: Session, *, customer_ids: list[int]) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """(name, kind, attributes) of many customers at once, by id (for imports)."""
    size = values_per_statement(db)
    columns = select(Customer.id, Customer.name, Customer.kind, Customer.attributes)
    found: dict[int, tuple[str, str, dict[str, Any]]] = {}
    for chunk in chunks(customer_ids, size):
        for customer_id, name, kind, attributes in db.execute(columns.where(_id_condition(db, chunk))):
            found[customer_id] = (name, kind, dict(attributes or {}))
    return found


def search_statement(query: str | None, kind: str | None) -> Select[Customer]:
    stmt = select(Customer).where(Customer.merged_into_id.is_(None))
    if kind:
        stmt = stmt.where(Customer.kind == kind)
    if query and query.strip():
        identity_match = (
            select(CustomerIdentity.customer_id)
            .where(contains_text(CustomerIdentity.value, query.strip()))
            .scalar_subquery()
        )
        conditions: list[ColumnElement[bool]] = [
            contains_text(Customer.name, query.strip()),
            Customer.id.in_(identity_match),
        ]
        if query.strip().isdecimal() and int(query.strip()) < 2**31:  # ids are 32-bit on PostgreSQL
            conditions.append(Customer.id == int(query.strip()))
        stmt = stmt.where(or_(*conditions))
    return stmt


def count(db: Session, stmt: Select[Customer]) -> int:
    return int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _id_condition(db: Session, ids: Sequence[int]) -> ColumnElement[bool]:
    # One array parameter on PostgreSQL: a long IN list costs more to send and plan than to answer.
    if is_postgres(db):
        return Customer.id == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
    return Customer.id.in_(ids)


def refs_and_merges(db: Session, *, customer_ids: Sequence[int]) -> dict[int, tuple[CustomerRef, int | None]]:
    """(the customer's id, kind and name; merged_into_id) of many customers at once, by id."""
    size = values_per_statement(db)
    columns = select(Customer.id, Customer.kind, Customer.name, Customer.merged_into_id)
    found: dict[int, tuple[CustomerRef, int | None]] = {}
    for chunk in chunks(customer_ids, size):
        for customer_id, kind, name, merged_into in db.execute(columns.where(_id_condition(db, chunk))):
            found[customer_id] = (CustomerRef(customer_id, kind, name), merged_into)
    return found


def identity_count(db: Session, *, system: str) -> int:
    query = select(func.count()).select_from(_IDENTITIES).where(_IDENTITIES.c.system == system)
    return int(db.scalar(query) or 0)


def identities_of(db: Session, *, system: str) -> tuple[list[str], list[int]]:
    """Every value of one system and the customer holding it (a million rows in about a second)."""
    rows = driver_rows(db, f"SELECT value, customer_id FROM {_IDENTITIES.name} WHERE system = ?", (system,))
    return [row[0] for row in rows], [row[1] for row in rows]


def lower_since(db: Session, earliest: dict[int, datetime]) -> int:
    """Set ``since`` to the given time for those of these customers whose ``since`` is later; how many."""
    if is_postgres(db):
        return _lower_since_postgres(db, earliest)
    lowered: list[dict[str, Any]] = []
    for customer_id, since in _sinces(db, sorted(earliest)):
        at = earliest[customer_id]
        if (at if isinstance(since, datetime) else _sqlite_text(at)) < since:
            lowered.append({"_id": customer_id, "_since": at})
    statement = (
        _CUSTOMERS.update()
        .where(_CUSTOMERS.c.id == bindparam("_id"))
        .values(since=bindparam("_since"), updated_at=_CUSTOMERS.c.updated_at)
    )
    connection = db.connection()
    for batch in chunks(lowered, ROWS_PER_STATEMENT):
        connection.execute(statement, list(batch))
    _expire_since(db, {row["_id"] for row in lowered})
    return len(lowered)


def _lower_since_postgres(db: Session, earliest: dict[int, datetime]) -> int:
    """``lower_since`` in one statement: the comparison in the database, nothing read back (an events
    batch names a thousand customers, and few of them change).

    The ids are given twice: joined with the times only, the planner hashed every customer for each batch
    (46 ms of the database's CPU at 100,000 customers); ``id = ANY`` has it read just these from the
    primary key (7 ms)."""
    import pyarrow as pa  # here: the CLI's commands that never lower a since must not load Arrow

    ids = sorted(earliest)
    statement = (
        f"UPDATE {_CUSTOMERS.name} AS c SET since = u.at "
        "FROM unnest(%s::bigint[], %s::timestamptz[]) AS u(id, at) "
        "WHERE c.id = ANY(%s::bigint[]) AND c.id = u.id AND c.since > u.at"
    )
    days = pa.array([earliest[i] for i in ids], pa.timestamp("us", tz="UTC"))
    id_list = array_literal(pa.array(ids, pa.int64()))
    result = db.connection().exec_driver_sql(statement, (id_list, array_literal(days), id_list))
    _expire_since(db, earliest)
    return int(result.rowcount or 0)


def _expire_since(db: Session, customer_ids: Collection[int]) -> None:
    """Forget ``since`` of the session's loaded customers among these: found from the session's side, which
    holds a few, where a lookup per customer of an events batch took 3 ms of its 29."""
    for key in list(db.identity_map.keys()):
        if key[0] is Customer and key[1][0] in customer_ids:
            db.expire(db.identity_map[key], ["since"])


def _sinces(db: Session, ids: Sequence[int]) -> list[tuple[int, Any]]:
    """(id, since) of the customers, as the driver gives them (an events batch names thousands: the
    type processing of each row took half the batch's time): on SQLite ``since`` is SQLAlchemy's text
    of a UTC time, which sorts as the time does."""
    if is_postgres(db):
        return driver_rows(db, f"SELECT id, since FROM {_CUSTOMERS.name} WHERE id = ANY(?)", (list(ids),))
    found: list[tuple[int, Any]] = []
    for chunk in chunks(ids, values_per_statement(db)):
        marks = ", ".join("?" for _ in chunk)
        found.extend(
            driver_rows(db, f"SELECT id, since FROM {_CUSTOMERS.name} WHERE id IN ({marks})", tuple(chunk))
        )
    return found


def _sqlite_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def insert_customers(db: Session, customers: Sequence[NewCustomer], *, at: datetime) -> list[int]:
    """Bulk insert of new customers with their identities; their ids, in order."""
    connection = db.connection()
    ids = bulk.insert_returning_ids(
        connection,
        _CUSTOMERS,
        [
            {
                "kind": kind,
                "name": name,
                "attributes": attributes,
                "created_at": at,
                "updated_at": at,
                "since": at,
                "merged_into_id": None,
                "merged_at": None,
            }
            for kind, name, attributes, _identities in customers
        ],
    )
    insert_identities(
        db,
        [
            (customer_id, system, value)
            for customer_id, (*_, identities) in zip(ids, customers, strict=True)
            for system, value in identities
        ],
        at=at,
    )
    return ids


def insert_identities(db: Session, identities: Sequence[tuple[int, str, str]], *, at: datetime) -> None:
    """Bulk insert of (customer id, system, value) identities."""
    connection = db.connection()
    for chunk in chunks(identities, 10_000):
        bulk.insert_rows(
            connection,
            _IDENTITIES,
            [
                {"customer_id": customer_id, "system": system, "value": value, "created_at": at}
                for customer_id, system, value in chunk
            ],
        )


# --- exports: keyset pages (``id > last ORDER BY id LIMIT n``), never the whole table at once -------------


def attribute_keys(db: Session) -> list[str]:
    """Every attribute name of the customers not merged into another, sorted; counted in the database."""
    if is_postgres(db):
        query = (
            f"SELECT DISTINCT json_object_keys(attributes) FROM {_CUSTOMERS.name} "
            "WHERE merged_into_id IS NULL AND json_typeof(attributes) = 'object'"
        )
    else:
        query = (
            f"SELECT DISTINCT a.key FROM {_CUSTOMERS.name}, json_each({_CUSTOMERS.name}.attributes) AS a "
            "WHERE merged_into_id IS NULL AND json_type(attributes) = 'object'"
        )
    return sorted(db.scalars(text(query)))


def latest_consents(db: Session, *, customer_ids: Iterable[int]) -> dict[ConsentKey, bool]:
    """``{(customer_id, purpose): granted}`` of the latest record of each, for these customers: their
    records read in the order of the index (customer, purpose, id), the last of each purpose kept (a
    customer's history is short; grouping the whole table for each batch of customers is not)."""
    postgres = is_postgres(db)
    found: dict[ConsentKey, bool] = {}
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        among_ids = "= ANY(?)" if postgres else f"IN ({', '.join('?' * len(chunk))})"
        query = (
            f"SELECT customer_id, purpose, granted FROM {_CONSENTS.name} "
            f"WHERE customer_id {among_ids} ORDER BY customer_id, purpose, id"
        )
        params = (list(chunk),) if postgres else tuple(chunk)
        found.update(
            ((customer_id, purpose), bool(granted))
            for customer_id, purpose, granted in driver_rows(db, query, params)
        )
    return found


def latest_consents_between(db: Session, *, first: int, last: int) -> dict[ConsentKey, bool]:
    """``latest_consents`` of the customers with ids from first to last: a page of an export."""
    query = (
        f"SELECT customer_id, purpose, granted FROM {_CONSENTS.name} "
        "WHERE customer_id BETWEEN ? AND ? ORDER BY customer_id, purpose, id"
    )
    rows = driver_rows(db, query, (first, last))
    return {(customer_id, purpose): bool(granted) for customer_id, purpose, granted in rows}


def insert_consents(
    db: Session,
    consents: Sequence[tuple[int, str, bool]],
    *,
    source: str,
    recorded_by_id: int | None,
    recorded_by: str,
    at: datetime,
) -> None:
    """Bulk insert of (customer id, purpose, granted) consent records, all from one source and person."""
    connection = db.connection()
    for chunk in chunks(consents, 10_000):
        bulk.insert_rows(
            connection,
            _CONSENTS,
            [
                {
                    "customer_id": customer_id,
                    "purpose": purpose,
                    "granted": granted,
                    "source": source,
                    "recorded_by_id": recorded_by_id,
                    "recorded_by": recorded_by,
                    "recorded_at": at,
                    "note": None,
                }
                for customer_id, purpose, granted in chunk
            ],
        )


def export_page(
    db: Session, *, after: int, limit: int
) -> tuple[list[tuple[int, str, str, dict[str, Any]]], int]:
    """(id, kind, name, attributes) of the customers not merged into another among the next ``limit``
    records by id, and the last id read (``after`` when there are no more).

    Merged records are skipped here rather than in the query: then the only plan is a walk of the primary
    key, also before PostgreSQL has statistics of a table just imported (otherwise it may read every
    customer through the merged_into_id index and sort them, for each page).
    """
    rows = driver_rows(
        db,
        f"SELECT id, kind, name, attributes, merged_into_id FROM {_CUSTOMERS.name} "
        "WHERE id > ? ORDER BY id LIMIT ?",
        (after, limit),
    )
    # SQLite gives the JSON as text; psycopg decodes it already.
    live = [
        (customer_id, kind, name, json.loads(attributes) if isinstance(attributes, str) else attributes or {})
        for customer_id, kind, name, attributes, merged_into in rows
        if merged_into is None
    ]
    return live, rows[-1][0] if rows else after


def identities_between(db: Session, *, first: int, last: int) -> list[tuple[int, str, str]]:
    """(customer id, system, value) of the identities of the customers with ids from first to last, each
    customer's in the order they were added."""
    query = (
        f"SELECT customer_id, system, value FROM {_IDENTITIES.name} "
        "WHERE customer_id BETWEEN ? AND ? ORDER BY customer_id, id"
    )
    return cast(list[tuple[int, str, str]], driver_rows(db, query, (first, last)))


def names_and_first_identities(
    db: Session, *, customer_ids: Sequence[int]
) -> dict[int, tuple[str, str | None]]:
    """(name, first identity as ``system:value`` or None) of many customers at once, by id."""
    size = values_per_statement(db)
    found: dict[int, tuple[str, str | None]] = {}
    for chunk in chunks(customer_ids, size):
        names = dict(db.execute(select(Customer.id, Customer.name).where(_id_condition(db, chunk))).all())
        first: dict[int, str] = {}
        held = select(CustomerIdentity.customer_id, CustomerIdentity.system, CustomerIdentity.value)
        condition = (
            CustomerIdentity.customer_id == any_(bindparam("ids", list(chunk), type_=ARRAY(Integer)))
            if is_postgres(db)
            else CustomerIdentity.customer_id.in_(chunk)
        )
        for customer_id, system, value in db.execute(held.where(condition).order_by(CustomerIdentity.id)):
            first.setdefault(customer_id, f"{system}:{value}")
        found.update({customer_id: (name, first.get(customer_id)) for customer_id, name in names.items()})
    return found

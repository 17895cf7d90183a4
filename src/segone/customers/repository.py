"""Queries of the customers domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, String, any_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from segone.customers.models import Customer, CustomerIdentity


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
    postgres = db.get_bind().dialect.name == "postgresql"
    owners: dict[tuple[str, str], int] = {}
    for system, values in by_system.items():
        if postgres:
            # One array parameter joined as a table: the planner probes the index per value, where a
            # long IN list of parameters is compared row by row against every identity of the system.
            wanted = (
                func.unnest(bindparam("values", type_=ARRAY(String)))
                .table_valued("value")
                .render_derived(name="wanted")
            )
            stmt = (
                select(CustomerIdentity.value, CustomerIdentity.customer_id)
                .join(wanted, CustomerIdentity.value == wanted.c.value)
                .where(CustomerIdentity.system == system)
            )
            batches = [(stmt, {"values": values[i : i + 50_000]}) for i in range(0, len(values), 50_000)]
        else:
            # Inside SQLite's limit of bound parameters per statement.
            batches = [
                (
                    select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                        CustomerIdentity.system == system, CustomerIdentity.value.in_(values[i : i + 5000])
                    ),
                    {},
                )
                for i in range(0, len(values), 5000)
            ]
        for batch, params in batches:
            for value, customer_id in db.execute(batch, params):
                owners[(system, value)] = customer_id
    return owners


def profiles_by_id(db: Session, *, customer_ids: list[int]) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """(name, kind, attributes) of many customers at once, by id (for imports)."""
    postgres = db.get_bind().dialect.name == "postgresql"
    size = 50_000 if postgres else 5000
    columns = select(Customer.id, Customer.name, Customer.kind, Customer.attributes)
    found: dict[int, tuple[str, str, dict[str, Any]]] = {}
    for start in range(0, len(customer_ids), size):
        chunk = customer_ids[start : start + size]
        # One array parameter on PostgreSQL: a long IN list costs more to send and plan than to answer.
        condition = (
            Customer.id == any_(bindparam("ids", chunk, type_=ARRAY(Integer)))
            if postgres
            else Customer.id.in_(chunk)
        )
        for customer_id, name, kind, attributes in db.execute(columns.where(condition)):
            found[customer_id] = (name, kind, dict(attributes or {}))
    return found


def search_statement(query: str | None, kind: str | None) -> Select[Customer]:
    stmt = select(Customer).where(Customer.merged_into_id.is_(None))
    if kind:
        stmt = stmt.where(Customer.kind == kind)
    if query and query.strip():
        pattern = f"%{query.strip().lower()}%"
        identity_match = (
            select(CustomerIdentity.customer_id)
            .where(func.lower(CustomerIdentity.value).like(pattern))
            .scalar_subquery()
        )
        conditions: list[ColumnElement[bool]] = [
            func.lower(Customer.name).like(pattern),
            Customer.id.in_(identity_match),
        ]
        if query.strip().isdecimal() and int(query.strip()) < 2**31:  # ids are 32-bit on PostgreSQL
            conditions.append(Customer.id == int(query.strip()))
        stmt = stmt.where(or_(*conditions))
    return stmt


def count(db: Session, stmt: Select[Customer]) -> int:
    return int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

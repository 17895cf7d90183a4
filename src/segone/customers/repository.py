"""Queries of the customers domain."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from segone.customers.models import Customer, CustomerIdentity


def by_identity(db: Session, *, system: str, value: str) -> Customer | None:
    return db.scalar(
        select(Customer)
        .join(CustomerIdentity)
        .where(CustomerIdentity.system == system, CustomerIdentity.value == value)
    )


def identity_owners(db: Session, *, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which customer holds each of these identities, for those that are taken."""
    if not keys:
        return {}
    owners: dict[tuple[str, str], int] = {}
    # Chunked: one query per few hundred keys stays inside every backend's parameter limit.
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        values = {v for _, v in chunk}
        rows = db.execute(
            select(CustomerIdentity.system, CustomerIdentity.value, CustomerIdentity.customer_id).where(
                CustomerIdentity.value.in_(values)
            )
        )
        wanted = set(chunk)
        for system, value, customer_id in rows:
            if (system, value) in wanted:
                owners[(system, value)] = customer_id
    return owners


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
        if query.strip().isdigit():
            conditions.append(Customer.id == int(query.strip()))
        stmt = stmt.where(or_(*conditions))
    return stmt


def count(db: Session, stmt: Select[Customer]) -> int:
    return int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

"""The top-10 exercise: the most valuable (or best known) customers' sheets side by side."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.behaviour import service as behaviour
from segone.customers import service as customers
from segone.errors import NotFound
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts import service as knowledge
from segone.views.customer_sheet import customer_sheet
from segone.views.schemas import CustomerSheet

Ranking = Literal["clv", "value", "facts"]
TOP = 10


def top_customers(
    db: Session,
    *,
    actor: Actor,
    by: Ranking = "clv",
    chosen: list[int] | None = None,
    categories: CategoryList,
    freshness_months: int,
    currency: str,
) -> list[CustomerSheet]:
    """The sheets of the ``chosen`` customers (unknown ids left out), or of the top ten by ranking."""
    sheets = []
    for customer_id in chosen or ranked(db, by=by):
        try:
            sheet = customer_sheet(
                db,
                actor=actor,
                customer_id=customer_id,
                categories=categories,
                freshness_months=freshness_months,
                currency=currency,
            )
        except NotFound:
            continue
        sheets.append(sheet)
    return sheets


def ranked(db: Session, *, by: Ranking, limit: int = TOP) -> list[int]:
    """The ids of the first customers by CLV, by what they spent, or by how many facts we know; merged
    records left out."""
    found: list[int] = []
    offset = 0
    while len(found) < limit:
        batch = _ids(db, by, offset, limit)
        active = customers.active_ids(db, batch)
        found.extend(i for i in batch if i in active)
        if len(batch) < limit:
            break
        offset += len(batch)
    return found[:limit]


def _ids(db: Session, by: Ranking, offset: int, limit: int) -> list[int]:
    if by == "facts":
        return knowledge.customer_ids_by_facts(db, offset=offset, limit=limit)
    return behaviour.customer_ids_by_value(db, by=by, offset=offset, limit=limit)

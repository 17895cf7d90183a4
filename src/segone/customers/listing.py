"""A page of customers with how much we know about each: the one listing the API and the CLI share.

It lives beside ``merge.py`` because, like a merge, it reads other domains (knowledge, encounters).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customers import service as customers
from segone.customers.schemas import CustomerKind, CustomerPage, CustomerSummary
from segone.encounters import service as encounters
from segone.knowledge.facts import service as knowledge


def page(
    db: Session,
    *,
    actor: Actor,
    query: str | None = None,
    kind: CustomerKind | None = None,
    offset: int = 0,
    limit: int = 50,
) -> CustomerPage:
    rows, total = customers.search(db, actor=actor, query=query, kind=kind, offset=offset, limit=limit)
    ids = [c.id for c in rows]
    counts = knowledge.counts_by_customer(db, ids)
    last_seen = encounters.last_encounter_at(db, ids)
    items = [
        CustomerSummary(
            id=c.id,
            kind=CustomerKind(c.kind),
            name=c.name,
            identities=[i.key for i in c.identities],
            differentiators=counts.get(c.id, (0, 0))[0],
            acknowledged=counts.get(c.id, (0, 0))[1],
            last_encounter_at=last_seen.get(c.id),
        )
        for c in rows
    ]
    return CustomerPage(items=items, total=total, offset=offset, limit=limit)

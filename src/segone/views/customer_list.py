"""The customer list: customers with how much we know about each, the same in the API, the CLI and the web."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customers import service as customers
from segone.customers.schemas import CustomerKind, CustomerOut
from segone.encounters import service as encounters
from segone.knowledge.facts import service as knowledge
from segone.views.schemas import CustomerPage, CustomerSummary


def page(
    db: Session,
    *,
    actor: Actor,
    query: str | None = None,
    kind: CustomerKind | None = None,
    offset: int = 0,
    limit: int = 50,
) -> CustomerPage:
    """Customers whose name, id or identity contains ``query``, by name; merged records left out."""
    rows, total = customers.search(db, actor=actor, query=query, kind=kind, offset=offset, limit=limit)
    items = summaries(db, [customers.to_out(c) for c in rows])
    return CustomerPage(items=items, total=total, offset=offset, limit=limit)


def recently_active(db: Session, *, actor: Actor, limit: int = 8) -> list[CustomerSummary]:
    """The customers whose records changed most recently, newest first."""
    rows = customers.recently_active(db, actor=actor, limit=limit)
    return summaries(db, [customers.to_out(c) for c in rows])


def summaries(db: Session, found: list[CustomerOut]) -> list[CustomerSummary]:
    ids = [c.id for c in found]
    counts = knowledge.counts_by_customer(db, ids)
    last_seen = encounters.last_encounter_at(db, ids)
    return [
        CustomerSummary(
            id=c.id,
            kind=c.kind,
            name=c.name,
            identities=c.identities,
            differentiators=counts.get(c.id, (0, 0))[0],
            acknowledged=counts.get(c.id, (0, 0))[1],
            last_encounter_at=last_seen.get(c.id),
        )
        for c in found
    ]

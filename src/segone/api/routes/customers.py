"""Customers: create, read, update, search and page, merge, history."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from segone.accounts.schemas import AuditEntryOut
from segone.api.deps import CurrentActor, Db
from segone.customers import merge as merging
from segone.customers import service as customers
from segone.customers.schemas import (
    CustomerCreate,
    CustomerKind,
    CustomerOut,
    CustomerPage,
    CustomerSummary,
    CustomerUpdate,
    MergeOut,
    MergeRequest,
)
from segone.encounters import service as encounters
from segone.knowledge import service as knowledge

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("", response_model=CustomerPage)
def list_customers(
    db: Db,
    actor: CurrentActor,
    q: str | None = Query(default=None, max_length=200, description="Name, id or any identity."),
    kind: CustomerKind | None = None,
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=500),
) -> CustomerPage:
    rows, total = customers.search(db, actor=actor, query=q, kind=kind, offset=offset, limit=limit)
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


@router.post("", response_model=CustomerOut, status_code=status.HTTP_201_CREATED)
def create_customer(db: Db, actor: CurrentActor, data: CustomerCreate) -> CustomerOut:
    return customers.to_out(customers.create(db, actor=actor, data=data))


@router.get("/by-identity/{identity}", response_model=CustomerOut)
def get_customer_by_identity(db: Db, actor: CurrentActor, identity: str) -> CustomerOut:
    return customers.to_out(customers.get_by_identity(db, actor=actor, identity=identity))


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(db: Db, actor: CurrentActor, customer_id: int) -> CustomerOut:
    return customers.to_out(customers.get(db, actor=actor, customer_id=customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut)
def update_customer(db: Db, actor: CurrentActor, customer_id: int, data: CustomerUpdate) -> CustomerOut:
    return customers.to_out(customers.update(db, actor=actor, customer_id=customer_id, data=data))


@router.post("/{customer_id}/merge", response_model=MergeOut)
def merge_customer(db: Db, actor: CurrentActor, customer_id: int, data: MergeRequest) -> MergeOut:
    survivor, moved = merging.merge(db, actor=actor, survivor_id=customer_id, merged_id=data.merged_id)
    return MergeOut(survivor=customers.to_out(survivor), merged_id=data.merged_id, moved=moved)


@router.get("/{customer_id}/history", response_model=list[AuditEntryOut])
def customer_history(
    db: Db, actor: CurrentActor, customer_id: int, limit: int = Query(default=200, ge=1, le=1000)
) -> list[AuditEntryOut]:
    entries = customers.history(db, actor=actor, customer_id=customer_id, limit=limit)
    return [AuditEntryOut.model_validate(e) for e in entries]

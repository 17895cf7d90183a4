"""Merging two records of the same customer, so that nothing either record holds is lost.

Every identity, differentiator and encounter of the merged record moves to the survivor. Attributes
the survivor lacks are copied; where both hold a different value the survivor's stays and the other is
kept in the merge record's snapshot, with the whole merged record as it was. The merged record stays,
pointing at the survivor, so old ids, links and later events that name its identities still resolve.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, AuditAction, Permission
from segone.accounts.service import record_audit, require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.models import Customer, CustomerIdentity, CustomerMerge
from segone.encounters import service as encounters
from segone.errors import Conflict, Invalid
from segone.knowledge.facts import service as knowledge


def merge(db: Session, *, actor: Actor, survivor_id: int, merged_id: int) -> tuple[Customer, dict[str, int]]:
    require(actor, Permission.MERGE_CUSTOMERS)
    if survivor_id == merged_id:
        raise Invalid("A customer cannot be merged into itself.")
    survivor = customers.get(db, actor=actor, customer_id=survivor_id, follow_merges=False)
    merged = customers.get(db, actor=actor, customer_id=merged_id, follow_merges=False)
    for record in (survivor, merged):
        if record.merged_into_id is not None:
            raise Conflict(f"Customer {record.id} was merged into customer {record.merged_into_id} already.")

    snapshot = customers.to_out(merged).model_dump(mode="json")
    attributes = dict(survivor.attributes or {})
    conflicts = {}
    for key, value in (merged.attributes or {}).items():
        if key not in attributes:
            attributes[key] = value
        elif attributes[key] != value:
            conflicts[key] = value
    survivor.attributes = attributes
    snapshot["conflicting_attributes"] = conflicts

    identities = db.execute(
        update(CustomerIdentity)
        .where(CustomerIdentity.customer_id == merged.id)
        .values(customer_id=survivor.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    moved = {
        "identities": int(identities or 0),
        "differentiators": knowledge.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
        "encounters": encounters.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
    }
    merged.merged_into_id = survivor.id
    merged.merged_at = utcnow()
    db.add(
        CustomerMerge(
            survivor_id=survivor.id,
            merged_id=merged.id,
            merged_by_id=actor.user_id,
            snapshot=snapshot,
        )
    )
    # Records merged into the merged one earlier now point straight at the survivor.
    db.execute(
        update(Customer)
        .where(Customer.merged_into_id == merged.id, Customer.id != merged.id)
        .values(merged_into_id=survivor.id)
        .execution_options(synchronize_session="fetch")
    )
    db.flush()
    db.expire(survivor, ["identities"])
    db.expire(merged, ["identities"])
    summary = f"Merged customer {merged.id} ({merged.name}) into {survivor.id} ({survivor.name})"
    details = {"survivor_id": survivor.id, "merged_id": merged.id, "moved": moved}
    record_audit(
        db,
        actor=actor,
        action=AuditAction.CUSTOMER_MERGED,
        customer_id=survivor.id,
        summary=summary,
        details=details,
    )
    record_audit(
        db,
        actor=actor,
        action=AuditAction.CUSTOMER_MERGED_AWAY,
        customer_id=merged.id,
        summary=summary,
        details=details,
    )
    return survivor, moved

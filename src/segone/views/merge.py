"""Merging two records of the same customer, so that nothing either record holds is lost.

Every differentiator, encounter, message, recovery case, promise and predicted rating of the merged record
moves to the survivor through its own domain; the customers domain then folds the records themselves
(identities, attributes, the merge record, the history): see ``customers.service.merge_records``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customer_service.promises import service as promises
from segone.customer_service.recovery import service as recovery
from segone.customers import service as customers
from segone.customers.schemas import CustomerOut
from segone.encounters import service as encounters
from segone.knowledge.facts import service as knowledge
from segone.personalisation.messages import service as messages
from segone.quality import service as quality
from segone.views.schemas import MergePreview


def merge(
    db: Session, *, actor: Actor, survivor_id: int, merged_id: int
) -> tuple[CustomerOut, dict[str, int]]:
    """Fold ``merged_id`` into ``survivor_id``; returns the survivor and what moved, by kind."""
    survivor, merged = customers.check_merge(db, actor=actor, survivor_id=survivor_id, merged_id=merged_id)
    moved = {
        "differentiators": knowledge.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
        "encounters": encounters.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
        "messages": messages.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
        "recovery_cases": recovery.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
        "promises": promises.move_to(db, from_customer_id=merged.id, to_customer_id=survivor.id),
        "rating_predictions": quality.move_predictions_to(
            db, from_customer_id=merged.id, to_customer_id=survivor.id
        ),
    }
    kept, counts = customers.merge_records(
        db, actor=actor, survivor_id=survivor.id, merged_id=merged.id, moved=moved
    )
    return customers.to_out(kept), counts


def preview(db: Session, *, actor: Actor, survivor_id: int, duplicate_id: int) -> MergePreview:
    """What a merge would move and which details differ; changes nothing."""
    survivor = customers.to_out(customers.get(db, actor=actor, customer_id=survivor_id))
    duplicate = customers.to_out(customers.get(db, actor=actor, customer_id=duplicate_id))
    facts, acknowledged = knowledge.counts_by_customer(db, [duplicate.id]).get(duplicate.id, (0, 0))
    ours = survivor.attributes
    return MergePreview(
        customer=survivor,
        duplicate=duplicate,
        differentiators=facts,
        acknowledged=acknowledged,
        encounters=encounters.count_for_customer(db, actor=actor, customer_id=duplicate.id),
        conflicts={k: (ours[k], v) for k, v in duplicate.attributes.items() if k in ours and ours[k] != v},
    )

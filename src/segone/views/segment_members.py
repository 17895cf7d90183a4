"""A segment's customers by name: the segmentation domain knows who is in a segment, the customers domain
what they are called."""

from __future__ import annotations

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customers import service as customers
from segone.customers.schemas import CustomerKind
from segone.segmentation import service as segmentation
from segone.views.schemas import SegmentMember, SegmentMembers


def segment_members(
    db: Session, *, actor: Actor, version_id: int, node_id: int, offset: int = 0, limit: int = 25
) -> SegmentMembers:
    """One page of the customers of a segment (every leaf below it), by customer number, with names."""
    found = segmentation.member_page(
        db, actor=actor, version_id=version_id, node_id=node_id, offset=offset, limit=limit
    )
    (segment,) = segmentation.subtree(db, actor=actor, version_id=version_id, node_id=node_id, levels=0)
    ids = [customer for customer, _ in found]
    names = customers.names_by_id(db, ids)
    kinds = customers.kinds_by_id(db, ids)
    return SegmentMembers(
        items=[
            SegmentMember(
                id=customer,
                name=names.get(customer, f"Customer {customer}"),
                kind=CustomerKind(kinds.get(customer, CustomerKind.PERSON.value)),
                leaf=leaf,
            )
            for customer, leaf in found
        ],
        total=segment.size,
        offset=offset,
        limit=limit,
    )

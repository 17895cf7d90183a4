"""The customers of a segment or of an audience, page by page, with their names and ids elsewhere: what
campaigns and personalisation read through the API (segmentation gives the ids, customers the names); and
an audience's hand changes, named, for its page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.customers import service as customers
from segone.segmentation import service as segmentation
from segone.views.schemas import (
    AudienceMemberOut,
    AudienceMemberPage,
    MemberOut,
    NamedAudienceEdit,
    SegmentMemberPage,
)


def _named(
    db: Session, customer_ids: Sequence[int], leaves: Sequence[int | None] | None = None
) -> list[MemberOut]:
    found = customers.names_and_first_identities(db, customer_ids=customer_ids)
    named = []
    for customer_id, leaf in zip(customer_ids, leaves or [None] * len(customer_ids), strict=True):
        name, identity = found.get(customer_id, ("", None))
        named.append(MemberOut(customer_id=customer_id, name=name, identity=identity, leaf=leaf))
    return named


def segment_members(
    db: Session, *, actor: Actor, version_id: int, node_id: int, offset: int = 0, limit: int = 50
) -> SegmentMemberPage:
    """A page of a segment's customers (every leaf below it), by customer number, named, each with their
    leaf: what the explorer page and the API list."""
    found = segmentation.member_page(
        db, actor=actor, version_id=version_id, node_id=node_id, offset=offset, limit=limit
    )
    (segment,) = segmentation.subtree(db, actor=actor, version_id=version_id, node_id=node_id, levels=0)
    items = _named(db, [customer for customer, _ in found], [leaf for _, leaf in found])
    return SegmentMemberPage(
        version_id=version_id, node_id=node_id, items=items, total=segment.size, offset=offset, limit=limit
    )


def audience_members(
    db: Session, *, actor: Actor, audience_id: int, offset: int = 0, limit: int = 50
) -> AudienceMemberPage:
    page, total = segmentation.audience_members(
        db, actor=actor, audience_id=audience_id, limit=limit, offset=offset
    )
    named = _named(db, [m.customer_id for m in page])
    items = [
        AudienceMemberOut(**member.model_dump(), added_by_hand=m.added_by_hand)
        for member, m in zip(named, page, strict=True)
    ]
    return AudienceMemberPage(audience_id=audience_id, items=items, total=total, offset=offset, limit=limit)


def audience_edits(db: Session, *, actor: Actor, audience_id: int) -> list[NamedAudienceEdit]:
    """The customers added and removed by hand, the latest first, by whom and when, each named: what the
    audience's page lists."""
    edits = segmentation.audience_edits(db, actor=actor, audience_id=audience_id)
    names = customers.names_by_id(db, (e.customer_id for e in edits))
    return [NamedAudienceEdit(**e.model_dump(), name=names.get(e.customer_id, "")) for e in edits]

"""Who moved where between two versions: each customer's segment at one depth in both, the customers who
moved between them, and the segments that appeared, vanished, split or merged.

Node ids mean nothing across versions, so a segment is recognised by its conditions: two segments with the
same conditions from the root are the same segment. A segment *split* when no segment of the later version
holds most of its customers and at least two hold a fifth or more each; a segment was *merged* into when it
takes at least a fifth of its customers from each of two or more earlier segments.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.segmentation.models import Segment, SegmentMembership
from segone.segmentation.schemas import DiffOut, DiffSegment, Move

SHARE = 0.2  # "at least a fifth": enough of a segment to call a part of it a part


def diff(db: Session, *, before: int, after: int, depth: int) -> DiffOut:
    old = _segments_at(db, before, depth)
    new = _segments_at(db, after, depth)
    old_of = _segment_of_customer(db, before, old.ancestor)
    new_of = _segment_of_customer(db, after, new.ancestor)
    moves = Counter((old_of[c], new_of[c]) for c in old_of.keys() & new_of.keys())
    old_keys = {tuple(s.conditions) for s in old.segments.values()}
    new_keys = {tuple(s.conditions) for s in new.segments.values()}
    split = _spread(moves, sources=True)
    merged = _spread(moves, sources=False)
    return DiffOut(
        before=before,
        after=after,
        depth=depth,
        segments_before=sorted(old.segments.values(), key=lambda s: s.node_id),
        segments_after=sorted(new.segments.values(), key=lambda s: s.node_id),
        moves=[Move(before=a, after=b, customers=n) for (a, b), n in sorted(moves.items())],
        stayed=sum(
            n for (a, b), n in moves.items() if old.segments[a].conditions == new.segments[b].conditions
        ),
        appeared=sorted(s.node_id for s in new.segments.values() if tuple(s.conditions) not in old_keys),
        vanished=sorted(s.node_id for s in old.segments.values() if tuple(s.conditions) not in new_keys),
        split=split,
        merged=merged,
        new_customers=len(new_of.keys() - old_of.keys()),
        gone_customers=len(old_of.keys() - new_of.keys()),
    )


class _Level:
    def __init__(self, segments: dict[int, DiffSegment], ancestor: dict[int, int]) -> None:
        self.segments = segments
        self.ancestor = ancestor  # every node -> its segment at the depth (itself when shallower)


def _segments_at(db: Session, version_id: int, depth: int) -> _Level:
    rows = db.execute(
        select(Segment.node_id, Segment.parent_node_id, Segment.depth, Segment.size, Segment.conditions)
        .where(Segment.version_id == version_id)
        .order_by(Segment.node_id)
    ).all()
    parents = {parent for _, parent, _, _, _ in rows if parent is not None}
    ancestor: dict[int, int] = {}
    segments: dict[int, DiffSegment] = {}
    # Node ids are breadth-first, so a parent is always seen before its children.
    for node_id, parent, node_depth, size, conditions in rows:
        if node_depth > depth and parent is not None:
            ancestor[node_id] = ancestor[parent]
            continue
        ancestor[node_id] = node_id
        # The level's segments: its nodes, and the leaves above it (a node above it with children is not).
        if node_depth == depth or node_id not in parents:
            segments[node_id] = DiffSegment(node_id=node_id, conditions=list(conditions), size=size)
    return _Level(segments, ancestor)


def _segment_of_customer(db: Session, version_id: int, ancestor: dict[int, int]) -> dict[int, int]:
    rows = db.execute(
        select(SegmentMembership.customer_id, SegmentMembership.node_id).where(
            SegmentMembership.version_id == version_id
        )
    )
    return {customer: ancestor[leaf] for customer, leaf in rows}


def _spread(moves: Counter[tuple[int, int]], *, sources: bool) -> list[int]:
    """Earlier segments whose customers spread over two or more later ones (``sources``), or later ones
    gathered from two or more earlier ones."""
    totals: Counter[int] = Counter()
    parts: dict[int, list[int]] = {}
    for (a, b), n in moves.items():
        key = a if sources else b
        totals[key] += n
        parts.setdefault(key, []).append(n)
    found = []
    for key, counts in parts.items():
        big = [n for n in counts if n >= SHARE * totals[key]]
        most_stay_together = max(counts) > totals[key] / 2
        if len(big) >= 2 and not (sources and most_stay_together):
            found.append(key)
    return sorted(found)

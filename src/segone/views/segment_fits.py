"""A purchase model per segment: the segments of a segmentation version at one depth (segmentation) with a
model fitted to each and compared with one for everyone (behaviour), for the CLI, the API and the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.behaviour import service as behaviour
from segone.behaviour.service import GroupFits
from segone.segmentation import service as segmentation
from segone.segmentation.schemas import SegmentOut
from segone.settings import Settings
from segone.storage.engine import session_scope

DEFAULT_DEPTH = 2


@dataclass(frozen=True)
class SegmentFits:
    version_id: int
    depth: int
    fits: GroupFits
    segments: dict[int, SegmentOut]  # by node id: each fitted group's segment

    def as_dict(self) -> dict[str, Any]:
        found = self.fits.as_dict()
        for group in found["groups"]:
            segment = self.segments[group["group"]]
            group["segment"] = segment.node_id
            group["conditions"] = segment.conditions
            del group["group"]
        del found["pooled"]["group"]
        return {"version_id": self.version_id, "depth": self.depth, **found}


def segment_fits(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    actor: Actor,
    version_id: int | None = None,
    depth: int = DEFAULT_DEPTH,
    model: str = "bgnbd",
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    min_customers: int = behaviour.MIN_GROUP_CUSTOMERS,
) -> SegmentFits:
    """``model`` fitted to each segment at ``depth`` of the version (the latest finished one by default)
    and to everyone in them; the store is read first, in a transaction of its own, then the fits run."""
    require(actor, Permission.RUN_ANALYTICS)  # before reading the segments, which need less
    with session_scope(sessions) as db:
        placed, segments = segmentation.segments_at_depth(db, actor=actor, version_id=version_id, depth=depth)
        chosen = segments[0].version_id
    fits = behaviour.fit_by_group(
        actor=actor,
        data_dir=settings.data_dir,
        analytics_url=settings.analytics_url,
        groups=placed,
        model=model,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        min_customers=min_customers,
    )
    return SegmentFits(version_id=chosen, depth=depth, fits=fits, segments={s.node_id: s for s in segments})

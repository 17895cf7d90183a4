"""``segone offers refresh``: every customer's offers, with their reasons, computed and stored.

1. the run is recorded first, so that a failure is recorded too;
2. the purchase events that name an offering are read by the analytics engine, the catalogue, the
   customers, the audiences the rules name and the current facts from the store (``reading``);
3. the models are fitted and the customers ranked ``matching.BATCH`` at a time, with progress; each batch's
   offers are written under the new run, which pages do not read yet;
4. one transaction marks the run done and deletes the offers of the runs before it: a page reads the old
   offers or the new ones, never a mix, and a failed run leaves the old ones and says why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, delete
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.schemas import ConsentPurpose
from segone.personalisation import reading
from segone.personalisation.matching import BATCH, Match, Matcher, blend_of
from segone.personalisation.models import Recommendation, RecommendationRun
from segone.personalisation.schemas import RecommendationRunOut
from segone.progress import Progress, silent
from segone.settings import Settings
from segone.storage import bulk, leases
from segone.storage.engine import session_scope

_RECOMMENDATIONS = cast(Table, Recommendation.__table__)
STAGE = "Ranking and storing offers"
REFRESH = "An offers refresh"


@dataclass
class _Clock:
    seconds: dict[str, float]
    started: float = 0.0

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.started, 3)
        self.started = now


def refresh(
    sessions: sessionmaker[Session], settings: Settings, *, actor: Actor, progress: Progress = silent
) -> RecommendationRunOut:
    """Recompute and store every customer's offers (``SEGONE_OFFERS_PER_CUSTOMER`` each at most), in
    several transactions of ``sessions``; needs the analytics permission."""
    require(actor, Permission.RUN_ANALYTICS)
    blend = blend_of(settings)
    with session_scope(sessions) as db:
        run = RecommendationRun(settings=blend.described(), seconds={})
        # One refresh at a time; one left "running" by a killed process is marked failed on the way.
        leases.take(db, RecommendationRun, run, what=REFRESH, lease_seconds=settings.lease_seconds)
        run_id = run.id
    try:
        with leases.Heartbeat(
            sessions, RecommendationRun, run_id, lease_seconds=settings.lease_seconds
        ) as heartbeat:
            _refresh(sessions, settings, actor, run_id, progress, heartbeat)
    except BaseException as exc:
        with session_scope(sessions) as db:
            db.execute(delete(Recommendation).where(Recommendation.run_id == run_id))
            failed = db.get(RecommendationRun, run_id)
            if failed is not None:
                failed.status = "failed"
                failed.finished_at = utcnow()
                failed.message = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    with session_scope(sessions) as db:
        done = db.get(RecommendationRun, run_id)
        assert done is not None
        return RecommendationRunOut.model_validate(done)


def _refresh(
    sessions: sessionmaker[Session],
    settings: Settings,
    actor: Actor,
    run_id: int,
    progress: Progress,
    heartbeat: leases.Heartbeat,
) -> None:
    clock = _Clock({}, time.perf_counter())
    progress("Reading purchase events", 0, None)
    bought = reading.purchases(settings, actor=actor)
    clock.lap("events")
    with session_scope(sessions) as db:
        inputs, notes = reading.read(db, actor=actor, bought=bought)
        # Their purchases still shape the models, anonymously; no offer is stored for them.
        unwilling = customers.without_consent(
            db,
            purposes=[ConsentPurpose.PROFILING, ConsentPurpose.PERSONALISATION],
            default_granted=settings.consent_granted_by_default,
        )
    clock.lap("store")
    matcher = Matcher(inputs, blend_of(settings), progress=progress)
    clock.lap("models")

    customers_with = written = 0
    total = matcher.n_customers
    for start in range(0, total, BATCH):
        progress(STAGE, start, total)
        rows = np.arange(start, min(start + BATCH, total), dtype=np.int64)
        found = [
            matches
            for matches in matcher.rank(rows, k=settings.offers_per_customer)
            if not matches or matches[0].customer_id not in unwilling
        ]
        records = [_record(run_id, matcher, match) for matches in found for match in matches]
        customers_with += sum(1 for matches in found if matches)
        written += len(records)
        if records:
            heartbeat.check(REFRESH)  # a run taken for dead writes nothing more: another may have started
            with session_scope(sessions) as db:
                bulk.insert_rows(db.connection(), _RECOMMENDATIONS, records)
    progress(STAGE, total, total)
    clock.lap("ranking and writing")

    heartbeat.check(REFRESH)
    with session_scope(sessions) as db:
        db.execute(delete(Recommendation).where(Recommendation.run_id < run_id))
        run = db.get(RecommendationRun, run_id)
        assert run is not None
        run.status = "done"
        run.finished_at = utcnow()
        run.customers = customers_with
        run.recommendations = written
        run.offerings = int(matcher.active.sum())
        run.purchases = matcher.purchases_read
        run.facts = matcher.facts_read
        run.message = " ".join(notes) or None
        clock.lap("swap")
        run.seconds = dict(clock.seconds)


def _record(run_id: int, matcher: Matcher, match: Match) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "customer_id": match.customer_id,
        "rank": match.rank,
        "offering_id": matcher.inputs.offers[match.offer].id,
        "score": match.score,
        "collaborative": match.collaborative,
        "content": match.content,
        "popularity": match.popularity,
        "reasons": match.reasons,
    }

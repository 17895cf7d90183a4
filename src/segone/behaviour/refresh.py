"""``segone behaviour refresh``: profiles and model scores computed on the analytics engine, written back.

One refresh, as of a day:

1. staged API events are flushed into the dataset, so everything received counts;
2. events of merged records are counted for their survivor;
3. the engine computes ``behaviour_profile``, each customer's recent purchase days (the timeline the
   customer page plots) and the weekly RFM summary, in three queries;
4. a purchase model (Pareto/NBD by default, ``--model`` or ``SEGONE_BEHAVIOUR_MODEL``; with ``best`` the
   one of ``evaluation.compare`` on the events' default split) and Gamma-Gamma are fitted on the summary
   and score every customer (``scores``); ``models["selection"]`` records which model scored and why;
5. the operational store's ``behaviour_profiles`` is replaced: on PostgreSQL in one transaction (a page
   sees the old profiles or the new ones, never a mix, and a failed refresh leaves the old ones); on
   SQLite a chunk of customers per transaction, so that people's edits are not locked out for the whole
   write (``_write_profiles``: each customer has their old profile or their new one, never none). Either
   way a failed refresh says so in its row of ``behaviour_refreshes``.

One refresh runs at a time: its row holds a lease (``storage.leases``) that a heartbeat renews, so a
refresh whose process was killed reads as failed, and a new one is refused only while one truly runs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, cast

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.compute as pc
from ibis import BaseBackend
from ibis.expr.types import Table
from sqlalchemy import Table as SqlTable
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from segone import processes
from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.analytics import backend
from segone.behaviour import evaluation, ingest, metrics, scores
from segone.behaviour.dataset import EventDataset
from segone.behaviour.models import BehaviourProfile, BehaviourRefresh
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.schemas import ConsentPurpose
from segone.errors import Conflict, Invalid
from segone.progress import Progress, silent
from segone.settings import Settings
from segone.storage import bulk, leases
from segone.storage.batching import ROWS_PER_STATEMENT, among, is_postgres
from segone.storage.engine import session_scope

WHAT = "A behaviour refresh"
TIMELINE_DAYS = 120  # purchase days kept per customer for the page's plot
WRITE_CHUNK = 5_000  # PostgreSQL: a fraction of a second of its work, after which a job gives way
_PROFILES = cast(SqlTable, BehaviourProfile.__table__)
_SUMMARY_UNIT = "week"
_COLUMNS_READ = ("customer_id", "type", "ts", "value", "quantity", "channel", "reason")
BEST = "best"
MODELS = (*scores.PURCHASE_MODELS, BEST)  # what --model and SEGONE_BEHAVIOUR_MODEL take
DEFAULT_MODEL = "pareto-nbd"
MIN_HOLDOUT_DAYS = 7  # a shorter holdout says too little to choose a model by
COMPARING = "Comparing the purchase models on a holdout"


@dataclass
class RefreshReport:
    refresh_id: int
    as_of: date
    events: int
    customers: int
    staged_flushed: int
    skipped_customers: int
    models: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        return data


def checked_as_of(as_of: date | None) -> date:
    """The day profiles are computed as of: today (UTC) by default, never a day still to come."""
    today = utcnow().date()
    if as_of is not None and as_of > today:
        raise Invalid(f"--as-of {as_of.isoformat()} is in the future; profiles describe what has happened.")
    return as_of or today


def refresh(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    actor: Actor,
    as_of: date | None = None,
    progress: Progress = silent,
    con: BaseBackend | None = None,
    dataset: EventDataset | None = None,
    run_id: int | None = None,
    model: str | None = None,
) -> RefreshReport:
    """Recompute every customer's profile and scores as of the end of ``as_of`` (default: today, UTC).

    ``model`` (one of ``MODELS``; default: ``settings.behaviour_model``) is the purchase model that scores
    the customers; ``best`` compares them first (``_choose``). Runs in several transactions of
    ``sessions`` (the run is recorded first, so a failure is recorded too). ``run_id`` is a run ``start``
    recorded; without it the refresh starts its own. While another refresh runs, this one is refused
    (``Conflict``).
    """
    require(actor, Permission.RUN_ANALYTICS)
    as_of = checked_as_of(as_of)
    asked = checked_model(model or settings.behaviour_model)
    if run_id is None:
        run_id = start(sessions, settings, actor=actor, as_of=as_of)
    elif not leases.adopt(sessions, BehaviourRefresh, run_id):  # recorded by a server worker, run here
        raise Conflict(f"Behaviour refresh run {run_id} is no longer running; start it again.")
    report = _Stages(progress)
    try:
        with leases.Heartbeat(
            sessions, BehaviourRefresh, run_id, lease_seconds=settings.lease_seconds
        ) as heartbeat:
            return _refresh(
                sessions,
                settings,
                run_id,
                as_of,
                report,
                heartbeat,
                con=con,
                dataset=dataset,
                asked=asked,
                actor=actor,
            )
    except BaseException as exc:
        with session_scope(sessions) as db:
            failed = db.get(BehaviourRefresh, run_id)
            if failed is not None:
                failed.status = "failed"
                failed.finished_at = utcnow()
                failed.message = f"{type(exc).__name__}: {exc}"[:2000]
        raise


def checked_model(model: str) -> str:
    """``model`` if it is one of ``MODELS``, else ``Invalid``."""
    if model not in MODELS:
        raise Invalid(f"The behaviour model must be one of {', '.join(MODELS)}, not {model!r}.")
    return model


def start(sessions: sessionmaker[Session], settings: Settings, *, actor: Actor, as_of: date | None) -> int:
    """Record a refresh as running and return its id, or refuse (``Conflict``) while another one runs.

    A refresh recorded as running whose process has died is marked failed on the way (``storage.leases``).
    """
    require(actor, Permission.RUN_ANALYTICS)
    with session_scope(sessions) as db:
        run = BehaviourRefresh(
            as_of=checked_as_of(as_of),
            horizon_weeks=settings.behaviour_horizon_weeks,
            annual_discount_rate=settings.behaviour_discount_rate,
            models={},
        )
        leases.take(db, BehaviourRefresh, run, what=WHAT, lease_seconds=settings.lease_seconds)
        return int(run.id)


def _refresh(
    sessions: sessionmaker[Session],
    settings: Settings,
    run_id: int,
    as_of: date,
    stages: _Stages,
    heartbeat: leases.Heartbeat,
    *,
    con: BaseBackend | None,
    dataset: EventDataset | None,
    asked: str,
    actor: Actor,
) -> RefreshReport:
    dataset = dataset or ingest.dataset_of(settings.data_dir)
    stages.start("Flushing staged events")
    flushed = ingest.flush_staged(sessions, dataset=dataset)
    stages.done()

    own_connection = con is None
    con = con or backend.connect(settings.analytics_url, settings.data_dir)
    try:
        with session_scope(sessions) as db:
            survivors = customers.final_survivors(db)
            known = customers.current_ids(db)
            unwilling = customers.without_consent(
                db, purposes=[ConsentPurpose.PROFILING], default_granted=settings.consent_granted_by_default
            )
        stages.start("Computing behaviour profiles")
        # De-duplicating the dataset is the costliest step: done once, kept by the engine for both queries
        # (a temporary table on DuckDB, a persisted frame on Spark), with only the columns they read.
        events = _for_survivors(metrics.until(dataset.read(con), as_of), survivors).select(*_COLUMNS_READ)
        with events.cache() as cached:
            profile = _profiles(cached, as_of)
            stages.done()
            choice = _Choice(asked, asked)
            if asked == BEST:
                stages.start(COMPARING)
                choice = _choose(cached, actor)
                stages.done()
            stages.start("Fitting purchase and spend models")
            summary = backend.to_arrow(metrics.rfm_summary(cached, as_of, _SUMMARY_UNIT, by="customer_id"))
        scored = scores.score_customers(
            summary,
            horizon_weeks=settings.behaviour_horizon_weeks,
            annual_discount_rate=settings.behaviour_discount_rate,
            model=choice.model,
        )
        scored.models["selection"] = choice.record(scored.scorer)
        scored.notes[:0] = choice.notes
        stages.done()
        event_count = int(profile.column("events").to_numpy().sum()) if profile.num_rows else 0
    finally:
        if own_connection:
            con.disconnect()

    rows = _joined(profile, scored.table)
    in_store = pc.is_in(rows.column("customer_id"), value_set=pa.array(known, pa.int64()))
    skipped = rows.num_rows - pc.sum(in_store.cast(pa.int64())).as_py() if rows.num_rows else 0
    notes = list(scored.notes)
    if skipped:
        notes.append(
            f"{skipped} customer ids in the events are not in the store (events imported into another "
            "store?); their profiles were not written."
        )
        rows = rows.filter(in_store)
    rows = _without_scores(rows, unwilling)

    stages.start("Writing profiles", rows.num_rows)
    heartbeat.check(WHAT)
    heartbeat.renew()  # a full lease for the writing
    with session_scope(sessions) as db:
        _write_profiles(db, rows, run_id, as_of, stages)
        run = db.get(BehaviourRefresh, run_id)
        assert run is not None
        run.status = "done"
        run.finished_at = utcnow()
        run.events = event_count
        run.customers = rows.num_rows
        run.models = scored.models
        run.message = " ".join(notes) or None
    stages.done()
    return RefreshReport(
        refresh_id=run_id,
        as_of=as_of,
        events=event_count,
        customers=rows.num_rows,
        staged_flushed=flushed,
        skipped_customers=int(skipped),
        models=scored.models,
        notes=notes,
        seconds=stages.seconds,
    )


@dataclass
class _Choice:
    """The purchase model to score with, and why: asked for by name, or the best of a comparison."""

    asked: str
    model: str
    why: str = ""
    comparison: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def record(self, scorer: str | None) -> dict[str, Any]:
        """What ``BehaviourRefresh.models["selection"]`` keeps: the model that scored (None: none could be
        fitted), the one asked for, why, and the comparison behind ``best``."""
        why = self.why or ("the default" if self.asked == DEFAULT_MODEL else "asked for by name")
        if scorer is not None and scorer != self.model:
            why = (
                f"{scores.LABELS[scorer]} instead of {scores.LABELS[self.model]}: no customer seems to "
                "have stopped buying, and both then say the same"
            )
        return {
            "model": scorer,
            "asked": self.asked,
            "why": why,
            "comparison": self.comparison,
        }


def _choose(events: Table, actor: Actor) -> _Choice:
    """``best``: the purchase model with the lowest holdout error on the events' default split
    (``evaluation.compare``), or Pareto/NBD, with a note, when the models cannot be compared there."""
    try:
        start, end = evaluation.default_period(events)
        if (end - start).days < MIN_HOLDOUT_DAYS:
            raise Invalid(
                f"the events' second half, the holdout, is {(end - start).days} days long; a comparison "
                f"needs {MIN_HOLDOUT_DAYS}"
            )
        ranked = evaluation.compare(events, start, end, "week", actor=actor, by="customer_id")
        if ranked[0].n_customers < scores.MIN_CUSTOMERS:
            raise Invalid(
                f"{ranked[0].n_customers} customers bought up to {start.isoformat()}; a comparison needs "
                f"{scores.MIN_CUSTOMERS}"
            )
    except (Invalid, ValueError, ArithmeticError) as exc:
        reason = str(exc).rstrip(".")
        return _Choice(
            BEST,
            DEFAULT_MODEL,
            why=f"the models could not be compared ({reason}); Pareto/NBD, the default",
            notes=[
                f"The purchase models could not be compared on a holdout ({reason}), so Pareto/NBD, the "
                "default, scored the customers."
            ],
        )
    best = ranked[0]
    reason = evaluation.why_best(ranked)
    comparison = {
        "calibration_end": start.isoformat(),
        "holdout_end": end.isoformat(),
        "time_unit": best.time_unit,
        "customers": best.n_customers,
        "ranking": [e.model for e in ranked],
        "winner": best.model,
        "reason": reason,
        "mean_absolute_error": {e.model: round(e.mean_absolute_error, 6) for e in ranked},
        "root_mean_squared_error": {e.model: round(e.root_mean_squared_error, 6) for e in ranked},
    }
    return _Choice(
        BEST,
        best.model,
        why=f"the best on the holdout {start.isoformat()} to {end.isoformat()}: {reason}",
        comparison=comparison,
        notes=[
            f"{best.label} scored the customers: of the three purchase models fitted to the purchases up "
            f"to {start.isoformat()}, it predicted those to {end.isoformat()} best ({reason})."
        ],
    )


def _write_profiles(db: Session, rows: pa.Table, run_id: int, as_of: date, stages: _Stages) -> None:
    """Replace the stored profiles by ``rows``; the caller's transaction marks the run done after.

    PostgreSQL replaces them in the caller's one transaction: its writers lock rows, so the customers and
    facts people edit meanwhile are not held up, and a page sees the old profiles or the new ones. SQLite
    has one write lock for the whole file: held for a whole write-back (20 s for a million customers) it
    would keep every writer waiting past its busy timeout. There each chunk of customers is replaced in a
    transaction of its own (a customer has their old profile or their new one, never none) and the lock
    is let go between chunks; the profiles of customers this refresh no longer has go last.
    """
    whole = is_postgres(db)
    # On SQLite a chunk holds the lock for a fraction of a second (2,000 rows: well under 0.1 s).
    size = WRITE_CHUNK if whole else ROWS_PER_STATEMENT
    if whole:
        db.execute(delete(BehaviourProfile))
    for offset in range(0, rows.num_rows, size):
        # In a job, after each chunk the database's process rests as long as it worked (give_way).
        started = time.perf_counter()
        chunk = rows.slice(offset, size).to_pylist()
        for row in chunk:
            row["refresh_id"] = run_id
            row["as_of"] = as_of
        if not whole:
            ids = [row["customer_id"] for row in chunk]
            db.execute(delete(BehaviourProfile).where(among(db, BehaviourProfile.customer_id, ids)))
        bulk.insert_rows(db.connection(), _PROFILES, chunk)
        if not whole:
            db.commit()
        stages.advance(min(offset + size, rows.num_rows))
        processes.give_way(time.perf_counter() - started)
    if not whole:
        db.execute(delete(BehaviourProfile).where(BehaviourProfile.refresh_id != run_id))


# --- on the engine ------------------------------------------------------------------------------------------


def _profiles(events: Table, as_of: date) -> pa.Table:
    """``behaviour_profile`` by ``customer_id`` with each customer's ``timeline`` (JSON text), as Arrow."""
    profile = metrics.behaviour_profile(events, as_of, by="customer_id")
    timeline = _timelines(events, as_of)
    joined = profile.left_join(timeline, profile.customer_id == timeline.customer_id).drop(
        "customer_id_right"
    )
    joined = joined.mutate(timeline=joined.timeline.fill_null("[]"))
    return backend.to_arrow(joined.order_by("customer_id"))


def _timelines(events: Table, as_of: date) -> Table:
    """The last ``TIMELINE_DAYS`` purchase days of each customer as ``[["day", value, purchases], ...]``.

    Built as text by the engine (no per-row Python). Spark cannot order inside ``group_concat``, so the
    days are in no particular order and readers sort them (``profiles.timeline_points``).
    """
    tx = metrics.transactions(metrics.until(events, as_of), by="customer_id")
    newest = ibis.row_number().over(group_by=tx.customer_id, order_by=ibis.desc(tx.day))
    tx = tx.mutate(_newest=newest).filter(ibis._._newest < TIMELINE_DAYS)
    value = tx.value.round(2).cast(dt.string).fill_null("null")
    item = '["' + tx.day.cast(dt.string) + '",' + value + "," + tx.purchases.cast(dt.string) + "]"
    items = tx.mutate(_item=item)
    per = items.group_by("customer_id").aggregate(_items=items._item.group_concat(","))
    return per.select("customer_id", timeline="[" + per._items + "]")


def _for_survivors(events: Table, survivors: dict[int, int]) -> Table:
    """Events of merged records re-labelled with their survivor's id (the store keeps merges, not events)."""
    if not survivors:
        return events
    mapping = ibis.memtable(
        pa.table(
            {
                "_merged": pa.array(list(survivors), pa.int64()),
                "_survivor": pa.array(list(survivors.values()), pa.int64()),
            }
        )
    )
    joined = events.left_join(mapping, events.customer_id == mapping._merged)
    return joined.mutate(customer_id=joined._survivor.fill_null(joined.customer_id)).drop(
        "_merged", "_survivor"
    )


# --- in the operational store -------------------------------------------------------------------------------


def _without_scores(rows: pa.Table, unwilling: set[int]) -> pa.Table:
    """The rows with no scores for the customers without profiling consent: their purchases still count in
    the models' fits, anonymously, but nothing predicted about them is stored."""
    if not unwilling or not rows.num_rows:
        return rows
    hidden = pc.is_in(rows.column("customer_id"), value_set=pa.array(sorted(unwilling), pa.int64()))
    for name in scores.SCORE_COLUMNS:
        if name in rows.column_names:
            column = rows.column(name)
            at = rows.column_names.index(name)
            rows = rows.set_column(at, name, pc.if_else(hidden, pa.scalar(None, column.type), column))
    return rows


def _joined(profile: pa.Table, scored: pa.Table) -> pa.Table:
    """The profile rows with their scores (customers who never bought have none)."""
    positions = pc.index_in(profile.column("customer_id"), value_set=scored.column("customer_id"))
    for name in scores.SCORE_COLUMNS:
        column = scored.column(name).combine_chunks() if scored.num_rows else pa.array([], pa.float64())
        profile = profile.append_column(name, pc.take(column, positions))
    return profile


# --- progress -----------------------------------------------------------------------------------------------


class _Stages:
    """Reports each stage to the progress callback and keeps how long each took."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._stage = ""
        self._total = 1
        self._started = 0.0
        self._done = -1

    def start(self, stage: str, total: int = 1) -> None:
        self._stage, self._total, self._started = stage, max(total, 1), time.perf_counter()
        self._done = -1
        self.advance(0)

    def advance(self, done: int) -> None:
        if done != self._done:
            self.progress(self._stage, done, self._total)
        self._done = done

    def done(self) -> None:
        self.advance(self._total)
        self.seconds[self._stage] = round(time.perf_counter() - self._started, 3)

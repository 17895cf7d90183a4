"""The behaviour domain's use cases: what the last refresh wrote (one customer's behaviour in one query),
the refresh runs, and the per-customer figures other domains read."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.behaviour import group_fits, reading

# Re-exported: what a caller of ``fit_by_group`` reads and sets.
from segone.behaviour.group_fits import MIN_GROUP_CUSTOMERS as MIN_GROUP_CUSTOMERS
from segone.behaviour.group_fits import GroupFits as GroupFits
from segone.behaviour.models import BehaviourProfile, BehaviourRefresh, StagedEvent
from segone.behaviour.schemas import (
    AliveHistory,
    BehaviourOut,
    BehaviourProfileOut,
    EventRecord,
    RefreshOut,
    ScoreIntervals,
    ScoresOut,
    TimelinePoint,
)
from segone.customers import service as customers
from segone.errors import Invalid
from segone.storage import leases
from segone.storage.batching import among, chunks, values_per_statement
from segone.storage.subject import Rows, delete_about, plain, rows_about

T = TypeVar("T")
# ``Session.info`` key: the profiles ``behaviour_of`` read in the session, by customer id (None: none).
_PROFILES_READ = "segone.behaviour.profiles_read"
_PROFILE_FIELDS = [name for name in BehaviourProfileOut.model_fields if name != "top_contact_reasons"]


MODEL_NAMES = {
    "pareto_nbd": "Pareto/NBD",
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "gamma_gamma": "Gamma-Gamma",
}
_SELECTED = {"pareto-nbd": "Pareto/NBD", "bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD"}


def scoring_model(models: dict[str, Any]) -> str | None:
    """The purchase model a refresh scored the customers with (``refresh.models``), as its
    ``selection`` records it (``refresh._Choice``); for a refresh from before selections were recorded,
    Pareto/NBD, or BG/NBD when it found that nobody has stopped buying. None when none was fitted."""
    selection = models.get("selection")
    if isinstance(selection, dict):
        return _SELECTED.get(selection.get("model") or "")
    for key in ("pareto_nbd", "bgnbd", "mbgnbd"):
        if key in models:
            return MODEL_NAMES[key]
    return None


def scoring_key(models: dict[str, Any]) -> str | None:
    """The key in ``refresh.models`` of the model ``scoring_model`` names."""
    name = scoring_model(models)
    return next((key for key, model in MODEL_NAMES.items() if model == name), None)


def selection_of(models: dict[str, Any]) -> dict[str, Any] | None:
    """How a refresh chose its purchase model (``models["selection"]``): the model asked for (a name or
    ``best``), the one that scored, why, and with ``best`` the comparison; None before selections were
    recorded."""
    selection = models.get("selection")
    return selection if isinstance(selection, dict) else None


def fitted_models(models: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fitted models of ``refresh.models`` (those with parameters), by key, without the selection."""
    return {key: value for key, value in models.items() if isinstance(value, dict) and "params" in value}


# Every customer sheet reads it; built once, as building costs as much as running it.
_PROFILE_WITH_REFRESH = (
    select(BehaviourProfile, BehaviourRefresh)
    .join(BehaviourRefresh, BehaviourRefresh.id == BehaviourProfile.refresh_id)
    .where(BehaviourProfile.customer_id == bindparam("customer_id"))
)


def behaviour_of(db: Session, *, actor: Actor, customer_id: int, currency: str) -> BehaviourOut:
    """The customer's profile, scores, purchase timeline and their reading in words, amounts in
    ``currency`` (a merged record's id gives the survivor's)."""
    customer = customers.get(db, actor=actor, customer_id=customer_id)
    row = db.execute(_PROFILE_WITH_REFRESH, {"customer_id": customer.id}).first()
    if row is None:
        db.info.setdefault(_PROFILES_READ, {})[customer.id] = None
        return BehaviourOut(
            customer_id=customer.id,
            currency=currency,
            as_of=None,
            refreshed_at=None,
            profile=None,
            scores=None,
            timeline=[],
            reading=None,
        )
    profile, run = row
    # Kept for ``profile_rows``: the sheet's standing reads this customer's profile columns right after.
    db.info.setdefault(_PROFILES_READ, {})[customer.id] = profile
    reasons = [profile.top_contact_reason_1, profile.top_contact_reason_2, profile.top_contact_reason_3]
    out = BehaviourProfileOut(
        **{name: _tidy(getattr(profile, name)) for name in _PROFILE_FIELDS},
        top_contact_reasons=[reason for reason in reasons if reason],
    )
    average, weight = _spend_prior(run.models, out.repeat_purchases)
    scores = ScoresOut(
        model=scoring_model(run.models),
        p_alive=_tidy(profile.p_alive),
        expected_purchases=_tidy(profile.expected_purchases),
        expected_value=_tidy(profile.expected_value),
        value_population_mean=_tidy(average) if profile.expected_value is not None else None,
        value_population_weight=_tidy(weight) if profile.expected_value is not None else None,
        clv=_tidy(profile.clv),
        horizon_weeks=run.horizon_weeks,
        annual_discount_rate=run.annual_discount_rate,
    )
    return BehaviourOut(
        customer_id=customer.id,
        currency=currency,
        as_of=profile.as_of,
        refreshed_at=run.finished_at,
        profile=out,
        scores=scores,
        timeline=timeline_points(profile.timeline),
        reading=reading.read(out, scores, as_of=profile.as_of, currency=currency),
    )


def behaviour_with_intervals(
    db: Session, *, actor: Actor, customer_id: int, currency: str, level: float
) -> BehaviourOut:
    """``behaviour_of`` with each score's central ``level`` interval (0.5 to 0.99, else ``Invalid``) in
    ``scores.intervals`` (``score_intervals``): only those who ask pay for the draws."""
    from segone.behaviour import forecasts  # NumPy and the models load only for those who ask

    forecasts.checked_level(level)
    out = behaviour_of(db, actor=actor, customer_id=customer_id, currency=currency)
    if out.scores is None or out.scores.p_alive is None:
        return out
    row = _profile_and_run(db, out.customer_id)
    assert row is not None  # behaviour_of found it
    out.scores.intervals = _intervals_of(*row, level)
    return out


def _profile_and_run(db: Session, customer_id: int) -> tuple[BehaviourProfile, BehaviourRefresh] | None:
    row = db.execute(
        select(BehaviourProfile, BehaviourRefresh)
        .join(BehaviourRefresh, BehaviourRefresh.id == BehaviourProfile.refresh_id)
        .where(BehaviourProfile.customer_id == customer_id)
    ).first()
    return None if row is None else (row[0], row[1])


def score_intervals(
    *,
    frequency: float,
    recency: float,
    T: float,
    money: float | None,
    models: dict[str, Any],
    horizon_weeks: int,
    annual_discount_rate: float,
    level: float = 0.9,
) -> ScoreIntervals:
    """Central ``level`` intervals (0.5 to 0.99, else ``Invalid``) of P(alive), the purchases expected in
    ``horizon_weeks``, the expected value per purchase and CLV of a customer with these repeat purchases,
    recency and age (weeks) and mean repeat spend, from a refresh's ``models`` (parameters with their
    covariance): a seeded parametric bootstrap, so the same question gets the same answer."""
    from segone.behaviour import forecasts

    who = forecasts.Customer(float(frequency), float(recency), float(T), money)
    return forecasts.intervals(
        who,
        models=models,
        scorer=scoring_key(models),
        level=level,
        horizon_weeks=horizon_weeks,
        annual_discount_rate=annual_discount_rate,
    )


def _intervals_of(profile: BehaviourProfile, run: BehaviourRefresh, level: float) -> ScoreIntervals:
    from segone.behaviour import forecasts

    assert profile.first_purchase is not None and profile.last_purchase is not None  # scored: has bought
    who = forecasts.customer(
        first=profile.first_purchase,
        last=profile.last_purchase,
        as_of=profile.as_of,
        repeat_purchases=profile.repeat_purchases,
        expected_value=profile.expected_value,
        models=run.models,
    )
    return score_intervals(
        frequency=who.x,
        recency=who.t_x,
        T=who.T,
        money=who.money,
        models=run.models,
        horizon_weeks=run.horizon_weeks,
        annual_discount_rate=run.annual_discount_rate,
        level=level,
    )


def alive_history(db: Session, *, actor: Actor, customer_id: int) -> AliveHistory:
    """P(alive) over the customer's past as the last refresh's model sees it (``forecasts.alive_history``);
    no points before a refresh has scored them (or without their consent to profiling: no scores)."""
    from segone.behaviour import forecasts

    customer = customers.get(db, actor=actor, customer_id=customer_id)
    row = _profile_and_run(db, customer.id)
    if row is None:
        return AliveHistory(customer_id=customer.id, model=None, as_of=None, points=[])
    profile, run = row
    model = scoring_model(run.models)
    if profile.first_purchase is None:  # events, but no purchase yet
        return AliveHistory(customer_id=customer.id, model=model, as_of=profile.as_of, points=[])
    if profile.p_alive is None:
        note = "No P(alive) for this customer" + ("." if model is None else " (no consent to profiling).")
        return AliveHistory(customer_id=customer.id, model=model, as_of=profile.as_of, points=[], note=note)
    points = forecasts.alive_history(
        models=run.models,
        scorer=scoring_key(run.models),
        first=profile.first_purchase,
        as_of=profile.as_of,
        purchases=profile.purchases,
        timeline=timeline_points(profile.timeline),
    )
    return AliveHistory(customer_id=customer.id, model=model, as_of=profile.as_of, points=points)


def _spend_prior(models: dict[str, Any], repeat_purchases: int) -> tuple[float | None, float | None]:
    """Gamma-Gamma's population mean value per purchase, ``p gamma / (q - 1)``, and the weight the
    customer's expected value puts on it, ``(q - 1) / (p x + q - 1)`` for ``x`` repeat purchases (Fader &
    Hardie 2013, eq. 5): the rest rests on the customer's own mean."""
    params = (models.get("gamma_gamma") or {}).get("params") or {}
    p, q, gamma = params.get("p"), params.get("q"), params.get("gamma")
    if p is None or q is None or gamma is None or q <= 1.0:
        return None, None
    return p * gamma / (q - 1.0), (q - 1.0) / (p * repeat_purchases + q - 1.0)


def _tidy(value: T) -> T:
    """Floats to six decimals: sums of money come back as 4378.549999999997, which helps nobody."""
    return round(value, 6) if isinstance(value, float) else value  # type: ignore[return-value]


def timeline_points(text: str) -> list[TimelinePoint]:
    """The stored ``[["1997-01-01", 29.33, 1], ...]`` as points sorted by day (engines may not keep order)."""
    points = [
        TimelinePoint(day=date.fromisoformat(day), value=value, purchases=purchases)
        for day, value, purchases in json.loads(text or "[]")
    ]
    return sorted(points, key=lambda point: point.day)


def to_out(run: BehaviourRefresh) -> RefreshOut:
    """The run as it is: one recorded as running whose process is gone reads as failed, and says why."""
    out = RefreshOut.model_validate(run, from_attributes=True)
    status = leases.status_of(run)
    if status != run.status:
        out.status, out.message = status, leases.stopped_message(run)
    return out


def latest_refresh(db: Session, *, actor: Actor) -> BehaviourRefresh | None:
    require(actor, Permission.READ_CUSTOMERS)
    return db.scalars(select(BehaviourRefresh).order_by(BehaviourRefresh.id.desc()).limit(1)).first()


def traits_by_customer(db: Session) -> dict[int, dict[str, Any]]:
    """Each profiled customer's purchases, recency, mean value and preferred channel (for knowledge)."""
    rows = db.execute(
        select(
            BehaviourProfile.customer_id,
            BehaviourProfile.purchases,
            BehaviourProfile.recency_days,
            BehaviourProfile.mean_value,
            BehaviourProfile.preferred_channel,
        )
    )
    return {
        customer_id: {
            "purchases": purchases,
            "recency_days": recency_days,
            "mean_value": mean_value,
            "preferred_channel": preferred_channel,
        }
        for customer_id, purchases, recency_days, mean_value, preferred_channel in rows
    }


STREAM_BATCH = 10_000
"""Rows fetched at a time by the whole-population reads (a server-side cursor on PostgreSQL)."""


def has_profiles(db: Session) -> bool:
    """Whether a refresh has written any behaviour profile (else there is no behaviour to read)."""
    return db.scalars(select(BehaviourProfile.customer_id).limit(1)).first() is not None


@lru_cache(maxsize=64)
def _profile_query(columns: tuple[str, ...]) -> Select[Any]:
    known = BehaviourProfile.__table__.columns
    unknown = [name for name in columns if name not in known]
    if unknown:
        raise Invalid(f"Not a behaviour profile column: {', '.join(unknown)}.")
    return select(BehaviourProfile.customer_id, *(known[name] for name in columns)).order_by(
        BehaviourProfile.customer_id
    )


@lru_cache(maxsize=64)
def _one_profile(query: Select[Any]) -> Select[Any]:
    return query.where(BehaviourProfile.customer_id == bindparam("customer_id"))


def profile_rows(
    db: Session,
    *,
    columns: Sequence[str],
    batch_size: int = STREAM_BATCH,
    customer_ids: Sequence[int] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """``(customer_id, *columns)`` of every behaviour profile (or only of ``customer_ids``), by customer id,
    streamed ``batch_size`` rows at a time; ``columns`` are names of the profile's columns
    (``recency_days``, ``clv``, …)."""
    query = _profile_query(tuple(columns))
    if customer_ids is not None and len(customer_ids) == 1:
        read = db.info.get(_PROFILES_READ, {})
        if int(customer_ids[0]) in read:  # the sheet's ``behaviour_of`` read it in this session just now
            profile = read[int(customer_ids[0])]
            if profile is not None:
                yield (profile.customer_id, *(getattr(profile, name) for name in columns))
            return
        # A sheet's standing asks for one customer on every view: the statement is built once.
        yield from (
            tuple(row) for row in db.execute(_one_profile(query), {"customer_id": int(customer_ids[0])})
        )
        return
    if customer_ids is None:
        for row in db.execute(query.execution_options(yield_per=batch_size)):
            yield tuple(row)
        return
    for chunk in chunks(sorted(set(customer_ids)), values_per_statement(db)):
        for row in db.execute(query.where(among(db, BehaviourProfile.customer_id, chunk))):
            yield tuple(row)


def customer_ids_by_value(
    db: Session, *, by: Literal["clv", "value"], offset: int = 0, limit: int = 10
) -> list[int]:
    """Customers by the value of their next year (``clv``) or what they spent so far (``value``), highest
    first (ties by id); customers without that number are left out."""
    column = BehaviourProfile.clv if by == "clv" else BehaviourProfile.total_value
    return list(
        db.scalars(
            select(BehaviourProfile.customer_id)
            .where(column.is_not(None))
            .order_by(column.desc(), BehaviourProfile.customer_id)
            .offset(offset)
            .limit(limit)
        )
    )


def purchases_by_offering(
    *, actor: Actor, data_dir: Path, analytics_url: str, offerings: Collection[str] | None = None
) -> dict[str, int]:
    """Purchase events in the events dataset by the ``offering`` they name (each ``event_id`` once), read
    by the analytics engine; only ``offerings`` when given (each of them present, 0 when never bought).
    Staged API events count once flushed."""
    require(actor, Permission.READ_CUSTOMERS)
    # Here, not at the top: the engine and Arrow load only for the callers that count.
    from segone.analytics import backend
    from segone.behaviour import ingest

    dataset = ingest.dataset_of(data_dir)
    wanted = None if offerings is None else sorted(set(offerings))
    if not dataset.files() or wanted == []:
        return {} if wanted is None else dict.fromkeys(wanted, 0)
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        purchases = events.filter((events.type == "purchase") & events.offering.notnull())
        if wanted is not None:
            purchases = purchases.filter(purchases.offering.isin(wanted))
        counted = backend.to_arrow(purchases.group_by("offering").aggregate(n=purchases.count()))
    finally:
        con.disconnect()
    found = dict(zip(counted.column("offering").to_pylist(), counted.column("n").to_pylist(), strict=True))
    if wanted is None:
        return {key: int(n) for key, n in found.items()}
    return {key: int(found.get(key, 0)) for key in wanted}


def flush_staged_events(sessions: sessionmaker[Session], *, data_dir: Path) -> int:
    """Move the events received through the API into the dataset now (the server does it every 30 s), so
    that a read right after sees them; returns how many moved."""
    from segone.behaviour import ingest

    return ingest.flush_staged(sessions, dataset=ingest.dataset_of(data_dir))


def events_of_types(
    *,
    actor: Actor,
    data_dir: Path,
    analytics_url: str,
    types: Collection[str],
    since: datetime | None = None,
) -> list[EventRecord]:
    """The events of these types (``complaint``, ``return``...) in the events dataset, each ``event_id``
    once, from ``since`` on when given, oldest first; read by the analytics engine. Staged API events count
    once flushed."""
    require(actor, Permission.READ_CUSTOMERS)
    from segone.analytics import backend
    from segone.behaviour import ingest

    dataset = ingest.dataset_of(data_dir)
    wanted = sorted(set(types))
    if not dataset.files() or not wanted:
        return []
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        found = events.filter(events.type.isin(wanted) & events.customer_id.notnull())
        if since is not None:
            found = found.filter(found.ts >= since)
        columns = ["event_id", "customer_id", "type", "ts", "value", "channel", "offering", "reason"]
        table = backend.to_arrow(found.select(*columns))
    finally:
        con.disconnect()
    records = [EventRecord(**row) for row in table.to_pylist()]
    return sorted(records, key=lambda record: (record.ts, record.event_id))


def purchasers_within(
    *,
    actor: Actor,
    data_dir: Path,
    analytics_url: str,
    windows: Mapping[int, tuple[datetime, datetime]],
) -> set[int]:
    """Those of the customer records in ``windows`` with a purchase event after the start of their window
    and up to its end (``start < ts <= end``), read by the analytics engine. Events name the record they
    were resolved to: give a merged record its own window to count its purchases."""
    require(actor, Permission.READ_CUSTOMERS)
    from segone.analytics import backend
    from segone.behaviour import ingest

    dataset = ingest.dataset_of(data_dir)
    if not dataset.files() or not windows:
        return set()
    import ibis
    import pyarrow as pa

    ids = sorted(windows)
    timestamp = pa.timestamp("us", tz="UTC")
    bounds = ibis.memtable(
        pa.table(
            {
                "window_customer": pa.array(ids, pa.int64()),
                "window_start": pa.array([windows[i][0] for i in ids], timestamp),
                "window_end": pa.array([windows[i][1] for i in ids], timestamp),
            }
        )
    )
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        purchases = events.filter(events.type == "purchase").select("customer_id", "ts")
        inside = purchases.join(bounds, purchases.customer_id == bounds.window_customer).filter(
            lambda t: (t.ts > t.window_start) & (t.ts <= t.window_end)
        )
        found = backend.to_arrow(inside.select("window_customer").distinct())
    finally:
        con.disconnect()
    return {int(value) for value in found.column("window_customer").to_pylist()}


def offering_purchases(
    *, actor: Actor, data_dir: Path, analytics_url: str, customer_ids: Collection[int] | None = None
) -> Any:
    """Every purchase event of the events dataset that names an offering and a customer (of
    ``customer_ids`` when given), each ``event_id`` once, as an Arrow table of ``event_id``,
    ``customer_id`` (as the event names it: merged records are the caller's to follow), ``offering`` and
    ``ts``, sorted by customer, time and event id (the same order on every engine). Staged API events count
    once flushed."""
    require(actor, Permission.READ_CUSTOMERS)
    import pyarrow as pa

    from segone.analytics import backend
    from segone.behaviour import ingest
    from segone.behaviour.events import EVENT_SCHEMA

    columns = ("event_id", "customer_id", "offering", "ts")
    dataset = ingest.dataset_of(data_dir)
    if not dataset.files():
        return pa.schema([EVENT_SCHEMA.field(name) for name in columns]).empty_table()
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        purchases = events.filter(
            (events.type == "purchase") & events.offering.notnull() & events.customer_id.notnull()
        )
        if customer_ids is not None:
            purchases = purchases.filter(purchases.customer_id.isin(sorted(customer_ids)))
        purchases = purchases.select(*columns)
        table = backend.to_arrow(purchases)
    finally:
        con.disconnect()
    return table.sort_by([("customer_id", "ascending"), ("ts", "ascending"), ("event_id", "ascending")])


def data_about(db: Session, *, customer_ids: Sequence[int]) -> dict[str, Rows]:
    """The behaviour profiles (the model scores with them) and the events received but not yet moved into
    the events dataset, as stored; the dataset's own events come from ``events_about``."""
    return {
        "behaviour_profiles": rows_about(db, BehaviourProfile, "customer_id", customer_ids),
        "event_staging": rows_about(db, StagedEvent, "customer_id", customer_ids),
    }


def erase_about(db: Session, *, customer_ids: Sequence[int], identities: Collection[str]) -> dict[str, int]:
    """Delete these customers' behaviour profiles (their model scores) and the events received for them
    but not yet moved into the dataset (by id, or by an identity of theirs not yet resolved)."""
    return {
        "behaviour_profiles": delete_about(db, BehaviourProfile, "customer_id", customer_ids),
        "event_staging": delete_about(db, StagedEvent, "customer_id", customer_ids)
        + delete_about(db, StagedEvent, "customer", identities),
    }


def erase_events_about(*, data_dir: Path, customer_ids: Sequence[int], identities: Collection[str]) -> int:
    """Rewrite the events dataset without these customers' events; returns how many went."""
    from segone.behaviour import ingest

    return ingest.dataset_of(data_dir).remove_customers(customer_ids=customer_ids, customers=identities)


def events_about(*, actor: Actor, data_dir: Path, analytics_url: str, customer_ids: Sequence[int]) -> Rows:
    """Every event of these customers in the events dataset, all columns, oldest first."""
    require(actor, Permission.READ_CUSTOMERS)
    from segone.analytics import backend
    from segone.behaviour import ingest

    dataset = ingest.dataset_of(data_dir)
    if not dataset.files() or not customer_ids:
        return []
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        found = events.filter(events.customer_id.isin(list(customer_ids))).order_by(["ts", "event_id"])
        table = backend.to_arrow(found)
    finally:
        con.disconnect()
    return [{name: plain(value) for name, value in row.items()} for row in table.to_pylist()]


def fit_by_group(
    *,
    actor: Actor,
    data_dir: Path,
    analytics_url: str,
    groups: Mapping[int, int],
    model: str,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    time_unit: str = "week",
    min_customers: int = MIN_GROUP_CUSTOMERS,
) -> GroupFits:
    """A purchase model fitted to each group of customers (customer id -> group) and compared with one for
    everyone on the holdout (``group_fits``), the period by default the events' (``evaluation``: the first
    half calibrates, the second is the holdout)."""
    require(actor, Permission.RUN_ANALYTICS)
    from segone.analytics import backend
    from segone.behaviour import ingest
    from segone.behaviour.evaluation import default_period

    dataset = ingest.dataset_of(data_dir)
    if not dataset.files():
        raise Invalid(f"There are no events in {dataset.directory} to fit a model to.")
    con = backend.connect(analytics_url, data_dir)
    try:
        events = dataset.read(con)
        start, end = default_period(events, calibration_end, holdout_end)
        return group_fits.fit_by_group(
            events,
            groups,
            start,
            end,
            time_unit,
            model=model,
            min_customers=min_customers,
            actor=actor,
        )
    finally:
        con.disconnect()

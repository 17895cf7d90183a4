"""Behaviour metrics: pure Ibis functions from an events table to a table, on any engine.

The events table has the columns of ``EVENT_SCHEMA`` (``read`` of the events dataset gives one). Nothing
here names an engine: the same expressions run on DuckDB and on Spark, and give the same numbers.

Conventions (those of the buy-till-you-die literature and of the ``lifetimes`` package): purchases on the
same day are one *transaction*; ``frequency`` counts repeat transactions (the first is not counted); days
are UTC calendar days; a date given as a period end means the end of that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import ibis
import ibis.expr.datatypes as dt
from ibis.expr.types import BooleanValue, Table

PURCHASE = "purchase"
TIME_UNITS = {"day": 1.0, "week": 7.0}
TREND_DAYS = 90
TOP_REASONS = 3
COUNTED_TYPES = {
    "contacts": "contact",
    "complaints": "complaint",
    "returns": "return",
    "referrals": "referral",
    "reviews": "review",
    "visits": "visit",
}


def transactions(events: Table, *, by: str = "customer") -> Table:
    """Purchases collapsed to one row per customer per day: ``by, day, value, quantity, purchases``."""
    purchases = events.filter(events.type == PURCHASE)
    return purchases.group_by([purchases[by], purchases.ts.date().name("day")]).aggregate(
        value=purchases.value.sum(),
        quantity=purchases.quantity.sum(),
        purchases=purchases.count(),
    )


def rfm_summary(
    events: Table,
    calibration_end: date,
    time_unit: str = "week",
    observation_start: date | None = None,
    *,
    by: str = "customer",
) -> Table:
    """Per customer with a purchase in the calibration period: ``frequency, recency, T, monetary_value``.

    The period runs from ``observation_start`` (default: the first event) to the end of the day
    ``calibration_end``. ``recency`` is the time from the first to the last transaction, ``T`` from the
    first transaction to ``calibration_end``, both in ``time_unit`` ("day" or "week") measured between
    calendar days; ``monetary_value`` is the mean value of the repeat transactions (0 without any).
    """
    unit = _unit(time_unit)
    end = _day(calibration_end)
    window = until(events, end)
    if observation_start is not None:
        window = window.filter(window.ts >= _instant(events, _midnight(_day(observation_start))))
    tx = transactions(window, by=by)
    tx = tx.mutate(_repeat=ibis.row_number().over(group_by=tx[by], order_by=tx.day) > 0)
    per = tx.group_by(by).aggregate(
        _first=tx.day.min(),
        _last=tx.day.max(),
        frequency=tx.count() - 1,
        _repeat_value=tx.value.mean(where=tx._repeat),
    )
    return per.select(
        per[by],
        per.frequency,
        recency=per._last.delta(per._first, unit="day").cast(dt.float64) / unit,
        T=ibis.literal(end).delta(per._first, unit="day").cast(dt.float64) / unit,
        monetary_value=per._repeat_value.fill_null(0.0),
    )


def holdout_counts(
    events: Table,
    calibration_end: date,
    holdout_end: date,
    *,
    time_unit: str = "week",
    by: str = "customer",
) -> Table:
    """Per customer with a purchase up to ``calibration_end``: what they bought in the holdout period.

    ``frequency_holdout`` counts transactions after ``calibration_end`` up to the end of ``holdout_end``,
    ``monetary_value_holdout`` is their mean value (0 without any), ``duration_holdout`` the period's length.
    """
    unit = _unit(time_unit)
    end, last = _day(calibration_end), _day(holdout_end)
    if last <= end:
        raise ValueError("holdout_end must be after calibration_end")
    tx = transactions(until(events, last), by=by)
    customers = tx.filter(tx.day <= end).select(by).distinct()
    later = tx.filter(tx.day > end)
    counts = later.group_by(by).aggregate(_n=later.count(), _mean=later.value.mean())
    joined = customers.left_join(counts, customers[by] == counts[by])
    return joined.select(
        joined[by],
        frequency_holdout=joined._n.fill_null(0),
        monetary_value_holdout=joined._mean.fill_null(0.0),
        duration_holdout=ibis.literal((last - end).days / unit),
    )


def behaviour_profile(events: Table, as_of: date | datetime, *, by: str = "customer") -> Table:
    """One row per customer with any event up to ``as_of`` (a date means the end of that day).

    Purchases are counted as transactions (days with a purchase). Columns:
    ``first_purchase, last_purchase`` (dates), ``purchases, repeat_purchases``, ``recency_days`` (from the
    last purchase to ``as_of``), ``tenure_days`` (from the first), ``total_value, mean_value`` (per
    transaction), ``median_gap_days`` between transactions and ``gap_cv`` (their coefficient of variation,
    sample standard deviation / mean: 0 is clockwork), ``purchases_last_90d, purchases_prev_90d`` and
    ``trend_ratio`` (last / previous; null when there was none before), ``preferred_channel``,
    ``preferred_day_of_week`` (0 = Monday) and ``preferred_hour`` (UTC) over all events, each with the
    number of events behind it (``preferred_channel_events`` of ``channel_events``, the events with a
    channel; ``preferred_day_events`` and ``preferred_hour_events`` of ``events``), ``contacts`` and
    ``top_contact_reason_1..3``, ``complaints, returns, referrals, reviews, visits, events`` and when the last
    complaint and return happened (``last_complaint_at, last_return_at``).
    Ties in a "preferred" or "top" column go to the smallest value, so every engine gives the same answer.
    """
    today = _day(as_of)
    events = until(events, as_of)

    counts = {name: events.count(where=events.type == kind) for name, kind in COUNTED_TYPES.items()}
    activity = events.group_by(by).aggregate(
        events=events.count(),
        channel_events=events.count(where=events.channel.notnull()),
        last_complaint_at=events.ts.max(where=events.type == "complaint"),
        last_return_at=events.ts.max(where=events.type == "return"),
        **counts,
    )

    tx = transactions(events, by=by)
    previous = tx.day.lag().over(group_by=tx[by], order_by=tx.day)
    tx = tx.mutate(_gap=tx.day.delta(previous, unit="day").cast(dt.float64))
    recent, prior = today - timedelta(days=TREND_DAYS), today - timedelta(days=2 * TREND_DAYS)
    purchases = tx.group_by(by).aggregate(
        first_purchase=tx.day.min(),
        last_purchase=tx.day.max(),
        purchases=tx.count(),
        total_value=tx.value.sum(),
        mean_value=tx.value.mean(),
        median_gap_days=tx._gap.median(),
        _gap_mean=tx._gap.mean(),
        _gap_std=tx._gap.std(how="sample"),
        purchases_last_90d=tx.count(where=tx.day > recent),
        purchases_prev_90d=tx.count(where=(tx.day > prior) & (tx.day <= recent)),
    )

    moments = events.mutate(
        preferred_day_of_week=events.ts.day_of_week.index(), preferred_hour=events.ts.hour()
    )
    contacts = events.filter((events.type == "contact") & events.reason.notnull())
    reasons = _most_frequent(contacts.rename(_value="reason"), by, TOP_REASONS)
    top_reasons = reasons.group_by(by).aggregate(
        **{
            f"top_contact_reason_{rank + 1}": reasons._value.max(where=reasons._rank == rank)
            for rank in range(TOP_REASONS)
        }
    )
    parts = [
        purchases,
        _preferred(events.filter(events.channel.notnull()), by, "channel", "preferred_channel"),
        _preferred(moments, by, "preferred_day_of_week", "preferred_day_of_week", "preferred_day_events"),
        _preferred(moments, by, "preferred_hour", "preferred_hour"),
        top_reasons,
    ]
    profile = activity
    for part in parts:
        profile = profile.left_join(part, profile[by] == part[by]).drop(f"{by}_right")

    bought = profile.purchases.fill_null(0)
    return profile.select(
        profile[by],
        profile.first_purchase,
        profile.last_purchase,
        purchases=bought,
        repeat_purchases=ibis.ifelse(bought > 0, bought - 1, 0),
        recency_days=ibis.literal(today).delta(profile.last_purchase, unit="day"),
        tenure_days=ibis.literal(today).delta(profile.first_purchase, unit="day"),
        total_value=profile.total_value,
        mean_value=profile.mean_value,
        median_gap_days=profile.median_gap_days,
        gap_cv=profile._gap_std / profile._gap_mean,
        purchases_last_90d=profile.purchases_last_90d.fill_null(0),
        purchases_prev_90d=profile.purchases_prev_90d.fill_null(0),
        trend_ratio=(
            profile.purchases_last_90d.cast(dt.float64)
            / profile.purchases_prev_90d.cast(dt.float64).nullif(0)
        ),
        preferred_channel=profile.preferred_channel,
        preferred_channel_events=profile.preferred_channel_events.fill_null(0),
        channel_events=profile.channel_events,
        preferred_day_of_week=profile.preferred_day_of_week,
        preferred_day_events=profile.preferred_day_events.fill_null(0),
        preferred_hour=profile.preferred_hour,
        preferred_hour_events=profile.preferred_hour_events.fill_null(0),
        contacts=profile.contacts,
        top_contact_reason_1=profile.top_contact_reason_1,
        top_contact_reason_2=profile.top_contact_reason_2,
        top_contact_reason_3=profile.top_contact_reason_3,
        complaints=profile.complaints,
        returns=profile.returns,
        last_complaint_at=profile.last_complaint_at,
        last_return_at=profile.last_return_at,
        referrals=profile.referrals,
        reviews=profile.reviews,
        visits=profile.visits,
        events=profile.events,
    )


def _most_frequent(table: Table, by: str, keep: int) -> Table:
    """The ``keep`` most frequent ``_value`` per customer: ``by, _value, _rank`` (0 = most frequent)."""
    counted = table.group_by([table[by], table._value]).aggregate(_n=table.count())
    rank = ibis.row_number().over(group_by=counted[by], order_by=[ibis.desc(counted._n), counted._value])
    ranked = counted.mutate(_rank=rank)
    return ranked.filter(ranked._rank < keep)


def _preferred(table: Table, by: str, column: str, name: str, events: str | None = None) -> Table:
    """The most frequent value of ``column`` as ``name``, and how many events have it as ``events``
    (default ``<name>_events``)."""
    top = _most_frequent(table.select(table[by], _value=table[column]), by, 1)
    return top.select(top[by], **{name: top._value, events or f"{name}_events": top._n})


def _unit(time_unit: str) -> float:
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}") from None


def day_of(moment: date | datetime) -> date:
    """The UTC calendar day of ``moment`` (a naive datetime is UTC)."""
    return _day(moment)


def _day(moment: date | datetime) -> date:
    if isinstance(moment, datetime):
        return _utc(moment).date()
    return moment


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _instant(events: Table, moment: datetime) -> ibis.Value:
    """``moment`` as a literal of the events' timestamp type (engines differ on whether it carries a zone)."""
    kind = events.ts.type()
    assert isinstance(kind, dt.Timestamp)
    return ibis.literal(moment if kind.timezone else moment.replace(tzinfo=None), type=kind)


def until(events: Table, moment: date | datetime) -> Table:
    """The events up to ``moment``: a datetime itself, or the end of a date's day (naive times are UTC)."""
    condition: BooleanValue
    if isinstance(moment, datetime):
        condition = events.ts <= _instant(events, _utc(moment))
    else:
        condition = events.ts < _instant(events, _midnight(moment + timedelta(days=1)))
    return events.filter(condition)

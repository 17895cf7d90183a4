"""A customer's behaviour in words: what the profile and the scores can honestly say, and no more.

One reading serves the customer page, the API (``/customers/{id}/behaviour`` and the sheet) and
``segone customers show``, so they agree. A statement about a habit is made only with enough evidence;
below it the reading says so and gives the rule:

- **how often and how regularly** they buy: from ``CADENCE_MIN_DAYS`` purchase days (the median and the
  spread of the gaps between them need a few gaps to mean anything);
- **the weekday and the hour** they are most active: from ``HABIT_MIN_EVENTS`` events, and only when one
  day (hour) holds at least ``HABIT_MIN_SHARE`` of them, more than twice what chance gives a weekday;
- **the channel**: from ``HABIT_MIN_EVENTS`` events with a channel, when one holds most of them.

Every time is relative to the profile's date (``as_of``), never to today: a profile can be months old.
The expected value per purchase says how much it rests on the customer's own purchases and how much on
all customers' average (Gamma-Gamma shrinks a short history toward it).
"""

from __future__ import annotations

import math
from datetime import date

from segone import formatting
from segone.behaviour.schemas import (
    BehaviourProfileOut,
    BehaviourReading,
    Figure,
    ScoresOut,
    Statement,
)

CADENCE_MIN_DAYS = 5
HABIT_MIN_EVENTS = 8
HABIT_MIN_SHARE = 0.4
CHANNEL_MIN_SHARE = 0.5
ALIVE_LIKELY, ALIVE_LAPSED = 0.7, 0.3
DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def read(
    profile: BehaviourProfileOut, scores: ScoresOut | None, *, as_of: date, currency: str
) -> BehaviourReading:
    """The headline, the statements, the figures and the other events of one profile."""
    alive, headline = _headline(profile, scores)
    note = None
    if scores is None or scores.p_alive is None:
        note = "The purchase model could not be fitted at the last refresh; see segone behaviour status."
    return BehaviourReading(
        alive=alive,
        headline=headline,
        statements=_statements(profile, as_of),
        figures=_figures(profile, scores, as_of, currency),
        signals=[
            formatting.plural(number, label)
            for number, label in (
                (profile.complaints, "complaint"),
                (profile.returns, "return"),
                (profile.referrals, "referral"),
                (profile.reviews, "review"),
                (profile.visits, "visit"),
            )
            if number
        ],
        note=note,
    )


def _headline(profile: BehaviourProfileOut, scores: ScoresOut | None) -> tuple[str, str]:
    if profile.purchases == 0:
        return "unknown", "Has not bought yet"
    p_alive = scores.p_alive if scores else None
    if p_alive is None:
        return "unknown", "No purchase model yet"
    share = round(p_alive * 100)
    if p_alive >= ALIVE_LIKELY:
        return "likely", f"Still buying from us: {share}% likely"
    if p_alive >= ALIVE_LAPSED:
        return "risk", f"At risk: {share}% likely still buying"
    return "lapsed", f"Probably lapsed: {share}% likely still buying"


def _statements(profile: BehaviourProfileOut, as_of: date) -> list[Statement]:
    said: list[Statement] = []
    days = profile.purchases
    if days:
        bought = f"Bought on {formatting.plural(days, 'day')}"
        if profile.last_purchase is not None and profile.recency_days is not None:
            bought += (
                f", the last on {profile.last_purchase.isoformat()} ({_before(profile.recency_days, as_of)})"
            )
        said.append(Statement(topic="purchases", text=bought + ".", enough_evidence=True))
        said.append(_cadence(profile))
    if profile.purchases_last_90d or profile.purchases_prev_90d:
        said.append(
            Statement(
                topic="trend",
                text=(
                    f"{_trend(profile.trend_ratio, profile.purchases_last_90d)}: "
                    f"{formatting.count(profile.purchases_last_90d)} purchase days in the 90 days to "
                    f"{as_of.isoformat()}, {formatting.count(profile.purchases_prev_90d)} in the 90 before."
                ),
                enough_evidence=True,
            )
        )
    if profile.events:
        said.append(_weekday(profile))
    hour = _hour(profile)
    if hour is not None:
        said.append(hour)
    channel = _channel(profile)
    if channel is not None:
        said.append(channel)
    if profile.contacts:
        reasons = ", ".join(profile.top_contact_reasons)
        about = f", about {reasons}." if reasons else "."
        said.append(
            Statement(
                topic="contacts",
                text=f"Contacted us {formatting.plural(profile.contacts, 'time')}{about}",
                enough_evidence=True,
            )
        )
    return said


def _cadence(profile: BehaviourProfileOut) -> Statement:
    days = profile.purchases
    if days < CADENCE_MIN_DAYS or profile.median_gap_days is None:
        return Statement(
            topic="cadence",
            text=(
                f"How often they buy: too few purchases to tell ({formatting.plural(days, 'purchase day')}; "
                f"we say it from {CADENCE_MIN_DAYS})."
            ),
            enough_evidence=False,
        )
    gaps = days - 1
    return Statement(
        topic="cadence",
        text=(
            f"Usually {_every(profile.median_gap_days)}, {_regularity(profile.gap_cv)} "
            f"(the middle of {formatting.count(gaps)} gaps between purchase days)."
        ),
        enough_evidence=True,
    )


def _weekday(profile: BehaviourProfileOut) -> Statement:
    events, day, held = profile.events, profile.preferred_day_of_week, profile.preferred_day_events
    if events < HABIT_MIN_EVENTS or day is None or held is None or not 0 <= day < len(DAYS):
        return Statement(
            topic="weekday",
            text=(
                f"Favourite weekday: too few events to tell ({formatting.plural(events, 'event')}; "
                f"we say it from {HABIT_MIN_EVENTS})."
            ),
            enough_evidence=False,
        )
    if held < HABIT_MIN_SHARE * events:
        return Statement(
            topic="weekday",
            text=(
                f"No favourite weekday: no day holds {HABIT_MIN_SHARE:.0%} of their "
                f"{formatting.count(events)} events."
            ),
            enough_evidence=True,
        )
    return Statement(
        topic="weekday",
        text=f"Most active on {DAYS[day]}: {formatting.count(held)} of {formatting.count(events)} events.",
        enough_evidence=True,
    )


def _hour(profile: BehaviourProfileOut) -> Statement | None:
    """Stated only with the evidence; nothing otherwise (sources with dates but no times put every event
    at midnight, so an hour of 0 says nothing)."""
    events, hour, held = profile.events, profile.preferred_hour, profile.preferred_hour_events
    if not hour or held is None or events < HABIT_MIN_EVENTS or held < HABIT_MIN_SHARE * events:
        return None
    return Statement(
        topic="hour",
        text=(
            f"Most active around {hour:02d}:00 UTC: {formatting.count(held)} of "
            f"{formatting.count(events)} events."
        ),
        enough_evidence=True,
    )


def _channel(profile: BehaviourProfileOut) -> Statement | None:
    channel, held, total = profile.preferred_channel, profile.preferred_channel_events, profile.channel_events
    if not channel or held is None or total is None:
        return None
    if total < HABIT_MIN_EVENTS or held <= CHANNEL_MIN_SHARE * total:
        return None
    return Statement(
        topic="channel",
        text=(
            f"Mostly through {channel.replace('_', ' ')}: {formatting.count(held)} of "
            f"{formatting.count(total)} events with a channel."
        ),
        enough_evidence=True,
    )


def _figures(
    profile: BehaviourProfileOut, scores: ScoresOut | None, as_of: date, currency: str
) -> list[Figure]:
    figures: list[Figure] = []
    after = as_of.isoformat()
    if scores is not None:
        weeks = scores.horizon_weeks
        if scores.expected_purchases is not None:
            figures.append(
                Figure(
                    label=f"Purchase days expected in the {weeks} weeks after {after}",
                    value=scores.expected_purchases,
                    text=formatting.decimal(scores.expected_purchases, 1),
                )
            )
        if scores.clv is not None:
            figures.append(
                Figure(
                    label=f"Value of those {weeks} weeks (CLV)",
                    value=scores.clv,
                    text=formatting.money(scores.clv, currency),
                )
            )
        if scores.expected_value is not None:
            figures.append(
                Figure(
                    label="Expected value per purchase",
                    value=scores.expected_value,
                    text=formatting.money(scores.expected_value, currency),
                    note=_shrinkage(profile, scores, currency),
                )
            )
    if profile.total_value is not None:
        figures.append(
            Figure(
                label=f"Spent up to {after}",
                value=profile.total_value,
                text=formatting.money(profile.total_value, currency),
            )
        )
    return figures


def _shrinkage(profile: BehaviourProfileOut, scores: ScoresOut, currency: str) -> str | None:
    average, weight = scores.value_population_mean, scores.value_population_weight
    if average is None or weight is None:
        return None
    based = f"Based on {formatting.plural(profile.purchases, 'purchase day')}"
    if profile.repeat_purchases == 0:
        return (
            f"{based}; with no repeat purchase yet the estimate is all customers' average, "
            f"{formatting.money(average, currency)}."
        )
    return (
        f"{based}; with few purchases the estimate leans on all customers' average of "
        f"{formatting.money(average, currency)} (here {weight:.0%} of the weight)."
    )


def _before(days: int, as_of: date) -> str:
    if days == 0:
        return f"the profile's date, {as_of.isoformat()}"
    return f"{_span(days)} before {as_of.isoformat()}"


def _span(value: float) -> str:
    days = round(value)
    if days >= 60:
        return formatting.plural(round(days / 30.4), "month")
    if days >= 14:
        return formatting.plural(round(days / 7), "week")
    return formatting.plural(max(days, 1), "day")


def _every(value: float) -> str:
    """``every day``, ``every 4 weeks``."""
    span = _span(value)
    return "every " + (span.removeprefix("1 ") if span.startswith("1 ") else span)


def _regularity(cv: float | None) -> str:
    if cv is None or math.isnan(cv):
        return "too few gaps to tell how regularly"
    if cv < 0.35:
        return "like clockwork"
    if cv < 0.8:
        return "fairly regularly"
    return "irregularly"


def _trend(ratio: float | None, recent: int) -> str:
    if ratio is None:
        return "New activity" if recent else "Quiet"
    if ratio >= 1.25:
        return "Buying more"
    if ratio <= 0.8:
        return "Buying less"
    return "Steady"

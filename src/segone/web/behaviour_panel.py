"""The behaviour panel of a customer page: the profile in sentences, the scores, a purchase timeline plot.

Everything is drawn on the server as inline SVG (no chart library, nothing fetched): each purchase day is a
stem whose height is its value, on a time axis from the first plotted day to the profile's date.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from segone.behaviour.schemas import BehaviourOut, TimelinePoint

WIDTH, HEIGHT = 340, 132
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 14, 24
DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass
class Stem:
    x: str
    y: str
    base: str
    title: str
    repeat: bool


@dataclass
class Timeline:
    width: int = WIDTH
    height: int = HEIGHT
    stems: list[Stem] = field(default_factory=list)
    axis_y: str = ""
    start_label: str = ""
    end_label: str = ""
    top_label: str = ""
    summary: str = ""


@dataclass
class Panel:
    as_of: date
    alive: str  # "likely", "at risk" or "lapsed": the colour of the headline
    headline: str
    facts: list[str]
    numbers: list[tuple[str, str]]
    signals: list[str]
    timeline: Timeline | None
    note: str | None


def panel(behaviour: BehaviourOut) -> Panel | None:
    """What the panel shows, or None before a refresh has seen the customer."""
    profile, scores = behaviour.profile, behaviour.scores
    if profile is None or behaviour.as_of is None:
        return None
    p_alive = scores.p_alive if scores else None
    if p_alive is None:
        alive, headline = "unknown", "No purchase model yet"
    elif p_alive >= 0.7:
        alive, headline = "likely", f"Still buying from us: {round(p_alive * 100)}% likely"
    elif p_alive >= 0.3:
        alive, headline = "risk", f"At risk: {round(p_alive * 100)}% likely still buying"
    else:
        alive, headline = "lapsed", f"Probably lapsed: {round(p_alive * 100)}% likely still buying"
    if profile.purchases == 0:
        alive, headline = "unknown", "Has not bought yet"

    facts: list[str] = []
    if profile.purchases:
        bought = f"Bought on {_count(profile.purchases, 'day')}"
        if profile.recency_days is not None:
            bought += f", last {_days_ago(profile.recency_days)}"
        facts.append(bought + ".")
    if profile.median_gap_days is not None:
        facts.append(f"Usually every {_days(profile.median_gap_days)}, {_regularity(profile.gap_cv)}.")
    if profile.purchases_last_90d or profile.purchases_prev_90d:
        facts.append(
            f"{_trend(profile.trend_ratio, profile.purchases_last_90d)}: "
            f"{profile.purchases_last_90d} in the last 90 days, "
            f"{profile.purchases_prev_90d} in the 90 before."
        )
    habits = _habits(profile.preferred_channel, profile.preferred_day_of_week, profile.preferred_hour)
    if habits:
        facts.append(habits)
    if profile.contacts:
        reasons = ", ".join(profile.top_contact_reasons)
        about = f", about {reasons}." if reasons else "."
        facts.append(f"Contacted us {_count(profile.contacts, 'time')}{about}")

    numbers: list[tuple[str, str]] = []
    weeks = scores.horizon_weeks if scores else 0
    if scores is not None and scores.expected_purchases is not None:
        numbers.append((f"Purchases expected in {weeks} weeks", f"{scores.expected_purchases:.1f}"))
    if scores is not None and scores.clv is not None:
        numbers.append((f"Value of the next {weeks} weeks (CLV)", _money(scores.clv)))
    if scores is not None and scores.expected_value is not None:
        numbers.append(("Expected value per purchase", _money(scores.expected_value)))
    if profile.total_value is not None:
        numbers.append(("Spent so far", _money(profile.total_value)))

    signals = [
        _count(count, label)
        for count, label in (
            (profile.complaints, "complaint"),
            (profile.returns, "return"),
            (profile.referrals, "referral"),
            (profile.reviews, "review"),
            (profile.visits, "visit"),
        )
        if count
    ]
    note = None
    if scores is None or scores.p_alive is None:
        note = "The purchase model could not be fitted at the last refresh; see segone behaviour status."
    return Panel(
        as_of=behaviour.as_of,
        alive=alive,
        headline=headline,
        facts=facts,
        numbers=numbers,
        signals=signals,
        timeline=timeline(behaviour.timeline, behaviour.as_of),
        note=note,
    )


def timeline(points: list[TimelinePoint], as_of: date) -> Timeline | None:
    """Stems for the purchase days (heights by value, or all alike when values are missing)."""
    if not points:
        return None
    start = points[0].day
    span = max((as_of - start).days, 1)
    values = [point.value or 0.0 for point in points]
    top = max(values) if max(values, default=0.0) > 0 else 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = HEIGHT - BOTTOM
    stems = []
    for index, point in enumerate(points):
        x = LEFT + (point.day - start).days / span * plot_w
        height = (point.value or 0.0) / top * plot_h if point.value else plot_h * 0.35
        amount = f"{_money(point.value)}" if point.value is not None else "no value"
        several = f", {point.purchases} purchases" if point.purchases > 1 else ""
        stems.append(
            Stem(
                x=f"{x:.1f}",
                y=f"{base - max(height, 2.0):.1f}",
                base=f"{base:.1f}",
                title=f"{point.day.isoformat()}: {amount}{several}",
                repeat=index > 0,
            )
        )
    total = sum(values)
    return Timeline(
        stems=stems,
        axis_y=f"{base:.1f}",
        start_label=start.strftime("%b %Y"),
        end_label=as_of.strftime("%b %Y"),
        top_label=_money(top) if any(point.value for point in points) else "",
        summary=(
            f"{_count(len(points), 'purchase day')} from {start.isoformat()} to "
            f"{points[-1].day.isoformat()}, worth {_money(total)} in all"
            if len(points) > 1
            else f"One purchase day, {start.isoformat()}, worth {_money(total)}"
        ),
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word + 's'}"


def _days(value: float) -> str:
    days = round(value)
    if days >= 60:
        return f"{round(days / 30.4)} months"
    if days >= 14:
        return f"{round(days / 7)} weeks"
    return _count(max(days, 1), "day")


def _days_ago(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{_days(days)} ago"


def _regularity(cv: float | None) -> str:
    if cv is None or math.isnan(cv):
        return "too few purchases to tell how regular"
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


def _habits(channel: str | None, day: int | None, hour: int | None) -> str:
    parts = []
    if channel:
        parts.append(f"through {channel.replace('_', ' ')}")
    if day is not None and 0 <= day < 7:
        parts.append(f"on {DAYS[day]}")
    # Sources with dates but no times put every event at midnight: an hour of 0 says nothing.
    if hour:
        parts.append(f"around {hour:02d}:00 UTC")
    return "Mostly " + ", ".join(parts) + "." if parts else ""


def _money(value: float | None) -> str:
    if value is None:
        return "\u2013"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"

"""The behaviour panel of a customer page: the reading of the profile (``behaviour.reading``, shared with the
API and the CLI), the scores, and a purchase timeline plot; and the forecast page it links to: the scores
with their intervals and P(alive) over the customer's past.

The plots are drawn on the server as inline SVG (no chart library, nothing fetched): each purchase day is a
stem whose height is its value, on a time axis from the first plotted day to the profile's date, with a
value axis in the configured currency and the last and the largest values written on the plot. P(alive)
over time is a line on the same kind of time axis, from 0 to 100%, a dot on each purchase day.

The intervals and the history are not on the customer page itself: together they take 2 to 4 ms of CPU
for a Pareto/NBD customer (500 bootstrap draws, the history's model evaluations; BG/NBD's quadrature takes
about 50 ms), more than the page may spend on them, so the panel links to a page of their own
(``forecast``), computed only for those who open it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from segone import formatting
from segone.behaviour.schemas import AliveHistory, AlivePoint, BehaviourOut, Figure, Interval, TimelinePoint
from segone.web.charts import Label, Plot, ticks

WIDTH, HEIGHT = 340, 156
LEFT, RIGHT, TOP, BOTTOM = 50, 12, 18, 32


@dataclass
class Stem:
    x: str
    y: str
    base: str
    title: str
    repeat: bool


@dataclass
class Timeline:
    plot: Plot
    stems: list[Stem] = field(default_factory=list)
    values: list[Label] = field(default_factory=list)
    summary: str = ""


@dataclass
class Panel:
    customer_id: int
    scored: bool  # P(alive) is known: the forecast page has something to show
    as_of: date
    alive: str  # "likely", "risk", "lapsed" or "unknown": the colour of the headline
    headline: str
    facts: list[str]
    numbers: list[Figure]
    signals: list[str]
    timeline: Timeline | None
    note: str | None


def panel(behaviour: BehaviourOut) -> Panel | None:
    """What the panel shows, or None before a refresh has seen the customer."""
    reading = behaviour.reading
    if reading is None or behaviour.as_of is None:
        return None
    return Panel(
        customer_id=behaviour.customer_id,
        scored=behaviour.scores is not None and behaviour.scores.p_alive is not None,
        as_of=behaviour.as_of,
        alive=reading.alive,
        headline=reading.headline,
        facts=[statement.text for statement in reading.statements],
        numbers=reading.figures,
        signals=reading.signals,
        timeline=timeline(behaviour.timeline, behaviour.as_of, behaviour.currency),
        note=reading.note,
    )


def timeline(points: list[TimelinePoint], as_of: date, currency: str) -> Timeline | None:
    """Stems for the purchase days (heights by value, or all alike when values are missing)."""
    if not points:
        return None

    def money(value: float | None) -> str:
        return formatting.money(value, currency)

    start = points[0].day
    span = max((as_of - start).days, 1)
    valued = any(point.value for point in points)
    values = [point.value or 0.0 for point in points]
    scale = ticks(max(values)) if valued else [1.0]
    top = scale[-1]
    plot = Plot(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=RIGHT,
        bottom=BOTTOM,
        y_title=f"value of the day ({currency})" if valued else "purchase days (no values recorded)",
        x_title=f"purchase days as of {as_of.isoformat()}",
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = HEIGHT - BOTTOM

    def y(value: float) -> float:
        return base - value / top * plot_h

    if valued:
        whole = all(float(v).is_integer() for v in scale)
        plot.y_ticks = [
            Label(f"{LEFT - 4:.1f}", f"{y(v) + 3.5:.1f}", formatting.money(v, currency, whole=whole), "end")
            for v in scale
        ]
        plot.y_grid = [f"{y(v):.1f}" for v in scale]
    plot.x_ticks = [
        Label(f"{LEFT:.1f}", f"{base + 13:.1f}", start.strftime("%b %Y"), "start"),
        Label(f"{WIDTH - RIGHT:.1f}", f"{base + 13:.1f}", as_of.strftime("%b %Y"), "end"),
    ]
    stems = []
    for index, point in enumerate(points):
        x = LEFT + (point.day - start).days / span * plot_w
        height = (point.value or 0.0) / top * plot_h if point.value else plot_h * 0.35
        amount = money(point.value) if point.value is not None else "no value"
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
    labelled = []
    if valued:
        # The last purchase day's value, and the largest if it is another day: written, not hovered.
        last = len(points) - 1
        largest = max(range(len(points)), key=lambda i: (values[i], i))
        for index in sorted({last, largest}):
            x = float(stems[index].x)
            right_half = x > LEFT + plot_w / 2
            labelled.append(
                Label(
                    f"{x + (-5 if right_half else 5):.1f}",
                    f"{max(float(stems[index].y) - 4, TOP + 8):.1f}",
                    f"{points[index].day.strftime('%d %b')}: {money(points[index].value)}",
                    "end" if right_half else "start",
                )
            )
    total = sum(values)
    return Timeline(
        plot=plot,
        stems=stems,
        values=labelled,
        summary=(
            f"{formatting.plural(len(points), 'purchase day')} from {start.isoformat()} to "
            f"{points[-1].day.isoformat()}, worth {money(total)} in all"
            if len(points) > 1
            else f"One purchase day, {start.isoformat()}, worth {money(total)}"
        ),
    )


# --- the forecast page -------------------------------------------------------------------------------------


@dataclass
class Score:
    label: str
    value: str  # "62%"
    interval: str | None  # low to high, the unit once for percentages; None without one


@dataclass
class AliveChart:
    plot: Plot
    points: str  # the polyline
    purchases: list[Stem]  # a dot per purchase day (``y`` its P(alive); ``base`` unused)
    last: Label
    summary: str


@dataclass
class Forecast:
    as_of: date
    model: str | None
    level: float | None
    scores: list[Score]
    chart: AliveChart | None
    notes: list[str]


def forecast(behaviour: BehaviourOut, history: AliveHistory) -> Forecast | None:
    """The forecast page: each score with its interval (``behaviour`` asked with ``intervals``) and the
    P(alive) history; None before a refresh has scored the customer."""
    scores = behaviour.scores
    if scores is None or scores.p_alive is None or behaviour.as_of is None:
        return None
    found = scores.intervals
    currency = behaviour.currency
    weeks, after = scores.horizon_weeks, behaviour.as_of.isoformat()
    money = _money(currency)
    rows: list[tuple[str, str, Callable[[float, int], str], int]] = [
        ("Still buying from us (P(alive))", "p_alive", _percent, 0),
        (f"Purchase days expected in the {weeks} weeks after {after}", "expected_purchases", _decimal, 1),
        ("Value of those weeks (CLV)", "clv", money, 2),
        ("Expected value per purchase", "expected_value", money, 2),
    ]
    shown_scores = [
        _score(label, getattr(scores, name), getattr(found, name) if found else None, shown, places)
        for label, name, shown, places in rows
        if getattr(scores, name) is not None
    ]
    notes = [note for note in (found.note if found else None, history.note) if note]
    return Forecast(
        as_of=behaviour.as_of,
        model=scores.model,
        level=found.level if found and any(score.interval for score in shown_scores) else None,
        scores=shown_scores,
        chart=alive_chart(history.points, behaviour.as_of),
        notes=notes,
    )


def _percent(value: float, places: int) -> str:
    return f"{value * 100:.{places}f}%"


def _decimal(value: float, places: int) -> str:
    return f"{value:.{places}f}"


def _money(currency: str) -> Callable[[float, int], str]:
    return lambda value, places: formatting.money(value, currency)


def _score(
    label: str, value: float, bounds: Interval | None, shown: Callable[[float, int], str], places: int
) -> Score:
    """The value and its interval (low and high joined by a dash, the percent sign once), with a decimal
    or two more when the ends would read the same: a narrow interval is worth seeing as narrow, not as one
    number twice; the value takes the same precision."""
    if bounds is None:
        return Score(label, shown(value, places), None)
    for more in range(3):
        low, high = shown(bounds.low, places + more), shown(bounds.high, places + more)
        if low != high:
            break
    else:  # no doubt at all: P(alive) on the day of a repeat purchase, say
        return Score(label, shown(value, places), f"{shown(bounds.high, places)} at both ends")
    low = low.removesuffix("%") if high.endswith("%") else low
    return Score(label, shown(value, places + more), f"{low}\u2013{high}")


def alive_chart(points: list[AlivePoint], as_of: date) -> AliveChart | None:
    """P(alive) over time: a line on a day axis from the first point to ``as_of``, 0 to 100%, a dot on
    each purchase day, the last value written at the line's end."""
    if not points:
        return None
    start = points[0].day
    span = max((as_of - start).days, 1)
    plot = Plot(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=RIGHT,
        bottom=BOTTOM,
        y_title="P(alive), as the model would have said",
        x_title=f"dots: purchase days; as of {as_of.isoformat()}",
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = HEIGHT - BOTTOM

    def x(day: date) -> float:
        return LEFT + (day - start).days / span * plot_w

    def y(value: float) -> float:
        return base - value * plot_h

    scale = [0.0, 0.25, 0.5, 0.75, 1.0]
    plot.y_ticks = [Label(f"{LEFT - 4:.1f}", f"{y(v) + 3.5:.1f}", f"{v:.0%}", "end") for v in scale]
    plot.y_grid = [f"{y(v):.1f}" for v in scale]
    plot.x_ticks = [
        Label(f"{LEFT:.1f}", f"{base + 13:.1f}", start.strftime("%b %Y"), "start"),
        Label(f"{WIDTH - RIGHT:.1f}", f"{base + 13:.1f}", as_of.strftime("%b %Y"), "end"),
    ]
    dots = [
        Stem(
            x=f"{x(p.day):.1f}",
            y=f"{y(p.p_alive):.1f}",
            base=f"{base:.1f}",
            title=f"{p.day.isoformat()}: bought; P(alive) {p.p_alive:.0%}",
            repeat=index > 0,
        )
        for index, p in enumerate(point for point in points if point.purchase)
    ]
    last = points[-1]
    lowest = min(points, key=lambda p: p.p_alive)
    return AliveChart(
        plot=plot,
        points=" ".join(f"{x(p.day):.1f},{y(p.p_alive):.1f}" for p in points),
        purchases=dots,
        # Under the line's end when it is high (the line comes from above), over it when low.
        last=Label(
            f"{x(last.day) - 4:.1f}",
            f"{y(last.p_alive) + (16 if last.p_alive > 0.5 else -8):.1f}",
            f"{last.p_alive:.0%}",
            "end",
        ),
        summary=(
            f"P(alive) from {start.isoformat()} to {last.day.isoformat()}: {last.p_alive:.0%} now, "
            f"lowest {lowest.p_alive:.0%} on {lowest.day.isoformat()}; "
            f"{formatting.plural(len(dots), 'purchase day')} marked"
        ),
    )

"""The behaviour panel of a customer page: the reading of the profile (``behaviour.reading``, shared with the
API and the CLI), the scores, and a purchase timeline plot.

The plot is drawn on the server as inline SVG (no chart library, nothing fetched): each purchase day is a
stem whose height is its value, on a time axis from the first plotted day to the profile's date, with a
value axis in the configured currency and the last and the largest values written on the plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from segone import formatting
from segone.behaviour.schemas import BehaviourOut, Figure, TimelinePoint
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

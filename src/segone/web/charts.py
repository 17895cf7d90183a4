"""Charts drawn on the server as inline SVG, readable without a mouse: every chart has axes with ticks
and units, its values written on it (the last point of each line, every bar), and bars of one chart
start on one baseline. ``templates/_charts.html`` draws what these functions lay out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

CHAR_WIDTH = 6.6  # an average character of the charts' 11px labels, to size the label column
LABEL_COLUMN_MAX = 220
LABEL_GAP = 14  # px between the end labels of two lines, below which they would print over each other
MAX_DOTS = 40


@dataclass
class Label:
    x: str
    y: str
    text: str
    anchor: str = "start"


@dataclass
class Dot:
    x: str
    y: str
    title: str


@dataclass
class Line:
    name: str
    kind: str  # the CSS modifier of the line: "actual", "predicted" or "" (the one series of a chart)
    points: str
    dots: list[Dot]
    last: Label | None


@dataclass
class Mark:
    """A vertical line across the plot at ``x``, with its label under the axis."""

    x: str
    label: str


@dataclass
class Plot:
    """The frame of a chart: its size, the plot area, the axes with their ticks and titles."""

    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    y_ticks: list[Label] = field(default_factory=list)
    y_grid: list[str] = field(default_factory=list)  # the y of each y tick, for its grid line
    x_ticks: list[Label] = field(default_factory=list)
    y_title: str = ""
    x_title: str = ""

    @property
    def base(self) -> str:
        return f"{self.height - self.bottom:.1f}"

    @property
    def end(self) -> str:
        return f"{self.width - self.right:.1f}"

    @property
    def origin(self) -> str:
        return f"{self.left:.1f}"

    @property
    def ceiling(self) -> str:
        return f"{self.top:.1f}"


@dataclass
class Level:
    """A horizontal line across the plot at ``y`` (a target), with its label at the right end."""

    y: str
    label: Label


@dataclass
class LineChart:
    plot: Plot
    lines: list[Line]
    marks: list[Mark] = field(default_factory=list)
    levels: list[Level] = field(default_factory=list)


@dataclass
class Bar:
    x: str
    y: str
    width: str
    height: str
    kind: str
    title: str
    value: Label
    label: Label | None = None


@dataclass
class BarChart:
    plot: Plot
    bars: list[Bar]
    zero: str = ""  # the x of the zero line of signed bars


def ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``: steps of 1, 2, 2.5 or 5 times a power of ten."""
    top = top if top > 0 and math.isfinite(top) else 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    *,
    shown: Callable[[float], str],
    y_title: str,
    x_title: str,
    width: int = 320,
    height: int = 170,
    top: float | None = None,
    marks: Sequence[tuple[int, str]] = (),
    x_tick_every: int | None = None,
    y_tick_count: int = 4,
    levels: Sequence[tuple[float, str]] = (),
) -> LineChart:
    """Lines over the positions of ``x_labels``: ``series`` as (name, kind, values; None where no value).
    The y axis runs from 0 to ``top`` (default: round ticks over the largest value) in about
    ``y_tick_count`` steps (5 for scores of 1 to 5); ``shown`` writes a value with its unit; the last value
    of each line is written beside it. ``marks``: (position, label); ``levels``: (value, label) drawn as
    dashed horizontal lines (a target)."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    scale = ticks(top if top is not None else max(values, default=0.0), y_tick_count)
    high = scale[-1]
    plot = Plot(
        width=width, height=height, left=46, top=14, right=14, bottom=36, y_title=y_title, x_title=x_title
    )
    inner_w = width - plot.left - plot.right
    inner_h = height - plot.top - plot.bottom
    intervals = max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return plot.left + i * inner_w / intervals

    def y(v: float) -> float:
        return plot.top + inner_h - v / high * inner_h

    plot.y_ticks = [Label(f"{plot.left - 4:.1f}", f"{y(v) + 3.5:.1f}", shown(v), "end") for v in scale]
    plot.y_grid = [f"{y(v):.1f}" for v in scale]
    plot.x_ticks = _x_ticks(x_labels, x, plot, x_tick_every)
    lines = []
    ends = [
        next(((i, v) for i, v in reversed(list(enumerate(vs))) if v is not None), None) for _, _, vs in series
    ]
    # The lowest of several lines ending close together is labelled under its end, the others above.
    lowest = min((e[1], k) for k, e in enumerate(ends) if e is not None)[1] if any(ends) else -1
    crowded = (
        len([e for e in ends if e is not None]) > 1
        and (max(e[1] for e in ends if e is not None) - min(e[1] for e in ends if e is not None))
        / high
        * inner_h
        < LABEL_GAP
    )
    for position, (name, kind, vs) in enumerate(series):
        known = [(i, v) for i, v in enumerate(vs) if v is not None]
        last = None
        if known:
            i, v = known[-1]
            right_half = x(i) > plot.left + inner_w / 2
            below = crowded and position == lowest
            last = Label(
                f"{x(i) + (-6 if right_half else 6):.1f}",
                f"{y(v) + (15 if below else -7):.1f}",
                f"{name + ' ' if name else ''}{shown(v)}",
                "end" if right_half else "start",
            )
        lines.append(
            Line(
                name=name,
                kind=kind,
                points=" ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known),
                # Dots mark the points of a short series; a long one is a line (its values are in the table).
                dots=[
                    Dot(
                        f"{x(i):.1f}", f"{y(v):.1f}", f"{x_labels[i]}: {name + ' ' if name else ''}{shown(v)}"
                    )
                    for i, v in known
                ]
                if len(known) <= MAX_DOTS
                else [],
                last=last,
            )
        )
    return LineChart(
        plot=plot,
        lines=lines,
        marks=[Mark(f"{x(i):.1f}", label) for i, label in marks],
        levels=[
            Level(f"{y(v):.1f}", Label(f"{plot.left + 4:.1f}", f"{y(v) - 4:.1f}", label))
            for v, label in levels
        ],
    )


def _x_ticks(labels: Sequence[str], x: Callable[[int], float], plot: Plot, every: int | None) -> list[Label]:
    """The first and last labels always; in between every ``every``-th (default: about four in all)."""
    if not labels:
        return []
    count = len(labels)
    step = every or max(1, math.ceil((count - 1) / 3))
    chosen = sorted({0, count - 1, *range(0, count, step)})
    # A tick too close to the last one would print over it.
    chosen = [i for i in chosen if i == count - 1 or count - 1 - i >= step / 2 or i == 0]
    base = plot.height - plot.bottom
    out = []
    for i in chosen:
        anchor = "start" if i == 0 and count > 1 else ("end" if i == count - 1 and count > 1 else "middle")
        out.append(Label(f"{x(i):.1f}", f"{base + 13:.1f}", labels[i], anchor))
    return out


def horizontal_bars(
    rows: Sequence[tuple[str, float, str]],
    *,
    top: float,
    shown: Callable[[float], str],
    x_title: str,
    width: int = 560,
    row_height: int = 24,
) -> BarChart:
    """One bar per row (label, value, the value written after the bar), all starting at the same x: the
    label column is as wide as the longest label (up to ``LABEL_COLUMN_MAX``, longer ones shortened)."""
    longest = max((len(label) for label, _, _ in rows), default=1)
    column = min(LABEL_COLUMN_MAX, 12 + longest * CHAR_WIDTH)
    fits = longest if column < LABEL_COLUMN_MAX else int((column - 12) / CHAR_WIDTH)
    value_room = 12 + max((len(text) for _, _, text in rows), default=1) * CHAR_WIDTH
    plot = Plot(
        width=width,
        height=int(8 + row_height * len(rows) + 36),
        left=column,
        top=8,
        right=value_room,
        bottom=36,
        x_title=x_title,
    )
    scale = ticks(top)
    high = scale[-1]
    inner_w = width - plot.left - plot.right
    base = plot.height - plot.bottom
    plot.x_ticks = [
        Label(f"{plot.left + v / high * inner_w:.1f}", f"{base + 13:.1f}", shown(v), "middle") for v in scale
    ]
    bars = []
    for index, (label, value, text) in enumerate(rows):
        top_y = plot.top + index * row_height + 4
        length = max(value, 0.0) / high * inner_w
        short = label if len(label) <= fits else label[: max(fits - 1, 1)] + "\u2026"
        bars.append(
            Bar(
                x=f"{plot.left:.1f}",
                y=f"{top_y:.1f}",
                width=f"{length:.1f}",
                height=f"{row_height - 8:.1f}",
                kind="",
                title=f"{label}: {text}",
                value=Label(f"{plot.left + length + 6:.1f}", f"{top_y + row_height / 2:.1f}", text),
                label=Label(f"{plot.left - 8:.1f}", f"{top_y + row_height / 2:.1f}", short, "end"),
            )
        )
    return BarChart(plot=plot, bars=bars)


def grouped_bars(
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    shown: Callable[[float], str],
    y_title: str,
    x_title: str,
    width: int = 640,
    height: int = 280,
) -> BarChart:
    """Vertical bars, one per series in each group, each with its value written above it."""
    values = [v for _, vs in series for v in vs]
    scale = ticks(max(values, default=0.0))
    high = scale[-1]
    plot = Plot(
        width=width, height=height, left=46, top=18, right=10, bottom=40, y_title=y_title, x_title=x_title
    )
    inner_w = width - plot.left - plot.right
    inner_h = height - plot.top - plot.bottom
    base = plot.top + inner_h
    plot.y_ticks = [
        Label(f"{plot.left - 4:.1f}", f"{base - v / high * inner_h + 3.5:.1f}", shown(v), "end")
        for v in scale
    ]
    plot.y_grid = [f"{base - v / high * inner_h:.1f}" for v in scale]
    slot = inner_w / max(len(groups), 1)
    bar_w = (slot - 8) / max(len(series), 1)
    plot.x_ticks = [
        Label(f"{plot.left + (i + 0.5) * slot:.1f}", f"{base + 13:.1f}", group, "middle")
        for i, group in enumerate(groups)
    ]
    bars = []
    for i, group in enumerate(groups):
        for j, (kind, vs) in enumerate(series):
            h = max(vs[i], 0.0) / high * inner_h
            x = plot.left + i * slot + 4 + j * bar_w
            bars.append(
                Bar(
                    x=f"{x:.1f}",
                    y=f"{base - h:.1f}",
                    width=f"{bar_w:.1f}",
                    height=f"{h:.1f}",
                    kind=kind,
                    title=f"{group}: {kind} {shown(vs[i])}",
                    value=Label(f"{x + bar_w / 2:.1f}", f"{base - h - 3:.1f}", shown(vs[i]), "middle"),
                )
            )
    return BarChart(plot=plot, bars=bars)


def diverging_bars(
    rows: Sequence[tuple[str, float, str]],
    *,
    shown: Callable[[float], str],
    x_title: str,
    width: int = 640,
    row_height: int = 24,
) -> BarChart:
    """Signed values as bars from one zero line: negative ones to its left, positive ones to its right,
    each with its value written at its end; the labels in a column on the left, as ``horizontal_bars``."""
    longest = max((len(label) for label, _, _ in rows), default=1)
    column = min(LABEL_COLUMN_MAX, 12 + longest * CHAR_WIDTH)
    fits = longest if column < LABEL_COLUMN_MAX else int((column - 12) / CHAR_WIDTH)
    value_room = 10 + max((len(text) for _, _, text in rows), default=1) * CHAR_WIDTH
    plot = Plot(
        width=width,
        height=int(8 + row_height * len(rows) + 36),
        left=column + value_room,
        top=8,
        right=value_room,
        bottom=36,
        x_title=x_title,
    )
    scale = ticks(max((abs(value) for _, value, _ in rows), default=0.0), count=3)
    high = scale[-1]
    half = (width - plot.left - plot.right) / 2
    zero = plot.left + half
    base = plot.height - plot.bottom
    plot.x_ticks = [
        Label(f"{zero + v / high * half:.1f}", f"{base + 13:.1f}", shown(v), "middle")
        for v in sorted({*(-t for t in scale if t), *scale})
    ]
    bars = []
    for index, (label, value, text) in enumerate(rows):
        top_y = plot.top + index * row_height + 4
        middle = f"{top_y + row_height / 2:.1f}"
        length = abs(value) / high * half
        left = zero - length if value < 0 else zero
        end = Label(f"{zero - length - 6:.1f}", middle, text, "end")
        if value >= 0:
            end = Label(f"{zero + length + 6:.1f}", middle, text)
        short = label if len(label) <= fits else label[: max(fits - 1, 1)] + "\u2026"
        bars.append(
            Bar(
                x=f"{left:.1f}",
                y=f"{top_y:.1f}",
                width=f"{length:.1f}",
                height=f"{row_height - 8:.1f}",
                kind="negative" if value < 0 else "positive",
                title=f"{label}: {text}",
                value=end,
                label=Label(f"{column - 8:.1f}", middle, short, "end"),
            )
        )
    return BarChart(plot=plot, bars=bars, zero=f"{zero:.1f}")


@dataclass
class Tile:
    """A rectangle of an icicle: a link to its node, its words and size inside when they fit."""

    x: str
    y: str
    width: str
    height: str
    href: str
    title: str
    kind: str
    lines: list[Label]


@dataclass
class Icicle:
    width: int
    height: int
    tiles: list[Tile]


@dataclass(frozen=True)
class IcicleNode:
    """What an icicle needs of a node: ``kind`` is the CSS modifier of its tile (its colour)."""

    id: int
    parent: int | None
    size: int
    label: str
    note: str  # the second line inside the tile: its size
    title: str  # the tooltip: every condition and the figures
    href: str
    kind: str


ICICLE_ROW = 46
ICICLE_CHAR = 7.6  # an average character of the icicle's 12px bold labels


def icicle(nodes: Sequence[IcicleNode], top: int, *, width: int = 800) -> Icicle:
    """Node ``top`` as the first row, the whole width; each level below it a row, each node as wide as its
    share of its parent's customers, children left to right in the order given (a node's children hold
    all of its customers, "unknown" included, so each row is filled)."""
    children: dict[int, list[IcicleNode]] = {}
    for node in nodes:
        if node.parent is not None:
            children.setdefault(node.parent, []).append(node)
    by_id = {node.id: node for node in nodes}
    tiles: list[Tile] = []
    row = [(by_id[top], 0.0, float(width))]
    depth = 0
    while row:
        following = []
        for node, x, w in row:
            tiles.append(_tile(node, x, depth * ICICLE_ROW, w))
            start = x
            for child in children.get(node.id, []):
                share = w * child.size / node.size if node.size else 0.0
                following.append((child, start, share))
                start += share
        row, depth = following, depth + 1
    return Icicle(width=width, height=depth * ICICLE_ROW, tiles=tiles)


def _tile(node: IcicleNode, x: float, y: float, w: float) -> Tile:
    room = int((w - 10) / ICICLE_CHAR)
    lines = []
    if room >= 4:
        label = node.label if len(node.label) <= room else node.label[: room - 1] + "\u2026"
        lines.append(Label(f"{x + 5:.1f}", f"{y + 18:.1f}", label))
        if len(node.note) <= room:
            lines.append(Label(f"{x + 5:.1f}", f"{y + 34:.1f}", node.note))
    return Tile(
        x=f"{x:.2f}",
        y=f"{y:.1f}",
        width=f"{w:.2f}",
        height=f"{ICICLE_ROW - 2}",
        href=node.href,
        title=node.title,
        kind=node.kind,
        lines=lines,
    )


@dataclass
class Cell:
    x: str
    y: str
    size: str
    shade: int  # 0 (none) to 4 (the most customers)
    title: str
    text: Label | None
    same: bool  # the two segments have the same conditions: these customers stayed


@dataclass
class Matrix:
    width: int
    height: int
    cells: list[Cell]
    row_labels: list[Label]
    column_labels: list[Label]
    row_title: Label
    column_title: Label


def heat_matrix(
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    counts: Mapping[tuple[int, int], float],
    *,
    same: set[tuple[int, int]],
    row_title: str,
    column_title: str,
    shown: Callable[[float], str],
    width: int = 800,
    top_value: float | None = None,
    joiner: str = " \u2192 ",
) -> Matrix:
    """A grid of counts, rows by columns (each a short label and its full words for the tooltip), every
    non-empty cell shaded by its count and the count written in it where it fits; ``same`` cells are
    outlined; empty cells are drawn blank, so that rows and columns read as a grid. The cells are square,
    as large as the width allows, 18 to 56 px. The darkest shade is the largest count, or ``top_value``
    (1 for probabilities); a cell's tooltip is its row's words, ``joiner``, its column's, and the count."""
    longest = max((len(short) for short, _ in rows), default=1)
    left = min(LABEL_COLUMN_MAX, 12 + longest * CHAR_WIDTH)
    fits = longest if left < LABEL_COLUMN_MAX else int((left - 12) / CHAR_WIDTH)
    # The rows' title ends where their labels do: short labels (numbers) leave it room of its own.
    left = max(left, min(LABEL_COLUMN_MAX, 12 + len(row_title) * CHAR_WIDTH))
    top = 40.0
    cell = max(18.0, min(56.0, (width - left - 8) / max(len(columns), 1)))
    high = top_value if top_value is not None else max(counts.values(), default=0)
    # Column labels wider than a cell would print over each other: every other one goes a line higher.
    crowded = max((len(short) for short, _ in columns), default=0) * CHAR_WIDTH > cell - 4
    cells = []
    for i, j in itertools.product(range(len(rows)), range(len(columns))):
        n = counts.get((i, j), 0)
        text = shown(n)
        fits_text = n > 0 and len(text) * CHAR_WIDTH <= cell - 4
        cells.append(
            Cell(
                x=f"{left + j * cell:.1f}",
                y=f"{top + i * cell:.1f}",
                size=f"{cell - 2:.1f}",
                shade=min(4, math.ceil(4 * n / high)) if high else 0,
                title=f"{rows[i][1]}{joiner}{columns[j][1]}: {text}",
                text=Label(
                    f"{left + (j + 0.5) * cell - 1:.1f}", f"{top + (i + 0.5) * cell + 3:.1f}", text, "middle"
                )
                if fits_text
                else None,
                same=(i, j) in same,
            )
        )
    return Matrix(
        width=int(left + cell * len(columns) + 8),
        height=int(top + cell * len(rows) + 8),
        cells=cells,
        row_labels=[
            Label(
                f"{left - 8:.1f}",
                f"{top + (i + 0.5) * cell + 3:.1f}",
                short if len(short) <= fits else short[: max(fits - 1, 1)] + "\u2026",
                "end",
            )
            for i, (short, _) in enumerate(rows)
        ],
        column_labels=[
            Label(
                f"{left + (j + 0.5) * cell - 1:.1f}",
                f"{top - (18 if j % 2 and crowded else 6):.1f}",
                short,
                "middle",
            )
            for j, (short, _) in enumerate(columns)
        ],
        row_title=Label(f"{left - 8:.1f}", "14", row_title, "end"),
        column_title=Label(f"{left:.1f}", "14", column_title),
    )

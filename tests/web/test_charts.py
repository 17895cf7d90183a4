"""The chart layouts: round ticks, one baseline for bars, end labels that do not print over each other."""

from __future__ import annotations

import pytest

from segone.web import charts


def test_ticks_are_round_and_reach_the_top() -> None:
    assert charts.ticks(1.0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert charts.ticks(44021) == [0, 20000, 40000, 60000]
    assert charts.ticks(6.69) == [0, 2, 4, 6, 8]
    assert charts.ticks(0) == [0.0, 0.25, 0.5, 0.75, 1.0]  # an empty chart still has an axis


def test_horizontal_bars_start_on_one_baseline_whatever_their_labels() -> None:
    chart = charts.horizontal_bars(
        [("Store York", 0.34, "34%"), ("Customer Service", 0.33, "33%"), ("A", 0.5, "50%")],
        top=1.0,
        shown=lambda v: f"{v:.0%}",
        x_title="share",
    )
    assert len({bar.x for bar in chart.bars}) == 1
    widths = {bar.value.text: float(bar.width) for bar in chart.bars}
    assert widths["34%"] > widths["33%"]  # 34% reaches further than 33%, as it should
    assert [t.text for t in chart.plot.x_ticks] == ["0%", "25%", "50%", "75%", "100%"]


def test_lines_ending_close_together_are_labelled_apart() -> None:
    chart = charts.line_chart(
        ["week 1", "week 2"],
        [("actual", "actual", [0.0, 44021.0]), ("predicted", "predicted", [0.0, 42116.0])],
        shown=lambda v: f"{v:,.0f}",
        y_title="repeat purchases",
        x_title="week",
    )
    actual, predicted = (line.last for line in chart.lines)
    assert actual is not None and predicted is not None
    assert (actual.text, predicted.text) == ("actual 44,021", "predicted 42,116")
    assert float(predicted.y) - float(actual.y) >= charts.LABEL_GAP


def test_signed_bars_leave_one_zero_line_to_the_left_and_to_the_right() -> None:
    chart = charts.diverging_bars(
        [("spend", 1.4, "+1.40 SD"), ("plan: basic", -0.33, "\u221233 pts")],
        shown=lambda v: f"{v:g}",
        x_title="difference",
    )
    spend, plan = chart.bars
    zero = float(chart.zero)
    assert float(spend.x) == zero and float(spend.width) > 0
    assert float(plan.x) + float(plan.width) == pytest.approx(zero, abs=0.1)
    assert float(plan.width) < float(spend.width)
    assert float(plan.value.x) < float(plan.x) and plan.value.anchor == "end"
    assert [t.text for t in chart.plot.x_ticks] == ["-1.5", "-1", "-0.5", "0", "0.5", "1", "1.5"]
    # Nothing is drawn left of the labels' column or past the right edge.
    assert min(float(b.value.x) for b in chart.bars) > max(float(b.label.x) for b in chart.bars if b.label)


def _node(node_id: int, parent: int | None, size: int, label: str) -> charts.IcicleNode:
    return charts.IcicleNode(node_id, parent, size, label, f"{size}", label, f"/n/{node_id}", "plain")


def test_an_icicle_gives_each_node_its_share_of_its_parents_width() -> None:
    nodes = [
        _node(0, None, 10, "All customers"),
        _node(1, 0, 6, "plan: gold"),
        _node(2, 0, 4, "plan: basic"),
        _node(3, 1, 4, "spend: under 100"),
        _node(4, 1, 2, "spend: 100 or more and a very long condition indeed"),
    ]
    drawing = charts.icicle(nodes, 0, width=400)
    tiles = {t.href: t for t in drawing.tiles}
    assert drawing.height == 3 * charts.ICICLE_ROW
    assert [float(tiles[f"/n/{i}"].width) for i in range(5)] == [400, 240, 160, 160, 80]
    assert float(tiles["/n/2"].x) == 240 and float(tiles["/n/4"].x) == 160
    assert [line.text for line in tiles["/n/3"].lines] == ["spend: under 100", "4"]
    assert tiles["/n/4"].lines[0].text.endswith("\u2026")  # shortened to its 80 px
    # Too narrow for a word: only the tooltip says what it is.
    assert charts.icicle([_node(0, None, 1, "plan: gold")], 0, width=30).tiles[0].lines == []
    # Drawn from another node, only that node's subtree is drawn, from the top.
    below = charts.icicle(nodes, 1, width=400)
    assert [t.href for t in below.tiles] == ["/n/1", "/n/3", "/n/4"] and below.tiles[0].y == "0.0"


def test_a_heat_matrix_draws_every_cell_and_writes_the_counts_that_fit() -> None:
    matrix = charts.heat_matrix(
        [("#1 gold", "plan: gold"), ("#2 basic", "plan: basic")],
        [("#3", "plan: gold"), ("#4", "plan: silver")],
        {(0, 0): 120, (0, 1): 30, (1, 1): 5},
        same={(0, 0)},
        row_title="before",
        column_title="after",
        shown=lambda v: f"{v:,.0f}",
    )
    assert len(matrix.cells) == 4
    by_place = {(c.x, c.y): c for c in matrix.cells}
    shades = sorted(c.shade for c in by_place.values())
    assert shades == [0, 1, 1, 4]
    first = matrix.cells[0]
    assert first.same and first.text is not None and first.text.text == "120"
    assert first.title == "plan: gold \u2192 plan: gold: 120"
    assert [c.text is None for c in matrix.cells] == [False, False, True, False]
    assert matrix.width <= 800 and [label.text for label in matrix.column_labels] == ["#3", "#4"]

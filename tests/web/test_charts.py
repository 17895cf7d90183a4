"""The chart layouts: round ticks, one baseline for bars, end labels that do not print over each other."""

from __future__ import annotations

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

"""Analytics: the last behaviour refresh and the model that scores the customers (and why that one), and
how well each purchase model (Pareto/NBD, BG/NBD, MBG/NBD) predicts a holdout period, one model or all of
them compared (tables, charts, CSV)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from segone import formatting
from segone.accounts.schemas import Permission
from segone.behaviour import service as profiles
from segone.errors import Invalid
from segone.exporting import Column, Format, Kind, encode, media_type
from segone.web.charts import BarChart, LineChart, Matrix, grouped_bars, heat_matrix, line_chart
from segone.web.deps import RuntimeDep, Viewer, requires, web_router
from segone.web.render import render

router = web_router()
Analyst = Annotated[Viewer, Depends(requires(Permission.RUN_ANALYTICS))]
WIDTH, HEIGHT = 640, 280
ALL_MODELS = "all"


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


@router.get("/analytics/models")
def model_evaluation(
    request: Request,
    viewer: Analyst,
    runtime: RuntimeDep,
    calibration_end: str = "",
    holdout_end: str = "",
    model: str = "",
    format: str = "",
) -> Response:
    from segone.behaviour.dataset import EventDataset
    from segone.behaviour.evaluation import MODEL_LABELS, MODELS, evaluate_dataset
    from segone.demo.timeline import read_record

    settings = runtime.settings
    dataset = EventDataset(settings.data_dir / "events")
    with runtime.session() as db:
        latest = profiles.latest_refresh(db, actor=viewer.actor)
        refresh = None if latest is None else profiles.to_out(latest)
    scorer = None if refresh is None else profiles.scoring_model(refresh.models)
    # By default the page evaluates the model that scores the customers.
    scoring_key = next((key for key, label in MODEL_LABELS.items() if label == scorer), MODELS[0])
    chosen = model if model in MODELS or model == ALL_MODELS else scoring_key
    choices = {ALL_MODELS: "All models (compared)", **MODEL_LABELS}
    context: dict[str, Any] = {
        "refresh": refresh,
        "scorer": scorer,
        "scoring_reason": None if refresh is None else _scoring_reason(refresh.models),
        "selection": None if refresh is None else profiles.selection_of(refresh.models),
        "fitted": {} if refresh is None else profiles.fitted_models(refresh.models),
        "model_names": profiles.MODEL_NAMES,
        "model_labels": MODEL_LABELS,
        "models": choices,
        "model": chosen,
        "model_label": choices[chosen] if chosen == ALL_MODELS else MODEL_LABELS[chosen],
        "calibration_end": calibration_end,
        "holdout_end": holdout_end,
        "empty": False,
        "error": None,
        "report": None,
        "result": None,
        "cumulative": None,
        "weekly": None,
        "by_frequency": None,
        "alive": None,
        "demo": read_record(settings.data_dir),
    }
    if model and model not in MODELS and model != ALL_MODELS:
        context["error"] = (
            f"There is no model {model!r} to evaluate; choose {', '.join(MODEL_LABELS.values())} "
            "or all models."
        )
    if not dataset.files():
        context["empty"] = True
        return render(request, "analytics/models.html", **context)
    try:
        report = evaluate_dataset(
            actor=viewer.actor,
            data_dir=settings.data_dir,
            analytics_url=settings.analytics_url,
            model=chosen,
            calibration_end=_date(calibration_end),
            holdout_end=_date(holdout_end),
        )
    except Invalid as exc:
        context["error"] = str(exc)
        return render(request, "analytics/models.html", **context)
    result = report.winner
    context.update(
        calibration_end=result.calibration_end.isoformat(), holdout_end=result.holdout_end.isoformat()
    )
    if format == "csv":
        return Response(
            _csv(report),
            media_type=media_type(Format.CSV),
            headers={"Content-Disposition": f'attachment; filename="{chosen}-evaluation.csv"'},
        )
    return render(
        request,
        "analytics/models.html",
        **{
            **context,
            "report": report,
            "result": result,
            "cumulative": _lines(result.cumulative),
            "weekly": _weekly(result.weekly),
            "by_frequency": _bars(result.by_frequency),
            "alive": _alive(result.alive_matrix),
        },
    )


def _scoring_reason(models: dict[str, Any]) -> str:
    """Why the refresh's scores are the scoring model's, after a colon (the page's first paragraph)."""
    selection = profiles.selection_of(models)
    if selection is None:  # a refresh from before selections were recorded
        if "pareto_nbd" in models:
            return (
                "BG/NBD's P(alive) stays at 100% for a customer who bought once, however long ago, where "
                "Pareto/NBD's falls with time"
            )
        return (
            "BG/NBD found that no customer has stopped buying yet, so both models say the same and "
            "Pareto/NBD was not fitted"
        )
    used, asked, comparison = selection.get("model"), selection.get("asked"), selection.get("comparison")
    intended = comparison["winner"] if comparison else ("pareto-nbd" if asked == "best" else asked)
    if used == "bgnbd" and intended == "pareto-nbd":
        return (
            "BG/NBD found that no customer has stopped buying yet, so both models say the same and "
            "Pareto/NBD was not fitted"
        )
    if asked == "best" and comparison:
        return (
            f"the best of the three on the holdout {comparison['calibration_end']} to "
            f"{comparison['holdout_end']} ({comparison['reason']}); the refresh was asked for the best model"
        )
    if asked == "best":
        return f"the refresh was asked for the best model, but {selection.get('why')}"
    if used == "pareto-nbd":
        return (
            "the default: BG/NBD's P(alive) stays at 100% for a customer who bought once, however long ago, "
            "where Pareto/NBD's falls with time"
        )
    return "the model the refresh was asked for (--model or SEGONE_BEHAVIOUR_MODEL)"


_EVALUATION_COLUMNS = (
    Column("table"),
    Column("key"),
    Column("actual", Kind.FLOAT),
    Column("predicted", Kind.FLOAT),
)


def _csv(report: Any) -> bytes:
    """The evaluation (with all models, the comparison and then the winner's) through the exports' CSV
    writer, like every CSV download (formula-safe)."""
    result = report.winner
    rows: list[dict[str, Any]] = []
    if report.compared:
        rows.append({"table": "winner", "key": f"{result.model}: {report.reason}"})
        for e in report.evaluations:
            rows += [
                {
                    "table": "comparison: repeat purchases in holdout",
                    "key": e.model,
                    "actual": e.actual_total,
                    "predicted": e.predicted_total,
                },
                {
                    "table": "comparison: mean absolute error",
                    "key": e.model,
                    "predicted": e.mean_absolute_error,
                },
                {
                    "table": "comparison: root mean squared error",
                    "key": e.model,
                    "predicted": e.root_mean_squared_error,
                },
                {"table": "comparison: log-likelihood", "key": e.model, "predicted": e.log_likelihood},
                {"table": "comparison: tracking error", "key": e.model, "predicted": e.tracking_error},
            ]
    rows += [
        {"table": "model", "key": result.model},
        {
            "table": "total",
            "key": "repeat purchases in holdout",
            "actual": result.actual_total,
            "predicted": result.predicted_total,
        },
        {
            "table": "error",
            "key": "mean absolute error per customer",
            "predicted": result.mean_absolute_error,
        },
        *(
            {
                "table": "by calibration frequency (mean)",
                "key": row["frequency"],
                "actual": row["actual"],
                "predicted": row["predicted"],
            }
            for row in result.by_frequency
        ),
        *(
            {
                "table": "cumulative repeat purchases",
                "key": row["end"],
                "actual": row["actual"],
                "predicted": row["predicted"],
            }
            for row in result.cumulative
        ),
        *(
            {
                "table": "weekly repeat purchases",
                "key": row["end"],
                "actual": row["actual"],
                "predicted": row["predicted"],
            }
            for row in result.weekly
        ),
    ]
    return b"".join(encode(Format.CSV, _EVALUATION_COLUMNS, [rows]))


def _split_mark(rows: list[dict[str, Any]]) -> list[tuple[int, str]]:
    split = next((i for i, r in enumerate(rows) if r["holdout"]), len(rows)) - 1
    return [(split, "calibration end")] if split >= 0 else []


def _lines(rows: list[dict[str, Any]]) -> LineChart | None:
    """Cumulative repeat purchases week by week, actual and predicted, the calibration end marked."""
    if not rows:
        return None
    return line_chart(
        [f"week {r['week']}" for r in rows],
        [
            ("actual", "actual", [float(r["actual"]) for r in rows]),
            ("predicted", "predicted", [float(r["predicted"]) for r in rows]),
        ],
        shown=formatting.count,
        y_title="repeat purchases, cumulative",
        x_title="weeks since the first purchase",
        width=WIDTH,
        height=HEIGHT,
        marks=_split_mark(rows),
        x_tick_every=13,
    )


def _weekly(rows: list[dict[str, Any]]) -> LineChart | None:
    """Each week's repeat purchases, actual and predicted (the cumulative's differences)."""
    if not rows:
        return None
    return line_chart(
        [f"week {r['week']}" for r in rows],
        [
            ("actual", "actual", [float(r["actual"]) for r in rows]),
            ("predicted", "predicted", [float(r["predicted"]) for r in rows]),
        ],
        shown=formatting.count,
        y_title="repeat purchases in the week",
        x_title="weeks since the first purchase",
        width=WIDTH,
        height=HEIGHT,
        marks=_split_mark(rows),
        x_tick_every=13,
    )


def _bars(rows: list[dict[str, Any]]) -> BarChart:
    """Mean holdout repeat purchases of the customers of each calibration frequency, actual and predicted."""
    return grouped_bars(
        [r["frequency"] for r in rows],
        [("actual", [r["actual"] for r in rows]), ("predicted", [r["predicted"] for r in rows])],
        shown=lambda v: formatting.decimal(v, 2),
        y_title="mean repeat purchases in the holdout, per customer",
        x_title="repeat purchases in the calibration period",
        width=WIDTH,
        height=HEIGHT,
    )


def _alive(matrix: dict[str, Any]) -> Matrix | None:
    """P(alive) by repeat purchases (rows) and time since the last purchase (columns), shaded 0 to 100%."""
    if not matrix or not matrix.get("p_alive"):
        return None
    unit = matrix["time_unit"]
    columns = [
        (
            f"{c['start']:g}\u2013{c['end']:g}",
            f"last purchase {c['start']:g} to {c['end']:g} {unit}s ago",
        )
        for c in matrix["since_last_purchase"]
    ]
    rows = [
        (
            str(x),
            "bought once (no repeat purchase)" if x == 0 else f"{x} repeat purchase{'s' if x != 1 else ''}",
        )
        for x in matrix["frequencies"]
    ]
    values = {(i, j): value for i, row in enumerate(matrix["p_alive"]) for j, value in enumerate(row)}
    return heat_matrix(
        rows,
        columns,
        values,
        same=set(),
        row_title="repeat purchases",
        column_title=f"{unit}s since the last purchase \u2192",
        shown=lambda v: f"{v * 100:.0f}%",
        width=WIDTH,
        top_value=1.0,
        joiner=", ",
    )

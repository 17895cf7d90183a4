"""Analytics: the last behaviour refresh and the model that scores the customers, and how well each
purchase model (Pareto/NBD, BG/NBD) predicts a holdout period (charts, CSV)."""

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
from segone.web.charts import BarChart, LineChart, grouped_bars, line_chart
from segone.web.deps import RuntimeDep, Viewer, requires, web_router
from segone.web.render import render

router = web_router()
Analyst = Annotated[Viewer, Depends(requires(Permission.RUN_ANALYTICS))]
WIDTH, HEIGHT = 640, 280


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
    from segone.analytics import backend
    from segone.behaviour.dataset import EventDataset
    from segone.behaviour.evaluation import MODEL_LABELS, MODELS, default_period, evaluate
    from segone.demo.timeline import read_record

    settings = runtime.settings
    dataset = EventDataset(settings.data_dir / "events")
    with runtime.session() as db:
        latest = profiles.latest_refresh(db, actor=viewer.actor)
        refresh = None if latest is None else profiles.to_out(latest)
    scorer = None if refresh is None else profiles.scoring_model(refresh.models)
    # By default the page evaluates the model that scores the customers.
    scoring_key = next((key for key, label in MODEL_LABELS.items() if label == scorer), MODELS[0])
    chosen = model if model in MODELS else scoring_key
    context: dict[str, Any] = {
        "refresh": refresh,
        "scorer": scorer,
        "model_names": profiles.MODEL_NAMES,
        "models": MODEL_LABELS,
        "model": chosen,
        "model_label": MODEL_LABELS[chosen],
        "calibration_end": calibration_end,
        "holdout_end": holdout_end,
        "empty": False,
        "error": None,
        "result": None,
        "cumulative": None,
        "by_frequency": None,
        "demo": read_record(settings.data_dir),
    }
    if model and model not in MODELS:
        context["error"] = (
            f"There is no model {model!r} to evaluate; choose {' or '.join(MODEL_LABELS.values())}."
        )
    if not dataset.files():
        context["empty"] = True
        return render(request, "analytics/models.html", **context)
    con = backend.connect(settings.analytics_url, settings.data_dir)
    try:
        events = dataset.read(con)
        try:
            start, end = default_period(events, _date(calibration_end), _date(holdout_end))
            context.update(calibration_end=start.isoformat(), holdout_end=end.isoformat())
            result = evaluate(events, start, end, "week", model=chosen, actor=viewer.actor)
        except Invalid as exc:
            context["error"] = str(exc)
            return render(request, "analytics/models.html", **context)
    finally:
        con.disconnect()
    if format == "csv":
        return Response(
            _csv(result),
            media_type=media_type(Format.CSV),
            headers={"Content-Disposition": f'attachment; filename="{chosen}-evaluation.csv"'},
        )
    return render(
        request,
        "analytics/models.html",
        **{
            **context,
            "result": result,
            "cumulative": _lines(result.cumulative),
            "by_frequency": _bars(result.by_frequency),
        },
    )


_EVALUATION_COLUMNS = (
    Column("table"),
    Column("key"),
    Column("actual", Kind.FLOAT),
    Column("predicted", Kind.FLOAT),
)


def _csv(result: Any) -> bytes:
    """The evaluation through the exports' CSV writer, like every CSV download (formula-safe)."""
    rows: list[dict[str, Any]] = [
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
    ]
    return b"".join(encode(Format.CSV, _EVALUATION_COLUMNS, [rows]))


def _lines(rows: list[dict[str, Any]]) -> LineChart | None:
    """Cumulative repeat purchases week by week, actual and predicted, the calibration end marked."""
    if not rows:
        return None
    split = next((i for i, r in enumerate(rows) if r["holdout"]), len(rows)) - 1
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
        marks=[(split, "calibration end")] if split >= 0 else [],
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

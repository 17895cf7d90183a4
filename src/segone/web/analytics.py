"""Analytics: the last behaviour refresh, and how well BG/NBD predicts a holdout period (charts, CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts.schemas import Permission
from segone.behaviour import service as profiles
from segone.errors import Invalid
from segone.web.deps import RuntimeDep, Viewer, requires, web_router
from segone.web.render import render

router = web_router()
Analyst = Annotated[Viewer, Depends(requires(Permission.RUN_ANALYTICS))]
WIDTH, HEIGHT, PAD = 640, 260, 40


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
    format: str = "",
) -> Response:
    from segone.analytics import backend
    from segone.behaviour.dataset import EventDataset
    from segone.behaviour.evaluation import default_period, evaluate_bgnbd
    from segone.demo.timeline import read_record

    settings = runtime.settings
    dataset = EventDataset(settings.data_dir / "events")
    with runtime.session() as db:
        latest = profiles.latest_refresh(db, actor=viewer.actor)
        refresh = None if latest is None else profiles.to_out(latest)
    context: dict[str, Any] = {
        "refresh": refresh,
        "calibration_end": calibration_end,
        "holdout_end": holdout_end,
        "empty": False,
        "error": None,
        "result": None,
        "cumulative_svg": {},
        "frequency_svg": {},
        "demo": read_record(settings.data_dir),
    }
    if not dataset.files():
        context["empty"] = True
        return render(request, "analytics/models.html", **context)
    con = backend.connect(settings.analytics_url, settings.data_dir)
    try:
        events = dataset.read(con)
        try:
            start, end = default_period(events, _date(calibration_end), _date(holdout_end))
            context.update(calibration_end=start.isoformat(), holdout_end=end.isoformat())
            result = evaluate_bgnbd(events, start, end, "week", actor=viewer.actor)
        except Invalid as exc:
            context["error"] = str(exc)
            return render(request, "analytics/models.html", **context)
    finally:
        con.disconnect()
    if format == "csv":
        return Response(
            _csv(result),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="bgnbd-evaluation.csv"'},
        )
    return render(
        request,
        "analytics/models.html",
        **{
            **context,
            "result": result,
            "cumulative_svg": _lines(result.cumulative, start),
            "frequency_svg": _bars(result.by_frequency),
        },
    )


def _csv(result: Any) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "key", "actual", "predicted"])
    writer.writerow(["total", "repeat purchases in holdout", result.actual_total, result.predicted_total])
    writer.writerow(["error", "mean absolute error per customer", "", result.mean_absolute_error])
    for row in result.by_frequency:
        writer.writerow(
            ["by calibration frequency (mean)", row["frequency"], row["actual"], row["predicted"]]
        )
    for row in result.cumulative:
        writer.writerow(["cumulative repeat purchases", row["end"], row["actual"], row["predicted"]])
    return out.getvalue()


def _scale(values: list[float]) -> float:
    top = max(values, default=0.0)
    return top if top > 0 else 1.0


def _lines(rows: list[dict[str, Any]], calibration_end: date) -> dict[str, Any]:
    if not rows:
        return {}
    top = _scale([max(r["actual"], r["predicted"]) for r in rows])
    n = max(len(rows) - 1, 1)

    def points(key: str) -> str:
        return " ".join(
            f"{PAD + i * (WIDTH - 2 * PAD) / n:.1f},{HEIGHT - PAD - r[key] / top * (HEIGHT - 2 * PAD):.1f}"
            for i, r in enumerate(rows)
        )

    split = next((i for i, r in enumerate(rows) if r["holdout"]), len(rows) - 1)
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "actual": points("actual"),
        "predicted": points("predicted"),
        "split_x": f"{PAD + split * (WIDTH - 2 * PAD) / n:.1f}",
        "top": f"{top:,.0f}",
        "weeks": len(rows),
    }


def _bars(rows: list[dict[str, Any]]) -> dict[str, Any]:
    top = _scale([max(r["actual"], r["predicted"]) for r in rows])
    slot = (WIDTH - 2 * PAD) / max(len(rows), 1)
    bars = []
    for i, r in enumerate(rows):
        for j, key in enumerate(("actual", "predicted")):
            h = r[key] / top * (HEIGHT - 2 * PAD)
            bars.append(
                {
                    "x": f"{PAD + i * slot + 4 + j * (slot - 8) / 2:.1f}",
                    "y": f"{HEIGHT - PAD - h:.1f}",
                    "w": f"{(slot - 8) / 2:.1f}",
                    "h": f"{h:.1f}",
                    "kind": key,
                    "title": f"{r['frequency']}: {key} {r[key]:.2f}",
                }
            )
    labels = [{"x": f"{PAD + (i + 0.5) * slot:.1f}", "text": r["frequency"]} for i, r in enumerate(rows)]
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "labels": labels, "top": f"{top:.2f}"}

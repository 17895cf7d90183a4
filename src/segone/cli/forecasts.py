"""``segone models``: fit buy-till-you-die models to a summary CSV or to the events dataset."""

from __future__ import annotations

import csv
from dataclasses import asdict
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from segone.cli.common import JsonOption, print_json, runtime_of
from segone.errors import Invalid

app = typer.Typer(
    name="models",
    help="Behaviour models: fit BG/NBD, Pareto/NBD and Gamma-Gamma by maximum likelihood.",
    no_args_is_help=True,
)


class Model(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"
    gamma_gamma = "gamma-gamma"


class PurchaseModel(StrEnum):
    pareto_nbd = "pareto-nbd"
    bgnbd = "bgnbd"


class TimeUnit(StrEnum):
    week = "week"
    day = "day"


RFM_COLUMNS = ("frequency", "recency", "T")
MONEY_COLUMN = "monetary_value"


@app.command()
def fit(
    ctx: typer.Context,
    model: Annotated[Model, typer.Argument(help="The model to fit.")],
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            metavar="FILE.csv",
            help="Per-customer summary: frequency,recency,T (+ monetary_value for gamma-gamma).",
        ),
    ] = None,
    from_events: Annotated[
        bool,
        typer.Option("--from-events", help="Summarise the events dataset under <data_dir>/events/."),
    ] = False,
    calibration_end: Annotated[
        datetime | None,
        typer.Option(
            "--calibration-end",
            formats=["%Y-%m-%d"],
            metavar="DATE",
            help="Last day of the calibration period (with --from-events).",
        ),
    ] = None,
    time_unit: Annotated[
        TimeUnit, typer.Option("--time-unit", help="Unit of recency and T (with --from-events).")
    ] = TimeUnit.week,
    as_json: JsonOption = False,
) -> None:
    """Fit a model and print its parameters, log-likelihood and how the fit went."""
    if (summary is None) == (not from_events):
        raise Invalid("Give exactly one of --summary FILE.csv and --from-events.")
    if summary is not None and calibration_end is not None:
        raise Invalid("--calibration-end goes with --from-events, not with --summary.")
    needed = RFM_COLUMNS + ((MONEY_COLUMN,) if model is Model.gamma_gamma else ())
    if summary is not None:
        columns = read_summary(summary, needed)
        source = str(summary)
    else:
        if calibration_end is None:
            raise Invalid("--from-events needs --calibration-end DATE (YYYY-MM-DD).")
        columns = summary_from_events(ctx, calibration_end.date(), time_unit.value)
        source = "events"
    result = fit_model(model, columns)
    out: dict[str, Any] = {
        "model": model.value,
        "source": source,
        "parameters": asdict(result.params),
        "log_likelihood": result.log_likelihood,
        "n_customers": result.n_customers,
        "seconds": result.seconds,
        "converged": result.converged,
    }
    if from_events:
        out["time_unit"] = time_unit.value
    if as_json:
        print_json(out)
        return
    typer.echo(f"{model.value} fitted to {result.n_customers} customers ({source}):")
    for name, value in out["parameters"].items():
        typer.echo(f"  {name:<8} {value:.6g}")
    typer.echo(f"Log-likelihood: {result.log_likelihood:.4f}")
    state = "converged" if result.converged else f"did not converge ({result.message})"
    typer.echo(f"Fit {state} in {result.seconds:.2f} s.")


def read_summary(path: Path, needed: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The ``needed`` columns of a summary CSV as float arrays; any problem is ``Invalid``."""
    if not path.is_file():
        raise Invalid(f"Cannot read {path}: no such file.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in needed if name not in header]
        if missing:
            raise Invalid(f"{path.name} lacks the column(s) {', '.join(missing)}.")
        index = {name: header.index(name) for name in needed}
        values: dict[str, list[float]] = {name: [] for name in needed}
        for row_number, row in enumerate(reader, start=1):
            if not any(cell.strip() for cell in row):
                continue
            for name, position in index.items():
                cell = row[position].strip() if position < len(row) else ""
                try:
                    number = float(cell)
                except ValueError:
                    raise Invalid(
                        f"{path.name}, row {row_number} (line {row_number + 1}), column {name}: "
                        f"{cell!r} is not a number."
                    ) from None
                if not np.isfinite(number):
                    raise Invalid(
                        f"{path.name}, row {row_number} (line {row_number + 1}), column {name}: "
                        f"{cell!r} is not a finite number."
                    )
                values[name].append(number)
    if not values[needed[0]]:
        raise Invalid(f"{path.name} has no rows.")
    return {name: np.asarray(column, dtype=np.float64) for name, column in values.items()}


def summary_from_events(ctx: typer.Context, calibration_end: date, time_unit: str) -> dict[str, np.ndarray]:
    """``rfm_summary`` of the events dataset, computed by the analytics backend."""
    from segone.analytics import backend
    from segone.behaviour.dataset import EventDataset
    from segone.behaviour.metrics import rfm_summary

    settings = runtime_of(ctx, migrated=False).settings
    dataset = EventDataset(settings.data_dir / "events")
    if not dataset.files():
        raise Invalid(f"There are no events in {dataset.directory}.")
    con = backend.connect(settings.analytics_url, settings.data_dir)
    try:
        table = backend.to_arrow(rfm_summary(dataset.read(con), calibration_end, time_unit))
    finally:
        con.disconnect()
    if table.num_rows == 0:
        raise Invalid(f"No customer bought anything up to {calibration_end.isoformat()}.")
    return {
        name: np.asarray(table.column(name).to_numpy(), dtype=np.float64)
        for name in (*RFM_COLUMNS, MONEY_COLUMN)
    }


def fit_model(model: Model, columns: dict[str, np.ndarray]) -> Any:
    """The fit of ``model``; the fitting functions' complaints about the data become ``Invalid``."""
    from segone.behaviour.btyd import bgnbd, gammagamma, paretonbd

    x, t_x, T = (columns[name] for name in RFM_COLUMNS)
    try:
        if model is Model.bgnbd:
            return bgnbd.fit(x, t_x, T)
        if model is Model.pareto_nbd:
            return paretonbd.fit(x, t_x, T)
        return gammagamma.fit(x, columns[MONEY_COLUMN])
    except ValueError as exc:
        raise Invalid(f"Cannot fit {model.value}: {exc}.") from None


@app.command()
def evaluate(
    ctx: typer.Context,
    calibration_end: Annotated[
        datetime | None,
        typer.Option(
            "--calibration-end",
            formats=["%Y-%m-%d"],
            metavar="DATE",
            help="Last calibration day [default: halfway through the events].",
        ),
    ] = None,
    holdout_end: Annotated[
        datetime | None,
        typer.Option(
            "--holdout-end",
            formats=["%Y-%m-%d"],
            metavar="DATE",
            help="Last holdout day [default: the last event's].",
        ),
    ] = None,
    time_unit: Annotated[
        TimeUnit, typer.Option("--time-unit", help="Unit of recency and T.")
    ] = TimeUnit.week,
    model: Annotated[
        PurchaseModel,
        typer.Option(
            "--model", help="The purchase model: pareto-nbd scores the customers; bgnbd screens for it."
        ),
    ] = PurchaseModel.pareto_nbd,
    as_json: JsonOption = False,
) -> None:
    """Fit a purchase model to the events up to --calibration-end and compare its predictions with the
    holdout."""
    from segone import formatting
    from segone.accounts.schemas import SYSTEM
    from segone.analytics import backend
    from segone.behaviour.dataset import EventDataset
    from segone.behaviour.evaluation import MODEL_LABELS, default_period, evaluate

    settings = runtime_of(ctx, migrated=False).settings
    dataset = EventDataset(settings.data_dir / "events")
    if not dataset.files():
        raise Invalid(f"There are no events in {dataset.directory}.")
    con = backend.connect(settings.analytics_url, settings.data_dir)
    try:
        events = dataset.read(con)
        start, end = default_period(
            events,
            calibration_end.date() if calibration_end else None,
            holdout_end.date() if holdout_end else None,
        )
        result = evaluate(events, start, end, time_unit.value, model=model.value, actor=SYSTEM)
    finally:
        con.disconnect()
    if as_json:
        print_json(result.as_dict())
        return
    typer.echo(
        f"{MODEL_LABELS[result.model]} on {formatting.count(result.n_customers)} customers, calibration to "
        f"{result.calibration_end.isoformat()}, holdout to {result.holdout_end.isoformat()}:"
    )
    typer.echo(f"  actual repeat purchases    {formatting.count(result.actual_total)}")
    typer.echo(f"  predicted repeat purchases {formatting.decimal(result.predicted_total, 1)}")
    typer.echo(f"  mean absolute error        {result.mean_absolute_error:.3f}")
    for row in result.by_frequency:
        typer.echo(
            f"  frequency {row['frequency']:<3} actual {row['actual']:.2f} predicted {row['predicted']:.2f}"
        )

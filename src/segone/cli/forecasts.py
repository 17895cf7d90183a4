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
    help="Behaviour models: fit BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG or Gamma-Gamma (maximum likelihood).",
    no_args_is_help=True,
)


class Model(StrEnum):
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    pareto_nbd = "pareto-nbd"
    gamma_gamma = "gamma-gamma"
    bg_bb = "bg-bb"
    sbg = "sbg"


class PurchaseModel(StrEnum):
    pareto_nbd = "pareto-nbd"
    bgnbd = "bgnbd"


class TimeUnit(StrEnum):
    week = "week"
    day = "day"


RFM_COLUMNS = ("frequency", "recency", "T")
MONEY_COLUMN = "monetary_value"
OPPORTUNITY_COLUMNS = ("frequency", "recency", "periods")  # bg-bb, plus the optional WEIGHTS_COLUMN
WEIGHTS_COLUMN = "weights"
SURVIVORS_COLUMN = "survivors"  # sbg: one row per period, period 0 (the cohort size) first


@app.command()
def fit(
    ctx: typer.Context,
    model: Annotated[Model, typer.Argument(help="The model to fit.")],
    summary: Annotated[
        Path | None,
        typer.Option(
            "--summary",
            metavar="FILE.csv",
            help=(
                "Per-customer summary: frequency,recency,T (+ monetary_value for gamma-gamma); for bg-bb "
                "frequency,recency,periods[,weights]; for sbg one row per period from period 0 with a "
                "survivors column."
            ),
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
    column: Annotated[
        str | None,
        typer.Option("--column", metavar="NAME", help="sbg: the column of survivors [default: survivors]."),
    ] = None,
    periods: Annotated[
        int | None,
        typer.Option(
            "--periods", metavar="K", min=1, help="sbg: fit to periods 0..K only (later rows are left out)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Fit a model and print its parameters, log-likelihood and how the fit went."""
    if (summary is None) == (not from_events):
        raise Invalid("Give exactly one of --summary FILE.csv and --from-events.")
    if summary is not None and calibration_end is not None:
        raise Invalid("--calibration-end goes with --from-events, not with --summary.")
    if model is not Model.sbg and (column is not None or periods is not None):
        raise Invalid("--column and --periods go with sbg.")
    if from_events and model in (Model.bg_bb, Model.sbg):
        raise Invalid(f"{model.value} fits a --summary FILE.csv; the events dataset is not in its form.")
    if summary is not None and model is Model.bg_bb:
        columns = read_summary(summary, OPPORTUNITY_COLUMNS, optional=(WEIGHTS_COLUMN,))
        check_opportunities(summary, columns)
        source = str(summary)
    elif summary is not None and model is Model.sbg:
        name = column or SURVIVORS_COLUMN
        columns = {SURVIVORS_COLUMN: read_summary(summary, (name,))[name]}
        if periods is not None:
            if periods + 1 > columns[SURVIVORS_COLUMN].shape[0]:
                raise Invalid(f"{summary.name} has no period {periods} (its rows are periods 0, 1, ...).")
            columns[SURVIVORS_COLUMN] = columns[SURVIVORS_COLUMN][: periods + 1]
        check_survivors(summary, columns[SURVIVORS_COLUMN], name)
        source = str(summary)
    elif summary is not None:
        needed = RFM_COLUMNS + ((MONEY_COLUMN,) if model is Model.gamma_gamma else ())
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


def read_summary(
    path: Path, needed: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """The ``needed`` columns of a summary CSV (and those of ``optional`` it has) as float arrays; any
    problem is ``Invalid``."""
    if not path.is_file():
        raise Invalid(f"Cannot read {path}: no such file.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in needed if name not in header]
        if missing:
            raise Invalid(f"{path.name} lacks the column(s) {', '.join(missing)}.")
        present = needed + tuple(name for name in optional if name in header)
        index = {name: header.index(name) for name in present}
        values: dict[str, list[float]] = {name: [] for name in present}
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


def _bad_row(path: Path, mask: np.ndarray, column: str, why: str) -> None:
    """``Invalid`` naming the first row where ``mask`` holds (rows count from 1 after the header)."""
    if np.any(mask):
        row = int(np.argmax(mask)) + 1
        raise Invalid(f"{path.name}, row {row} (line {row + 1}), column {column}: {why}.")


def check_opportunities(path: Path, columns: dict[str, np.ndarray]) -> None:
    """The rows of a BG/BB summary are possible histories, or the first that is not is ``Invalid``."""
    x, t_x, n = (columns[name] for name in OPPORTUNITY_COLUMNS)
    for values, name in ((x, "frequency"), (t_x, "recency"), (n, "periods")):
        _bad_row(path, (values < 0) | (values != np.round(values)), name, "must be a whole number >= 0")
    _bad_row(path, n < 1, "periods", "must be at least 1")
    _bad_row(path, t_x > n, "recency", "the last transaction's opportunity is after the last opportunity")
    _bad_row(path, x > t_x, "frequency", "more repeat transactions than opportunities up to the last one")
    _bad_row(path, (x == 0) & (t_x != 0), "recency", "must be 0 without repeat transactions")
    if WEIGHTS_COLUMN in columns:
        _bad_row(path, columns[WEIGHTS_COLUMN] <= 0, WEIGHTS_COLUMN, "must be positive")


def check_survivors(path: Path, survivors: np.ndarray, column: str) -> None:
    """A cohort's survivors start positive and never rise, or the first row that breaks it is ``Invalid``."""
    if survivors.shape[0] < 2:
        raise Invalid(f"{path.name} needs the cohort size (period 0) and at least one later period.")
    _bad_row(
        path, np.arange(survivors.shape[0]) == (0 if survivors[0] <= 0 else -1), column, "must be positive"
    )
    _bad_row(path, survivors < 0, column, "must be >= 0")
    rises = np.concatenate([[False], np.diff(survivors) > 0])
    _bad_row(path, rises, column, "survivors must not rise from one period to the next")


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
    from segone.behaviour.btyd import bgbb, bgnbd, gammagamma, mbgnbd, paretonbd, sbg

    try:
        if model is Model.sbg:
            return sbg.fit(columns[SURVIVORS_COLUMN])
        if model is Model.bg_bb:
            x, t_x, n = (columns[name] for name in OPPORTUNITY_COLUMNS)
            return bgbb.fit(x, t_x, n, weights=columns.get(WEIGHTS_COLUMN))
        x, t_x, T = (columns[name] for name in RFM_COLUMNS)
        if model is Model.bgnbd:
            return bgnbd.fit(x, t_x, T)
        if model is Model.mbgnbd:
            return mbgnbd.fit(x, t_x, T)
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

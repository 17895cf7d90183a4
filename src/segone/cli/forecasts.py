"""``segone models``: fit buy-till-you-die models to a summary CSV or to the events dataset."""

from __future__ import annotations

import csv
import json
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
    help="Behaviour models: fit BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG or Gamma-Gamma; predict from them.",
    no_args_is_help=True,
)


class Model(StrEnum):
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    pareto_nbd = "pareto-nbd"
    gamma_gamma = "gamma-gamma"
    bg_bb = "bg-bb"
    sbg = "sbg"


class PredictModel(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"


class EvaluatedModel(StrEnum):
    pareto_nbd = "pareto-nbd"
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"
    all = "all"


class SegmentModel(StrEnum):
    bgnbd = "bgnbd"
    pareto_nbd = "pareto-nbd"
    mbgnbd = "mbgnbd"


class TimeUnit(StrEnum):
    week = "week"
    day = "day"


# The split of ``evaluate`` and ``by-segment``: the events' halves unless given.
CalibrationEnd = Annotated[
    datetime | None,
    typer.Option(
        "--calibration-end",
        formats=["%Y-%m-%d"],
        metavar="DATE",
        help="Last calibration day [default: halfway through the events].",
    ),
]
HoldoutEnd = Annotated[
    datetime | None,
    typer.Option(
        "--holdout-end",
        formats=["%Y-%m-%d"],
        metavar="DATE",
        help="Last holdout day [default: the last event's].",
    ),
]


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
        "standard_errors": result.standard_errors,
        "covariance": None if result.covariance is None else result.covariance.tolist(),
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
    errors = result.standard_errors or {}
    for name, value in out["parameters"].items():
        error = f"  (standard error {errors[name]:.4g})" if name in errors else ""
        typer.echo(f"  {name:<8} {value:.6g}{error}")
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
    calibration_end: CalibrationEnd = None,
    holdout_end: HoldoutEnd = None,
    time_unit: Annotated[
        TimeUnit, typer.Option("--time-unit", help="Unit of recency and T.")
    ] = TimeUnit.week,
    model: Annotated[
        EvaluatedModel,
        typer.Option(
            "--model",
            help="The purchase model (pareto-nbd scores the customers; bgnbd screens for it), or all of "
            "them compared on the same split, the best first.",
        ),
    ] = EvaluatedModel.pareto_nbd,
    as_json: JsonOption = False,
) -> None:
    """Fit a purchase model to the events up to --calibration-end and compare its predictions with the
    holdout; with --model all, every model on the same split, the best first, and why it won."""
    from segone import formatting
    from segone.accounts.schemas import SYSTEM
    from segone.behaviour.evaluation import MODEL_LABELS, evaluate_dataset

    settings = runtime_of(ctx, migrated=False).settings
    report = evaluate_dataset(
        actor=SYSTEM,
        data_dir=settings.data_dir,
        analytics_url=settings.analytics_url,
        model=model.value,
        calibration_end=calibration_end.date() if calibration_end else None,
        holdout_end=holdout_end.date() if holdout_end else None,
        time_unit=time_unit.value,
    )
    if report.compared:
        _print_comparison(report, as_json)
        return
    result = report.winner
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


@app.command("by-segment")
def by_segment(
    ctx: typer.Context,
    version: Annotated[
        int | None,
        typer.Option("--version", min=1, help="The segmentation version [default: the latest finished]."),
    ] = None,
    depth: Annotated[
        int, typer.Option("--depth", min=0, help="The tree's level whose segments get a model each.")
    ] = 2,
    model: Annotated[SegmentModel, typer.Option("--model", help="The purchase model.")] = SegmentModel.bgnbd,
    calibration_end: CalibrationEnd = None,
    holdout_end: HoldoutEnd = None,
    min_customers: Annotated[
        int,
        typer.Option("--min-customers", min=1, help="A smaller segment keeps the model fitted to everyone."),
    ] = 100,
    as_json: JsonOption = False,
) -> None:
    """Fit the purchase model to each segment at --depth of a segmentation version, and compare it with
    one model for everyone on the holdout (mean absolute error) and in the calibration period (BIC)."""
    from segone import formatting
    from segone.accounts.schemas import SYSTEM
    from segone.views.segment_fits import segment_fits

    runtime = runtime_of(ctx)
    found = segment_fits(
        runtime.sessions,
        runtime.settings,
        actor=SYSTEM,
        version_id=version,
        depth=depth,
        model=model.value,
        calibration_end=calibration_end.date() if calibration_end else None,
        holdout_end=holdout_end.date() if holdout_end else None,
        min_customers=min_customers,
    )
    if as_json:
        print_json(found.as_dict())
        return
    fits = found.fits
    typer.echo(
        f"{model.value} per segment of version {found.version_id} at depth {depth}: "
        f"{formatting.count(len(fits.groups))} segments, {formatting.count(fits.fitted)} fitted, "
        f"{formatting.count(fits.customers)} customers; calibration to {fits.calibration_end.isoformat()}, "
        f"holdout to {fits.holdout_end.isoformat()} ({fits.seconds:.1f} s)"
    )
    typer.echo(
        f"  one model:   MAE {fits.pooled.mean_absolute_error:.4f}  BIC {fits.pooled_bic:,.1f}  "
        f"predicted {fits.pooled.predicted:,.1f} of {fits.pooled.actual:,.0f}"
    )
    typer.echo(
        f"  per segment: MAE {fits.mean_absolute_error:.4f}  BIC {fits.bic:,.1f}  "
        f"predicted {sum(g.predicted for g in fits.groups):,.1f} of {fits.pooled.actual:,.0f}"
    )
    typer.echo(f"  {fits.verdict}")
    for group in fits.groups:
        segment = found.segments[group.group]
        params = " ".join(f"{name} {value:.4g}" for name, value in group.parameters.items())
        fitted = params if group.own else f"one model's ({group.note})"
        typer.echo(
            f"  segment {segment.node_id}: {formatting.count(group.customers)} customers, MAE "
            f"{group.mean_absolute_error:.4f}, predicted {group.predicted:,.1f} of {group.actual:,.0f}; "
            f"{fitted}; {' AND '.join(segment.conditions) or 'everyone'}"
        )


def _print_comparison(report: Any, as_json: bool) -> None:
    """Every model's holdout measures, the best first (``evaluation.compare``), and why the first won."""
    from segone import formatting
    from segone.behaviour.evaluation import MODEL_LABELS

    if as_json:
        print_json(report.as_dict())
        return
    ranked = report.evaluations
    first = ranked[0]
    typer.echo(
        f"{len(ranked)} models on {formatting.count(first.n_customers)} customers, calibration to "
        f"{first.calibration_end.isoformat()}, holdout to {first.holdout_end.isoformat()} "
        f"({formatting.count(first.actual_total)} actual repeat purchases); best first:"
    )
    typer.echo(f"  {'model':<11} {'MAE':>7} {'RMSE':>7} {'tracking':>9} {'predicted':>10} {'log-lik.':>11}")
    for e in ranked:
        typer.echo(
            f"  {MODEL_LABELS[e.model]:<11} {e.mean_absolute_error:7.3f} {e.root_mean_squared_error:7.3f} "
            f"{e.tracking_error:9.1f} {e.predicted_total:10.1f} {e.log_likelihood:11.1f}"
        )
    typer.echo(f"Best on this holdout: {MODEL_LABELS[first.model]} ({report.reason}).")


ID_COLUMN = "customer_id"


@app.command()
def predict(
    ctx: typer.Context,
    model: Annotated[PredictModel, typer.Argument(help="The purchase model.")],
    summary: Annotated[
        Path,
        typer.Option(
            "--summary",
            metavar="FILE.csv",
            help="Per-customer summary: frequency,recency,T (+ monetary_value for the value and CLV).",
        ),
    ],
    horizon: Annotated[
        float,
        typer.Option("--horizon", min=0.0, help="How far ahead, in the time unit of recency and T."),
    ],
    params_file: Annotated[
        Path | None,
        typer.Option(
            "--params",
            metavar="FILE.json",
            help="Parameters from 'segone models fit MODEL --json' [default: fit the model to --summary].",
        ),
    ] = None,
    intervals: Annotated[
        float | None,
        typer.Option(
            "--intervals",
            metavar="LEVEL",
            help="Add central intervals at this level (0.9: 5% to 95%) from parameter uncertainty.",
        ),
    ] = None,
    draws: Annotated[
        int, typer.Option("--draws", min=2, help="Parameter draws of the bootstrap behind --intervals.")
    ] = 200,
    discount_rate: Annotated[
        float | None,
        typer.Option(
            "--discount-rate",
            help="Annual discount rate of the CLV [default: the setting behaviour_discount_rate].",
        ),
    ] = None,
    time_unit: Annotated[
        TimeUnit, typer.Option("--time-unit", help="Unit of recency, T and --horizon (for discounting).")
    ] = TimeUnit.week,
    as_csv: Annotated[bool, typer.Option("--csv", help="Write CSV, one row per customer.")] = False,
    as_json: JsonOption = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="The file to write (replaced); stdout without."),
    ] = None,
) -> None:
    """Per customer: P(alive), expected purchases over --horizon, the probability of none and, with
    monetary_value, the expected value per purchase (Gamma-Gamma) and the discounted CLV over the horizon.
    --intervals adds bootstrap intervals that show parameter uncertainty only, not each customer's own
    randomness."""
    from segone.behaviour.btyd import predictions
    from segone.behaviour.scores import period_rate
    from segone.exporting import write_file
    from segone.exporting.columns import Column, Kind
    from segone.exporting.csv_writer import csv_chunks

    if as_csv == as_json:
        raise Invalid("Give exactly one of --csv and --json.")
    if horizon <= 0:
        raise Invalid("--horizon must be positive.")
    if intervals is not None and not 0.0 < intervals < 1.0:
        raise Invalid("--intervals must lie between 0 and 1 (0.9 for 5% to 95%).")
    fitted = None if params_file is None else read_fit(params_file, model)
    header = summary_header(summary)
    money = MONEY_COLUMN in header
    columns = read_summary(summary, RFM_COLUMNS + ((MONEY_COLUMN,) if money else ()))
    ids_name, ids = read_ids(summary, header)
    if fitted is None:
        fitted = fit_model(Model(model.value), columns)
    x, t_x, T = (columns[name] for name in RFM_COLUMNS)
    spend = None
    discounting = None
    value = None
    try:
        if money:
            spend = fit_model(Model.gamma_gamma, columns)
            from segone.behaviour.btyd import gammagamma

            value = gammagamma.expected_value(spend.params, x, columns[MONEY_COLUMN])
            annual = discount_rate
            if annual is None:
                annual = runtime_of(ctx, migrated=False).settings.behaviour_discount_rate
            if not 0.0 <= annual < 1.0:
                raise Invalid("--discount-rate must lie in [0, 1).")
            weeks = horizon if time_unit is TimeUnit.week else horizon / 7.0
            periods = max(1, round(weeks / 4))
            discounting = predictions.Discounting(
                periods, period_rate(annual, weeks / periods), horizon / periods
            )
        point = predictions.predict(
            fitted.params, x, t_x, T, horizon=horizon, value=value, discounting=discounting
        )
        bands = None
        if intervals is not None:
            bands = predictions.intervals(
                fitted,
                x,
                t_x,
                T,
                horizon=horizon,
                level=intervals,
                draws=draws,
                spend=spend,
                monetary_value=columns[MONEY_COLUMN] if money else None,
                discounting=discounting,
            )
    except ValueError as exc:
        raise Invalid(f"Cannot predict with {model.value}: {exc}.") from None
    names = [name for name in predictions.COLUMNS if name in point]
    rows: list[dict[str, Any]] = []
    for i in range(x.shape[0]):
        row: dict[str, Any] = {} if ids_name is None else {ids_name: ids[i]}
        for name in names:
            row[name] = float(point[name][i])
            if bands is not None:
                row[f"{name}_low"] = float(bands.lower[name][i])
                row[f"{name}_high"] = float(bands.upper[name][i])
        rows.append(row)
    if as_csv:
        kinds = [Column(ids_name)] if ids_name is not None else []
        kinds += [Column(name, Kind.FLOAT) for name in rows[0] if name != ids_name]
        chunks = list(csv_chunks(kinds, [rows]))
    else:
        document = {
            "model": model.value,
            "source": str(summary),
            "horizon": horizon,
            "parameters": asdict(fitted.params),
            "standard_errors": fitted.standard_errors,
            "gamma_gamma": None if spend is None else asdict(spend.params),
            "intervals": None
            if bands is None
            else {"level": intervals, "draws": draws, "meaning": "parameter uncertainty only"},
            "customers": rows,
        }
        chunks = [(json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")]
    if output is None:
        for chunk in chunks:
            typer.echo(chunk.decode("utf-8"), nl=False)
        return
    write_file(chunks, output)
    typer.echo(f"Wrote predictions for {len(rows):,} customers to {output}.", err=True)


def summary_header(path: Path) -> list[str]:
    if not path.is_file():
        raise Invalid(f"Cannot read {path}: no such file.")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [name.strip() for name in next(csv.reader(handle), [])]


def read_ids(path: Path, header: list[str]) -> tuple[str | None, list[str]]:
    """The customer id column (``customer_id``, else the first that is no model column) and its values,
    row for row with ``read_summary`` (which skips the same blank rows)."""
    known = {*RFM_COLUMNS, MONEY_COLUMN}
    name = ID_COLUMN if ID_COLUMN in header else next((n for n in header if n and n not in known), None)
    if name is None:
        return None, []
    position = header.index(name)
    values: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            values.append(row[position].strip() if position < len(row) else "")
    return name, values


def read_fit(path: Path, model: PredictModel) -> Any:
    """A ``FitResult`` from the JSON that ``models fit MODEL --json`` printed; ``Invalid`` if it is not."""
    from segone.behaviour.btyd import BGNBDParams, FitResult, ParetoNBDParams

    if not path.is_file():
        raise Invalid(f"Cannot read {path}: no such file.")
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        raise Invalid(f"{path.name} is not JSON.") from None
    if not isinstance(document, dict) or document.get("model") != model.value:
        raise Invalid(f"{path.name} is not the output of 'segone models fit {model.value} --json'.")
    kind = BGNBDParams if model is PredictModel.bgnbd else ParetoNBDParams
    try:
        params = kind(**{name: float(value) for name, value in document["parameters"].items()})
        values = params.as_array()
        covariance = document.get("covariance")
        matrix = None if covariance is None else np.asarray(covariance, dtype=np.float64)
        if not (np.all(np.isfinite(values)) and np.all(values > 0)):
            raise ValueError
        if matrix is not None and (matrix.shape != (values.shape[0],) * 2 or not np.all(np.isfinite(matrix))):
            raise ValueError
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Invalid(
            f"{path.name}: the parameters of {model.value} are missing or not positive numbers."
        ) from None
    return FitResult(
        params=params,
        log_likelihood=float(document.get("log_likelihood", float("nan"))),
        n_customers=int(document.get("n_customers", 0)),
        seconds=0.0,
        converged=bool(document.get("converged", True)),
        n_starts=0,
        message="read from " + path.name,
        covariance=matrix,
    )

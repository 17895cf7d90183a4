"""``segone behaviour``: refresh every customer's profile and model scores; show the last refresh."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer

from segone import formatting
from segone.accounts.schemas import SYSTEM
from segone.behaviour import service as profiles
from segone.cli.common import JsonOption, print_json, progress_bar, runtime_of

app = typer.Typer(
    name="behaviour",
    help="Behaviour: profiles and model scores (P(alive), expected purchases, CLV) for every customer.",
    no_args_is_help=True,
)


class RefreshModel(StrEnum):
    best = "best"
    pareto_nbd = "pareto-nbd"
    bgnbd = "bgnbd"
    mbgnbd = "mbgnbd"


@app.command("refresh")
def refresh(
    ctx: typer.Context,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            metavar="DATE",
            help="Profiles as of the end of this day (default: today, UTC).",
        ),
    ] = None,
    model: Annotated[
        RefreshModel | None,
        typer.Option(
            "--model",
            help="The purchase model that scores the customers; best: the one with the lowest holdout error "
            "on the events (models evaluate --model all), Pareto/NBD when they cannot be compared "
            "[default: the setting SEGONE_BEHAVIOUR_MODEL, else pareto-nbd].",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Flush staged events, compute profiles and fit the models on the engine, write them to the store."""
    # Here, not at the top: the engine and the models take seconds to load; --help does without them.
    from segone import processes
    from segone.behaviour import refresh as refreshing

    # This process ends with the refresh, so it can keep what its fit frees, as a job's process does.
    processes.keep_freed_memory()
    runtime = runtime_of(ctx)
    with progress_bar() as progress:
        report = refreshing.refresh(
            runtime.sessions,
            runtime.settings,
            actor=SYSTEM,
            as_of=as_of.date() if as_of else None,
            progress=progress,
            model=model.value if model else None,
        )
    if as_json:
        print_json(report.as_dict())
        return
    seconds = sum(report.seconds.values())
    typer.echo(
        f"Refreshed {formatting.count(report.customers)} customers' behaviour as of "
        f"{report.as_of.isoformat()} from {formatting.count(report.events)} events in {seconds:.1f} s."
    )
    for name, fitted in profiles.fitted_models(report.models).items():
        params = ", ".join(f"{key} {value:.4g}" for key, value in fitted["params"].items())
        typer.echo(
            f"  {name}: {params} (LL {fitted['log_likelihood']:,.1f}, "
            f"{formatting.count(fitted['customers'])} customers)"
        )
    scorer = profiles.scoring_model(report.models)
    selection = profiles.selection_of(report.models) or {}
    if scorer:
        why = f" ({selection['why']})" if selection.get("why") else ""
        typer.echo(f"  The customers' P(alive) and expected purchases are {scorer}'s{why}.")
    comparison = selection.get("comparison")
    if comparison:
        errors = ", ".join(f"{key} {value:.4f}" for key, value in comparison["mean_absolute_error"].items())
        typer.echo(
            f"  Holdout MAE per customer, best first ({comparison['calibration_end']} to "
            f"{comparison['holdout_end']}): {errors}"
        )
    for note in report.notes:
        typer.echo(f"  Note: {note}")


@app.command("status")
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """When the profiles were last refreshed, as of which day, and how that went."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        run = profiles.latest_refresh(db, actor=SYSTEM)
        data = None if run is None else profiles.to_out(run).model_dump(mode="json")
    if as_json:
        print_json({"refresh": data})
        return
    if data is None:
        typer.echo("No refresh yet: run 'segone behaviour refresh'.")
        return
    typer.echo(
        f"Refresh {data['id']} ({data['status']}) as of {data['as_of']}, started {data['started_at']}: "
        f"{formatting.count(data['customers'] or 0)} customers, "
        f"{formatting.count(data['events'] or 0)} events."
    )
    if data["message"]:
        typer.echo(f"  {data['message']}")

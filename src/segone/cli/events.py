"""``segone events``: import event files, flush API batches into the dataset, compact it, count it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from segone import formatting
from segone.accounts.schemas import SYSTEM
from segone.cli.common import JsonOption, import_report, print_json, runtime_of
from segone.errors import Invalid
from segone.importing import parse_mapping
from segone.runtime import Runtime

if TYPE_CHECKING:
    from ibis import BaseBackend

# The commands import the events dataset (PyArrow) and the engine (Ibis) themselves: seconds of loading
# that the other commands, and --help, do without.
app = typer.Typer(
    name="events",
    help="Events: import files of what customers did, flush API batches, compact and count the dataset.",
    no_args_is_help=True,
)


def _connect(runtime: Runtime) -> BaseBackend:
    from segone.analytics import backend

    return backend.connect(runtime.settings.analytics_url, runtime.settings.data_dir)


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV, Parquet or JSON Lines (or a CDNOW file).")
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, parquet or jsonl; default: by the file's extension.")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option("--map", help="Source columns of the fields: customer=cust_id,timestamp=date,..."),
    ] = None,
    date_format: Annotated[
        list[str] | None,
        typer.Option(
            "--date-format", help="A strptime format such as %Y%m%d (repeatable); default ISO 8601."
        ),
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="cdnow: a CDNOW_master.txt-format file.")
    ] = None,
    unknown: Annotated[
        str, typer.Option("--unknown", help="Unknown customer identities: create customers, or reject.")
    ] = "create",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row; write nothing.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Import one file of events as one batch of the dataset; all or nothing."""
    from segone.behaviour import ingest
    from segone.behaviour.events import ISO8601

    if unknown not in ("create", "reject"):
        raise Invalid(f"--unknown must be create or reject, not '{unknown}'.")
    runtime = runtime_of(ctx)
    with import_report(as_json):
        report = ingest.import_file(
            runtime.sessions,
            dataset=ingest.dataset_of(runtime.settings.data_dir),
            actor=SYSTEM,
            path=file,
            fmt=fmt,
            mapping=parse_mapping(mapping),
            date_formats=tuple(date_format or (ISO8601,)),
            preset=preset,
            unknown="reject" if unknown == "reject" else "create",
            dry_run=dry_run,
        )
    if as_json:
        print_json(report)
        return
    rate = report.rows / report.seconds if report.seconds else 0.0
    would = " (dry run: nothing was written)" if dry_run else ""
    typer.echo(
        f"Imported {file.name}: {formatting.count(report.rows)} rows, "
        f"{formatting.count(report.events_written)} events written, "
        f"{formatting.count(report.customers_created)} customers created in {report.seconds:.1f}s "
        f"({rate:,.0f} events/s){would}."
    )


@app.command()
def flush(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Move the events received through the API into the dataset."""
    from segone.behaviour import ingest

    runtime = runtime_of(ctx)
    moved = ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(runtime.settings.data_dir))
    if as_json:
        print_json({"flushed": moved})
        return
    typer.echo(f"Flushed {formatting.count(moved)} staged events into the dataset.")


@app.command()
def compact(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Rewrite the dataset de-duplicated into fewer, larger files."""
    from segone.behaviour import ingest

    runtime = runtime_of(ctx)
    result = ingest.compact(_connect(runtime), ingest.dataset_of(runtime.settings.data_dir))
    if as_json:
        print_json(
            {
                "files_before": result.files_before,
                "files_after": result.files_after,
                "rows": result.rows_after,
                "leftovers_removed": result.leftovers_removed,
            }
        )
        return
    typer.echo(
        f"Compacted {formatting.count(result.files_before)} files into "
        f"{formatting.count(result.files_after)} ({formatting.count(result.rows_after)} events)."
    )
    if result.leftovers_removed:
        typer.echo(
            f"Removed {formatting.count(result.leftovers_removed)} temporary files left by killed writes."
        )


@app.command()
def count(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """How many events the dataset holds (each event_id once), how many wait in staging, and any temporary
    files that writes left behind."""
    from segone.behaviour import ingest

    runtime = runtime_of(ctx)
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    events = ingest.count(_connect(runtime), dataset)
    leftovers = ingest.leftovers(dataset)
    with runtime.session() as db:
        staged = ingest.staged_count(db)
    if as_json:
        print_json(
            {
                "events": events,
                "staged": staged,
                "leftovers": [
                    {
                        "file": left.path.name,
                        "bytes": left.size,
                        "writer": left.writer,
                        "abandoned": left.abandoned,
                    }
                    for left in leftovers
                ],
            }
        )
        return
    typer.echo(f"{formatting.count(events)} events ({formatting.count(staged)} staged, not yet flushed).")
    abandoned = [left for left in leftovers if left.abandoned]
    if abandoned:
        size = sum(left.size for left in abandoned) / 2**20
        typer.echo(
            f"{formatting.count(len(abandoned))} temporary files ({size:,.1f} MiB) left by writes that were "
            "killed: the next import or 'segone events compact' removes them."
        )
    if len(leftovers) > len(abandoned):
        typer.echo(f"{formatting.count(len(leftovers) - len(abandoned))} files being written now.")

"""``segone export``: customers, facts or encounters as CSV or Parquet, to a file or to stdout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segone.cli.common import actor_named, progress_bar, runtime_of
from segone.errors import Invalid
from segone.exporting import Export, Format, stream, write_file
from segone.exporting.streams import write_to
from segone.runtime import Runtime
from segone.views import exports
from segone.views.exports import ExportKind

app = typer.Typer()


@app.command()
def export(
    ctx: typer.Context,
    what: Annotated[
        ExportKind,
        typer.Argument(
            case_sensitive=False,
            help="What to export: customers, facts, encounters or audit-log (administrators).",
        ),
    ],
    fmt: Annotated[
        Format, typer.Option("--format", case_sensitive=False, help="csv (UTF-8) or parquet.")
    ] = Format.CSV,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="The file to write (replaced if it exists), or '-' for stdout. Without it CSV goes to "
            "stdout; Parquet needs it.",
        ),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="EMAIL",
            help="Export as this user (their permissions, their name in the audit trail).",
        ),
    ] = None,
) -> None:
    """Export every customer (in the layout 'customers import' reads back), fact or encounter, 10,000 rows
    at a time in constant memory, with a progress bar on stderr. See docs/cli.md for the columns."""
    check_output(fmt, output)
    runtime = runtime_of(ctx)
    with runtime.session() as db:  # the audit entry is committed before any row is written
        started = exports.start(db, actor=actor_named(db, as_user), what=what, fmt=fmt)
    deliver(runtime, started, fmt, output)


def check_output(fmt: Format, output: str | None) -> None:
    if output is None and fmt is Format.PARQUET:
        raise Invalid("Parquet is binary: name a file with --output, or write it to stdout with --output -.")


def deliver(runtime: Runtime, started: Export, fmt: Format, output: str | None) -> None:
    """Stream a started export to the file or stdout, with a progress bar, and say how many rows went."""
    written = 0
    with progress_bar() as bar:

        def progress(stage: str, done: int, total: int | None) -> None:
            nonlocal written
            written = done
            bar(stage, done, total)

        chunks = stream(started, fmt, runtime.session, progress=progress)
        if output in (None, "-"):
            stdout = typer.get_binary_stream("stdout")
            write_to(chunks, stdout)
            stdout.flush()
            where = "stdout"
        else:
            path = Path(output)  # the shell has expanded ~ already
            write_file(chunks, path)
            where = str(path)
    typer.echo(f"Exported {written:,} {started.name} to {where}.", err=True)

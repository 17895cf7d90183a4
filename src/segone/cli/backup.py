"""``segone backup`` and ``segone restore``: the embedded stores into one directory and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segone import formatting
from segone.cli.common import JsonOption, print_json
from segone.migrations import backup as backups
from segone.settings import Settings

app = typer.Typer()


@app.command()
def backup(
    destination: Annotated[
        Path, typer.Argument(metavar="DEST", help="A new or empty directory to write the backup to.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Back up the SQLite store and every file of the data directory (the events dataset too) into DEST,
    with a manifest of checksums; safe while the server runs. On PostgreSQL: pg_dump (docs/install.md)."""
    # The settings only: a runtime would open the database through the engine, which a backup of a
    # store not set up must not create.
    report = backups.backup(Settings(), destination)
    if as_json:
        print_json(
            {
                "directory": str(report.directory),
                "revision": report.revision,
                "created_at": report.created_at.isoformat(),
                "files": report.files,
                "bytes": report.bytes,
            }
        )
        return
    typer.echo(
        f"Backed up the store (revision {report.revision or 'none'}) to {report.directory}: "
        f"{formatting.count(report.files)} files, {formatting.count(report.bytes)} bytes."
    )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(metavar="SRC", help="A directory 'segone backup' wrote.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace what is in the data directory (it is emptied first).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup made by 'segone backup' into the data directory, after checking its manifest and
    checksums; refuses a non-empty data directory without --force. Stop the server first."""
    report = backups.restore(Settings(), source, force=force)
    if as_json:
        print_json(
            {
                "source": str(report.source),
                "revision": report.revision,
                "created_at": report.created_at,
                "files": report.files,
                "needs_upgrade": report.needs_upgrade,
            }
        )
        return
    typer.echo(
        f"Restored the backup of {report.created_at} (revision {report.revision or 'none'}, "
        f"{formatting.count(report.files)} files) from {report.source}."
    )
    if report.needs_upgrade:
        typer.echo("The backup is from an older segone: run 'segone db upgrade' before serving it.")

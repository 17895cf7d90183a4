"""``segone offerings``: the catalogue of offerings, the packages of value purchases name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from segone import formatting
from segone.accounts.schemas import SYSTEM
from segone.cli.common import (
    DryRunOption,
    ImportAsOption,
    JsonOption,
    actor_named,
    imported_line,
    print_json,
    run_import,
    runtime_of,
    stdout,
)
from segone.personalisation import importer
from segone.personalisation import service as offerings
from segone.personalisation.schemas import OfferingDetail, price_band_label

app = typer.Typer(
    name="offerings",
    help="Offerings: the catalogue of what the business sells; import it from CSV, list, show, deactivate.",
    no_args_is_help=True,
)

KeyArgument = Annotated[
    str, typer.Argument(metavar="KEY", help="The offering's key, as events name it (guitar-lessons-10).")
]


@app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv",
            help="key, name, description, price_band, needs, active; other columns are attributes "
            "(docs/personalisation.md).",
        ),
    ],
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="The file's encoding (windows-1252, latin-1...); default: detected."),
    ] = None,
    dry_run: DryRunOption = False,
    as_user: ImportAsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create and update offerings by key from a CSV file; all or nothing."""
    report = run_import(
        ctx,
        file,
        as_user=as_user,
        as_json=as_json,
        load=lambda db, actor, data, progress: importer.import_offerings(
            db, actor=actor, data=data, dry_run=dry_run, encoding=encoding, progress=progress
        ),
    )
    if report is None:
        return
    read_as = f" (read as {report.encoding})" if report.encoding else ""
    typer.echo(
        imported_line(
            file.name,
            f"{report.rows} rows{read_as}; {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged",
            dry_run=dry_run,
        )
    )
    for warning in report.warnings:
        where = f"row {warning.row}" if warning.row is not None else "file"
        column = f", column {warning.column}" if warning.column else ""
        typer.echo(f"  {where}{column}: {warning.problem}", err=True)


@app.command("list")
def list_offerings(
    ctx: typer.Context,
    search: Annotated[str | None, typer.Option(help="Part of a key, name, description or need.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Deactivated offerings too.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many to show.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="How many to skip (for paging).")] = 0,
    as_json: JsonOption = False,
) -> None:
    """Offerings by name, with their price band and the needs they serve."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        page = offerings.list_offerings(
            db, actor=SYSTEM, search=search, active_only=not all_, offset=offset, limit=limit
        )
    if as_json:
        print_json(page)
        return
    if not page.items:
        hint = "" if search else " Import some with 'segone offerings import FILE.csv'."
        typer.echo(f"No offerings found.{hint}")
        return
    table = Table("key", "name", "price band", "needs", box=None)
    for item in page.items:
        name = item.name if item.active else f"{item.name} (deactivated)"
        band = price_band_label(item.price_band, runtime.settings.currency)
        table.add_row(item.key, name, band, ", ".join(item.needs))
    console = stdout()
    console.print(table, markup=False)
    last = offset + len(page.items)
    console.print(
        f"{formatting.count(offset + 1)}-{formatting.count(last)} of {formatting.count(page.total)}"
    )


@app.command()
def show(ctx: typer.Context, key: KeyArgument, as_json: JsonOption = False) -> None:
    """One offering, and how many purchase events name it."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        detail = offerings.detail(
            db,
            actor=SYSTEM,
            key=key,
            data_dir=runtime.settings.data_dir,
            analytics_url=runtime.settings.analytics_url,
        )
    if as_json:
        print_json(detail)
        return
    _print_detail(detail, runtime.settings.currency)


def _print_detail(detail: OfferingDetail, currency: str) -> None:
    console = stdout()
    state = "" if detail.active else "  (deactivated)"
    console.print(f"{detail.name}  ({detail.key}){state}", markup=False)
    if detail.description:
        console.print(detail.description, markup=False)
    console.print(f"Price band: {price_band_label(detail.price_band, currency)}", markup=False)
    console.print(f"Needs: {', '.join(detail.needs) or formatting.NO_VALUE}", markup=False)
    for name, value in detail.attributes.items():
        console.print(f"{name}: {value}", markup=False)
    console.print(f"Purchases: {formatting.plural(detail.purchases, 'purchase event')}", markup=False)


@app.command()
def deactivate(
    ctx: typer.Context,
    key: KeyArgument,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Act as this user (needs the settings permission).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """No longer offered: left out of lists, kept for the purchases that name it."""
    runtime = runtime_of(ctx)
    with runtime.session() as db:
        out = offerings.deactivate(db, actor=actor_named(db, as_user), key=key)
    if as_json:
        print_json(out)
        return
    typer.echo(f"{out.name} ({out.key}) is deactivated: no longer listed, kept for its purchases.")

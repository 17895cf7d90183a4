"""``segone db``: the operational store's schema."""

from __future__ import annotations

import typer

from segone.cli.common import JsonOption, print_json, runtime_of
from segone.migrations import migrate

app = typer.Typer(
    name="db",
    help="The operational store: create or upgrade its schema, show its revision.",
    no_args_is_help=True,
)


def _where(ctx: typer.Context) -> str:
    runtime = runtime_of(ctx, migrated=False)
    return runtime.engine.url.render_as_string(hide_password=True)


@app.command()
def upgrade(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Create the store or bring its schema up to date (safe to run again)."""
    runtime = runtime_of(ctx, migrated=False)
    before = migrate.current_revision(runtime.engine)
    runtime.upgrade_schema()
    after = migrate.current_revision(runtime.engine)
    if as_json:
        print_json({"database": _where(ctx), "from_revision": before, "revision": after})
    elif before == after:
        typer.echo(f"The store is up to date (revision {after}): {_where(ctx)}")
    else:
        typer.echo(f"Upgraded the store from {before or 'nothing'} to revision {after}: {_where(ctx)}")


@app.command()
def current(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the store's schema revision and whether it is current."""
    runtime = runtime_of(ctx, migrated=False)
    revision = migrate.current_revision(runtime.engine)
    head = migrate.head_revision()
    if as_json:
        print_json(
            {"database": _where(ctx), "revision": revision, "head": head, "up_to_date": revision == head}
        )
    elif revision is None:
        typer.echo(f"The store is not set up: run 'segone db upgrade'. ({_where(ctx)})")
    elif revision == head:
        typer.echo(f"Revision {revision} (up to date): {_where(ctx)}")
    else:
        typer.echo(f"Revision {revision}; this segone needs {head}: run 'segone db upgrade'. ({_where(ctx)})")

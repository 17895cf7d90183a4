"""The ``segone`` command: settings from the environment, one runtime, the domains' sub-commands."""

from __future__ import annotations

from typing import Annotated

import typer

from segone.cli import (
    behaviour,
    customers,
    db,
    demo,
    events,
    export,
    facts,
    forecasts,
    knowledge,
    serve,
    tokens,
    users,
)
from segone.cli.common import SegoneGroup
from segone.runtime import Runtime
from segone.settings import Settings
from segone.version import __version__

app = typer.Typer(
    cls=SegoneGroup,
    name="segone",
    help=(
        "Segment of One: customer learning until every customer is a segment of one. "
        "Settings come from SEGONE_* variables: SEGONE_DATA_DIR (default ./.segone) and "
        "SEGONE_DATABASE_URL (default: SQLite in the data directory)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain messages: an error is one 'Error: ...' line, as grep-able as our own errors.
    rich_markup_mode=None,
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(customers.app, name="customers")
app.add_typer(facts.app, name="facts")
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(forecasts.app, name="models")
app.add_typer(events.app, name="events")
app.add_typer(behaviour.app, name="behaviour")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("export")(export.export)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"segone {__version__}")
        raise typer.Exit()


@app.callback()
def start(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    runtime = Runtime(Settings())
    ctx.obj = runtime
    ctx.call_on_close(runtime.dispose)


def main() -> None:
    app(prog_name="segone")

"""The ``segone`` command: its sub-commands, listed by the root and imported when used (``subcommands``)."""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from segone.cli.group import SegoneGroup
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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"segone {__version__}")
        raise typer.Exit()


@app.callback()
def start(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """The root's own option. The settings and the store are the commands' (``common.runtime_of``), made
    when one first needs them: ``--help`` and ``--version`` start without them."""


def main() -> None:
    try:
        app(prog_name="segone")
    finally:
        # What the command loaded lives until the process ends, yet Python's last collection as it exits
        # went over all of it: a tenth of a second of 'customers show'. Collections leave frozen objects out.
        gc.freeze()

"""What the sub-commands share: the runtime, the acting user, output as text or JSON, imports, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Actor
from segone.errors import SegoneError
from segone.importing import ImportRejected
from segone.migrations import migrate
from segone.progress import Progress
from segone.runtime import Runtime
from segone.settings import Settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")]
ImportAsOption = Annotated[
    str | None,
    typer.Option("--as", help="Import as this user (their permissions, their name in history)."),
]


def imported_line(file_name: str, counts: str, *, dry_run: bool) -> str:
    """What an import command says when it is done: ``Imported people.csv: 3 rows; ...``."""
    verb, would = ("Checked", " (dry run: nothing was written)") if dry_run else ("Imported", "")
    return f"{verb} {file_name}: {counts}{would}."


def runtime_of(ctx: typer.Context, *, migrated: bool = True) -> Runtime:
    """The process's runtime, made from the environment by the first call and disposed of when the command
    ends; with ``migrated``, first checks that the store's schema is current."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Runtime(Settings())
        root.call_on_close(root.obj.dispose)
    runtime: Runtime = root.obj
    if migrated:
        current = migrate.current_revision(runtime.engine)
        head = migrate.head_revision()
        if current != head:
            state = "is not set up" if current is None else f"is at revision {current}, not {head}"
            raise SegoneError(f"The store {state}; run 'segone db upgrade' first.")
    return runtime


def actor_named(db: Session, email: str | None) -> Actor:
    """The user named on the command line, or the operator (all permissions) when none is."""
    if not email:
        return SYSTEM
    return accounts.actor_for(accounts.get_by_email(db, email=email))


def to_jsonable(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [to_jsonable(item) for item in data]
    if isinstance(data, dict):
        return {key: to_jsonable(value) for key, value in data.items()}
    return data


def print_json(data: Any) -> None:
    typer.echo(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False, default=str))


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextmanager
def progress_bar() -> Iterator[Progress]:
    """The ``Progress`` of a long job, drawn as a bar per stage on stderr when it is a terminal."""
    # Here, not at the top: the commands that draw no bar (most of them) start without rich.progress.
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
    from rich.progress import Progress as Bars

    console = Console(stderr=True)
    interactive = console.is_terminal and sys.stderr.isatty()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Bars(*columns, console=console, transient=True, disable=not interactive) as bars:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield report


@contextmanager
def import_report(as_json: bool) -> Iterator[None]:
    """When an import is rejected, its report as JSON on stdout with ``--json``; the error as always."""
    try:
        yield
    except ImportRejected as exc:
        if as_json:
            print_json(exc.report)
        raise


Report = TypeVar("Report")


def run_import(
    ctx: typer.Context,
    file: Path,
    *,
    as_user: str | None,
    as_json: bool,
    load: Callable[[Session, Actor, bytes, Progress], Report],
) -> Report | None:
    """Read the file and ``load`` it in one transaction, as the named user, under a progress bar.

    With ``--json`` the report is printed (a rejected file's too) and None returned: the caller says
    nothing more. Otherwise the report, for the caller's summary.
    """
    data = file.read_bytes()
    runtime = runtime_of(ctx)
    with import_report(as_json), runtime.session() as db, progress_bar() as progress:
        report = load(db, actor_named(db, as_user), data, progress)
    if as_json:
        print_json(report)
        return None
    return report

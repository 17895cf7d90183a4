"""Every CLI command that reads or writes a file, given paths that are not what it expects.

The commands are found in the CLI itself (every parameter whose metavar is ``FILE…`` or ``PATH``), so one
added later is tried by construction; a new one needs its other required arguments in ``ARGUMENTS``. A path
to read that is missing, a folder, a dangling link or a climb out of the working folder is one ``Error:``
line naming it and exit code 2; a path to write into a folder that is not there, or onto a folder, is exit
code 2 with nothing written anywhere; a link in place of the file to write is replaced, and what it points
at is left alone. (The API and the web take uploads, never a file name: ``tests/api/test_body_size.py``
and the import tests.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click
import pytest
import typer

from segone.accounts.schemas import SYSTEM
from segone.cli.group import Unloaded
from segone.cli.main import app
from segone.quality import service as quality
from segone.quality.schemas import SurveyCreate
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from tests.cdnow import SUMMARY
from tests.cli.conftest import Invoke, one_line_error
from tests.factories import make_customer

ARGUMENTS: dict[str, list[str]] = {
    "customers export-data": ["{customer}"],
    "models fit": ["pareto-nbd"],
    "models predict": ["bgnbd", "--summary", str(SUMMARY), "--horizon", "4", "--csv"],
    "segments export": ["{version}", "1"],
    "audiences export": ["Hostile"],
    "messages send": ["{customer}", "--purpose", "follow-up", "--channel", "email"],
    "messages template-set": ["follow-up"],
    "cards export": ["--period", f"{date.today():%Y-%m}"],
    "export": ["customers"],
    "surveys import": ["Hostile"],
}
"""The other arguments a command needs, before the file (``{customer}``, ``{version}``: seeded ids)."""


CLIMB_OUT = "/".join([os.pardir] * 3 + ["nowhere", "etc", "passwd"])
"""A climb out of the working folder to a file that is not there (built, so that the repository's scan for
paths leaving the checkout, tests/test_self_contained.py, sees no literal one: nothing is read there)."""


def _commands() -> Iterator[tuple[str, Any]]:
    root = typer.main.get_command(app)
    context = click.Context(root)
    for name in root.list_commands(context):
        command = root.get_command(context, name)
        if isinstance(command, Unloaded):
            command = command.subcommand.load(name, root)
        group = command if hasattr(command, "list_commands") else None
        subcommands = (
            [(f"{name} {sub}", group.get_command(context, sub)) for sub in group.list_commands(context)]
            if group
            else [(name, command)]
        )
        for full_name, sub in subcommands:
            for param in sub.params if sub else ():
                if (param.metavar or "").startswith(("FILE", "PATH")):
                    yield full_name, param


FILE_PARAMETERS = sorted(_commands(), key=lambda found: found[0])
READS = [(name, p) for name, p in FILE_PARAMETERS if p.name != "output"]
WRITES = [(name, p) for name, p in FILE_PARAMETERS if p.name == "output"]


def test_the_file_parameters_are_found() -> None:
    names = {name for name, _ in READS}
    assert {"customers import", "events import", "offerings import", "facts import"} <= names
    assert {"export", "customers export-data", "segments export"} <= {name for name, _ in WRITES}


def _argv(name: str, param: Any, path: str, ids: dict[str, int]) -> list[str]:
    extra = [arg.format(**ids) for arg in ARGUMENTS.get(name, [])]
    given = [path] if param.param_type_name == "argument" else [param.opts[0], path]
    return [*name.split(), *extra, *given]


@pytest.fixture
def ids(store: Runtime) -> dict[str, int]:
    customer = make_customer(store, name="Ann", attributes={"plan": "gold"})
    make_customer(store, name="Bob", attributes={"plan": "silver"})
    version = segmentation.build(store.sessions, store.settings, actor=SYSTEM, variables=["attribute:plan"])
    with store.session() as db:
        segmentation.save_audience(
            db, store.settings, actor=SYSTEM, name="Hostile", version_id=version.id, node_id=1
        )
        quality.create_survey(db, actor=SYSTEM, data=SurveyCreate(name="Hostile"))
    return {"customer": customer, "version": version.id}


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")}


@pytest.mark.parametrize(("name", "param"), READS, ids=[f"{n} {p.name}" for n, p in READS])
def test_a_file_to_read_that_is_not_a_file_is_refused_by_name(
    segone: Invoke,
    ids: dict[str, int],
    tmp_path: Path,
    name: str,
    param: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    (work / "folder.csv").mkdir(parents=True)
    (work / "dangling.csv").symlink_to(work / "gone.csv")
    monkeypatch.chdir(work)
    for path in (
        "missing.csv",
        "folder.csv",
        "dangling.csv",
        CLIMB_OUT,
        str(work / "missing"),
    ):
        error = one_line_error(segone(*_argv(name, param, path, ids)))
        assert path.split("/")[-1] in error, (path, error)


@pytest.mark.parametrize(("name", "param"), WRITES, ids=[f"{n} {p.name}" for n, p in WRITES])
def test_a_file_to_write_where_none_can_be_is_refused_and_nothing_is_written(
    segone: Invoke, ids: dict[str, int], tmp_path: Path, name: str, param: Any
) -> None:
    out = tmp_path / "out"
    (out / "folder").mkdir(parents=True)
    before = _files(out)
    for path in (out / "folder", out / "no-such-folder" / "file.csv"):
        result = segone(*_argv(name, param, str(path), ids))
        assert result.exit_code == 2 and "Traceback" not in result.output, (path, result.output)
        assert _files(out) == before, path


@pytest.mark.parametrize(("name", "param"), WRITES, ids=[f"{n} {p.name}" for n, p in WRITES])
def test_a_link_in_place_of_the_file_to_write_is_replaced_not_followed(
    segone: Invoke, ids: dict[str, int], tmp_path: Path, name: str, param: Any
) -> None:
    victim = tmp_path / "elsewhere.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    result = segone(*_argv(name, param, str(link), ids))
    assert result.exit_code == 0, result.output
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not link.is_symlink() and link.stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    os.remove(link)

"""The CLI against a real SQLite store in a temporary data directory, through Typer's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from segone.cli.main import app
from segone.runtime import Runtime
from segone.settings import Settings

Invoke = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def segone(data_dir: Path) -> Invoke:
    """``segone("customers", "list")``: runs the command with SEGONE_DATA_DIR pointing at a fresh store."""
    runner = CliRunner()
    env = {"SEGONE_DATA_DIR": str(data_dir), "SEGONE_DATABASE_URL": "", "SEGONE_FACT_CATEGORIES": ""}

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), env=env, input=input)

    return invoke


@pytest.fixture
def store(segone: Invoke, data_dir: Path) -> Iterator[Runtime]:
    """A migrated store (by ``segone db upgrade``) and a runtime over it to check what commands wrote."""
    result = segone("db", "upgrade")
    assert result.exit_code == 0, result.output
    runtime = Runtime(Settings(data_dir=data_dir))
    yield runtime
    runtime.dispose()


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result: Result) -> str:
    """The failure's message: exit code 2, an 'Error: ...' line first on stderr, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("Error: ")
    return first

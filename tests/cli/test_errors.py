"""A failure is one 'Error: ...' line on stderr and exit code 2, whichever library raised it; a bug is not."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from segone.cli.main import app
from segone.cli.problems import problem_lines
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, one_line_error


def test_a_missing_file_names_the_file(segone: Invoke, store: Runtime, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    assert one_line_error(segone("customers", "import", str(missing))) == (
        f"Error: Cannot use {missing}: No such file or directory"
    )


def test_a_database_that_cannot_be_opened_is_the_database_refusing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'segone.db'}"
    env = {"SEGONE_DATA_DIR": str(tmp_path / "data"), "SEGONE_DATABASE_URL": url}
    result = CliRunner().invoke(app, ["customers", "list"], env=env)
    assert one_line_error(result) == "Error: The database refused the operation: unable to open database file"


def test_invalid_values_name_the_field(segone: Invoke, store: Runtime) -> None:
    error = one_line_error(segone("users", "create", "ann@example.com", "--role", "admin", "--password", "x"))
    assert error.startswith("Error: password: ")


def test_an_unexpected_exception_is_a_bug_and_keeps_its_traceback() -> None:
    assert problem_lines(RuntimeError("a bug")) is None
    assert problem_lines(KeyError("a bug")) is None

"""The root lists every sub-command with the help its module gives it, and loads a module when it is used."""

from __future__ import annotations

import importlib
import pkgutil

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

import segone.cli
from segone.cli.main import app
from segone.cli.subcommands import SUBCOMMANDS


def _root() -> TyperGroup:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return root


def test_each_listed_help_is_the_help_of_the_command_it_loads() -> None:
    root = _root()
    for name, subcommand in SUBCOMMANDS.items():
        command = subcommand.load(name, root)
        assert command.name == name
        # Click wraps the help, so a docstring's line breaks are no part of it.
        assert " ".join((command.help or "").split()) == subcommand.help, name


def test_every_command_module_is_listed() -> None:
    modules = (
        importlib.import_module(m.name) for m in pkgutil.iter_modules(segone.cli.__path__, "segone.cli.")
    )
    with_app = {m.__name__ for m in modules if isinstance(getattr(m, "app", None), typer.Typer)}
    assert with_app - {"segone.cli.main"} == {subcommand.module for subcommand in SUBCOMMANDS.values()}


def test_the_root_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == list(SUBCOMMANDS)
    assert "  users      Users: create them and list them." in listed


def test_a_command_is_loaded_for_its_own_help_and_a_mistyped_one_is_matched() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["db", "--help"])
    assert shown.exit_code == 0 and "upgrade" in shown.stdout and "current" in shown.stdout
    mistyped = runner.invoke(app, ["custmers"])
    assert mistyped.exit_code == 2
    assert "No such command 'custmers'. Did you mean 'customers'" in mistyped.stderr

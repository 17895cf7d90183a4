"""The root command group: sub-commands imported when used, errors of ours as one line and exit code 2."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from segone.cli.problems import problem_lines
from segone.cli.subcommands import SUBCOMMANDS, Subcommand

if TYPE_CHECKING:
    from typer._click import Command, Context

EXIT_ERROR = 2


class Unloaded(TyperCommand):
    """A sub-command known by its name and help until it is resolved: what ``--help`` lists and what a
    mistyped name is matched against."""

    def __init__(self, name: str, subcommand: Subcommand) -> None:
        super().__init__(name=name, help=subcommand.help)
        self.subcommand = subcommand


class SegoneGroup(TyperGroup):
    """The root command. It imports a sub-command's module only when the command is resolved (to run it
    or show its own help), so ``--help`` and ``--version`` load none; any error of ours becomes a message
    on stderr and exit code 2, no traceback."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, subcommand in SUBCOMMANDS.items():
            self.add_command(Unloaded(name, subcommand))

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, Unloaded):
            command = self.commands[name] = command.subcommand.load(name, self)
        return name, command, rest

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            lines = problem_lines(exc)
            if lines is None:
                raise
            typer.echo(f"Error: {lines[0]}", err=True)
            for line in lines[1:]:
                typer.echo(line, err=True)
            raise typer.Exit(EXIT_ERROR) from exc

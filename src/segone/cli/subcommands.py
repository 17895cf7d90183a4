"""The root's sub-commands by name: the module that holds each, and its help as ``segone --help`` lists it.

A sub-command's module is imported only when the command runs or shows its own help: the modules import
the store, the services and their libraries, which take longer to load than ``--help`` may take. Each
help here is the module's own (a test keeps them equal), so the list reads the same as the commands do.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from typer._click import Command


@dataclass(frozen=True)
class Subcommand:
    """``module`` has an ``app``: a Typer app named like the command (a group of commands), or one that
    holds the single command of that name."""

    module: str
    help: str

    def load(self, name: str, root: TyperGroup) -> Command:
        """The command, built as the root's ``add_typer`` would build it: the root's help style."""
        holder = typer.Typer(
            rich_markup_mode=root.rich_markup_mode,
            suggest_commands=root.suggest_commands,
            add_completion=False,
        )
        holder.add_typer(importlib.import_module(self.module).app)
        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        return group.commands[name]


# In the order of `segone --help`.
SUBCOMMANDS: dict[str, Subcommand] = {
    "serve": Subcommand(
        "segone.cli.serve",
        "Serve the web UI and the REST API (OpenAPI at /docs), after bringing the store's schema up to date.",
    ),
    "demo": Subcommand(
        "segone.cli.demo",
        "Load the demo: ~2,000 customers, what employees learned about them, encounters, demo sign-ins, "
        "a catalogue of offerings, and the CDNOW purchase history (69,659 purchases of 23,570 customers, "
        "moved forward to end today) with the known customers' purchases of offerings and behaviour "
        "profiles. The same seed on the same day gives the same store.",
    ),
    "db": Subcommand(
        "segone.cli.db", "The operational store: create or upgrade its schema, show its revision."
    ),
    "backup": Subcommand(
        "segone.cli.backup",
        "Back up the SQLite store and every file of the data directory (the events dataset too) into DEST, "
        "with a manifest of checksums; safe while the server runs. On PostgreSQL: pg_dump (docs/install.md).",
    ),
    "restore": Subcommand(
        "segone.cli.backup",
        "Restore a backup made by 'segone backup' into the data directory, after checking its manifest and "
        "checksums; refuses a non-empty data directory without --force. Stop the server first.",
    ),
    "users": Subcommand("segone.cli.users", "Users: create them and list them."),
    "tokens": Subcommand("segone.cli.tokens", "API tokens: the REST API's credentials."),
    "customers": Subcommand(
        "segone.cli.customers", "Customers: import them from CSV, list and search them, show one."
    ),
    "facts": Subcommand("segone.cli.facts", "Differentiators: what makes each customer different."),
    "briefing": Subcommand(
        "segone.cli.briefing",
        "What to know before meeting a customer: what makes them unique, what changed, what to ask.",
    ),
    "knowledge": Subcommand(
        "segone.cli.knowledge", "Knowledge: search what we know; traits, rarity and distinguishability."
    ),
    "models": Subcommand(
        "segone.cli.forecasts",
        "Behaviour models: fit BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, sBG or Gamma-Gamma; predict from them.",
    ),
    "events": Subcommand(
        "segone.cli.events",
        "Events: import files of what customers did, flush API batches, compact and count the dataset.",
    ),
    "behaviour": Subcommand(
        "segone.cli.behaviour",
        "Behaviour: profiles and model scores (P(alive), expected purchases, CLV) for every customer.",
    ),
    "segments": Subcommand(
        "segone.cli.segments",
        "Segments: drill down by the variables that differ most, to segments of one; stored versions.",
    ),
    "audiences": Subcommand(
        "segone.cli.audiences",
        "Audiences: segments saved under a name, evaluated again after every build, changed by hand.",
    ),
    "offerings": Subcommand(
        "segone.cli.offerings",
        "Offerings: the catalogue of what the business sells; import it from CSV, list, show, deactivate.",
    ),
    "messages": Subcommand(
        "segone.cli.messages",
        "Messages: templates by purpose, drafts in the customer's own facts, messages marked sent.",
    ),
    "strategy": Subcommand(
        "segone.cli.strategy",
        "The service strategy: what customers get, how they feel, the exceptions staff may grant.",
    ),
    "promises": Subcommand(
        "segone.cli.promises",
        "Promises made to customers: record them, mark them kept or broken, the promise-kept rate.",
    ),
    "recovery": Subcommand(
        "segone.cli.recovery",
        "Recovery cases: open them by hand or from complaint and return events, act, close; the measures.",
    ),
    "offers": Subcommand(
        "segone.cli.offers",
        "Offers: offerings matched to each customer with reasons in their terms; refresh, show, evaluate.",
    ),
    "cards": Subcommand(
        "segone.cli.cards",
        "Report cards: set them up, rate them, review a period with its shortfalls and action plans, export "
        "the scores for the bonus plan.",
    ),
    "surveys": Subcommand(
        "segone.cli.surveys",
        "The differentiation survey: set one up, record answers, the perception gap of the three groups.",
    ),
    "export": Subcommand(
        "segone.cli.export",
        "Export every customer (in the layout 'customers import' reads back), fact or encounter, 10,000 rows "
        "at a time in constant memory, with a progress bar on stderr. See docs/cli.md for the columns.",
    ),
}

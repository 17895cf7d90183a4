"""Schema migrations with Alembic, run from code (``segone db upgrade``, server start, tests).

Which revision a store is at and which one this segone ships are read without Alembic: every CLI command
checks them before it runs, and Alembic takes longer to load than such a command may take in all.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent
VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the store's schema is at, from Alembic's version table; None when it is not set up."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revision: str | None = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        return revision


def head_revision() -> str | None:
    """The newest revision this segone ships: the one that no other revision revises."""
    revises = dict(_declared(path) for path in (MIGRATIONS / "versions").glob("*.py"))
    heads = sorted(set(revises) - set().union(*revises.values()))
    if len(heads) > 1:
        raise RuntimeError(f"The migrations have several heads ({', '.join(heads)}); merge them.")
    return heads[0] if heads else None


def known_revisions() -> set[str]:
    """Every revision this segone ships: a store at any other one was migrated by a later segone."""
    return {revision for revision, _ in map(_declared, (MIGRATIONS / "versions").glob("*.py"))}


def _declared(path: Path) -> tuple[str, set[str]]:
    """A revision file's ``revision`` and the revisions its ``down_revision`` names (none, one or more)."""
    values = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    values[target.id] = ast.literal_eval(node.value)
    down = values.get("down_revision")
    return values["revision"], set() if down is None else {down} if isinstance(down, str) else set(down)

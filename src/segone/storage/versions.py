"""Optimistic versions of the rows people edit (customers, facts): of two edits made from the same version,
the first wins and the second is refused with the version it missed, instead of silently undoing the first.

A versioned table gives its model the ``Versioned`` column. An edit calls ``lock_for_edit`` first: it
takes the row's write lock (an UPDATE that changes nothing, the one lock SQLite and PostgreSQL both take the
same way) and reloads the row, so the version compared is the one no other transaction can change before
this one ends; then it applies its changes and ``bump``s the version when anything changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Mapped, Session, mapped_column


class Versioned:
    """Starts at 1; each accepted edit adds one."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")


def lock_for_edit(db: Session, row: Any) -> int:
    """Hold the row's write lock to the end of the transaction and reload it; returns its current version."""
    table = row.__table__
    # Columns that refresh themselves on every UPDATE (``updated_at``) are set to themselves: taking the
    # lock is not a change.
    unchanged = {column.name: column for column in table.columns if column.onupdate is not None}
    db.execute(update(table).where(table.c.id == row.id).values(version=table.c.version, **unchanged))
    db.refresh(row)
    return int(row.version)


def bump(row: Any) -> None:
    """Count a change of the row; computed by the database, so a bump made without the lock is not lost."""
    row.version = type(row).version + 1

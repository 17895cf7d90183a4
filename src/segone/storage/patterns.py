"""Text a user searches for, matched inside a column as text: their ``%``, ``_`` and ``\\`` are characters,
not ``LIKE`` wildcards (a search for ``100%`` finds "100% cotton", not every row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

ESCAPE = "\\"


def literal_like(text: str) -> str:
    """``text`` as a ``LIKE`` pattern that matches only itself (with ``escape=ESCAPE``)."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text`` somewhere, in any case (the same on SQLite and PostgreSQL)."""
    return func.lower(column).like(f"%{literal_like(text.lower())}%", escape=ESCAPE)

"""Cells a spreadsheet would run as formulas (``=HYPERLINK(...)``, ``@SUM(...)``): imported as the text
they are, and named in the report's warnings, because a person who exports them to a spreadsheet again
would run them (CSV injection) and because an export that holds them rarely meant to."""

from __future__ import annotations

import re
from collections.abc import Sequence

from segone.importing.problems import ImportProblem

FORMULA_WARNING = "looks like a spreadsheet formula; stored as text"
MAX_WARNINGS = 1000
_STARTS = ("=", "+", "-", "@")
_NUMBER = re.compile(r"^\d+([.,]\d+)?$")
# A signed number or phone number: "-12.5", "+44 20 7946 0000", "+1 (555) 010-0199".
_SIGNED = re.compile(r"^[\d\s().,/-]*\d[\d\s().,/-]*$")


def looks_like_formula(cell: str) -> bool:
    """Whether a cell starts as a formula does (``=`` ``+`` ``-`` ``@``) followed by something other than
    a plain number (after ``+`` or ``-``: other than a number or a phone number)."""
    text = cell.strip()
    if len(text) < 2 or not text.startswith(_STARTS):
        return False
    rest = text[1:].strip()
    if not rest:
        return False
    if text[0] in "+-":
        return not _SIGNED.match(rest)
    return not _NUMBER.match(rest)


def formula_warnings(
    header: Sequence[str], rows: Sequence[tuple[int, Sequence[str]]], *, limit: int = MAX_WARNINGS
) -> list[ImportProblem]:
    """One warning per formula-looking cell (row, column as the header names it), the first ``limit`` of
    them, then one that counts the rest."""
    warnings: list[ImportProblem] = []
    more = 0
    for line, values in rows:
        for index, cell in enumerate(values):
            first = cell[:1]
            if first not in _STARTS and not first.isspace():
                continue  # most cells, told apart by their first character alone
            if not looks_like_formula(cell):
                continue
            if len(warnings) < limit:
                column = header[index].strip() if index < len(header) else None
                warnings.append(ImportProblem(row=line, column=column or None, problem=FORMULA_WARNING))
            else:
                more += 1
    if more:
        warnings.append(
            ImportProblem(
                row=None, problem=f"{more} more cells look like spreadsheet formulas; stored as text too"
            )
        )
    return warnings

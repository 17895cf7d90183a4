"""Text cells that a spreadsheet would run as a formula, made inert; and back (OWASP "CSV Injection").

Excel, LibreOffice and Google Sheets take a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)``, ``=cmd|...``), and a leading tab or carriage return can hide one. An export writes such
a text cell with a ``'`` in front: spreadsheets show the text as it is and hide the quote. Reading the file
back, ``unescape`` takes off one ``'`` wherever ``escape`` could have put it, so what was exported is what is
imported. For that to hold for text that itself starts with quotes before one of those characters
(``'=x``), ``escape`` adds a quote to it too; text starting with a quote before anything else is left alone.
"""

from __future__ import annotations

TRIGGERS = frozenset("=+-@\t\r")
"""The first characters that make a spreadsheet read a cell as a formula."""
QUOTE = "'"


def escape(text: str) -> str:
    """The text as a CSV cell: ``"=1+2"`` -> ``"'=1+2"``, ``"'=x"`` -> ``"''=x"``, ``"Ann"`` -> ``"Ann"``."""
    first = text[:1]
    if first in TRIGGERS or (first == QUOTE and text.lstrip(QUOTE)[:1] in TRIGGERS):
        return QUOTE + text
    return text


def unescape(cell: str) -> str:
    """A CSV cell as the text that was exported: the one ``'`` ``escape`` adds is taken off."""
    if cell[:1] == QUOTE and cell.lstrip(QUOTE)[:1] in TRIGGERS:
        return cell[1:]
    return cell

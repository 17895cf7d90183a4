"""The import kit: what every import of a file shares, whatever it imports (it knows no domain).

- ``problems``: ``ImportProblem`` (line, column, what is wrong), the base ``ImportReport`` every import's
  report extends, and ``ImportRejected`` (an ``Invalid`` carrying the report) for all-or-nothing imports,
  whose report says it was a dry run when the import runs under ``reported_as_dry_run``;
- ``text``: bytes to text with the encoding named or detected (UTF-8 with or without a byte order mark,
  UTF-16 with one, else Windows-1252, else Latin-1) and the delimiter sniffed (``,`` ``;`` tab ``|``);
- ``sheets``: a CSV, Parquet or JSON Lines file as a header and rows, each with its line (CSV, JSON
  Lines) or position (Parquet), for imports that check row by row; a CSV cell's formula guard (``'=x``,
  ``segone.exporting.cells``) is taken off;
- ``tables``: the same formats as one Arrow table, for imports of millions of rows (events; imported by
  its own name, as it loads Arrow);
- ``columns``: matching a file's columns to the fields an import reads (aliases, an explicit map that
  may join columns);
- ``formulas``: cells a spreadsheet would run as formulas, for the report's warnings;
- ``yes_no``: the words a file writes for yes and no (imported by its own name).

Batches for the writes are ``segone.storage.batching``'s.

Imports report progress with ``segone.progress.Progress``.
"""

from __future__ import annotations

from segone.importing.columns import (
    ColumnMatch,
    Source,
    column_positions,
    mapped_sources,
    match_columns,
    normalise_header,
    parse_mapping,
)
from segone.importing.formulas import FORMULA_WARNING, formula_warnings, looks_like_formula
from segone.importing.problems import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    bad_rows_message,
    reported_as_dry_run,
    row_width_problem,
)
from segone.importing.sheets import Sheet, read_sheet
from segone.importing.text import Decoded, decode, encoding_label, sniff_delimiter

__all__ = [
    "FORMULA_WARNING",
    "ColumnMatch",
    "Decoded",
    "ImportProblem",
    "ImportRejected",
    "ImportReport",
    "Sheet",
    "Source",
    "bad_rows_message",
    "column_positions",
    "decode",
    "encoding_label",
    "formula_warnings",
    "looks_like_formula",
    "mapped_sources",
    "match_columns",
    "normalise_header",
    "parse_mapping",
    "read_sheet",
    "reported_as_dry_run",
    "row_width_problem",
    "sniff_delimiter",
]

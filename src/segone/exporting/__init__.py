"""The export kit: what every export of rows to a file shares, whatever it exports (it knows no domain).

- ``columns``: an export's fixed columns (``Column``: a name and a ``Kind``), its ``Batch`` of rows (a list
  of dicts keyed by column name, or an Arrow ``RecordBatch`` of those columns) and the ``Export`` a domain
  describes: its name, columns, row count and how to read its rows in batches from a session;
- ``cells``: the guard against formula injection in spreadsheets: a text cell starting with ``= + - @``,
  a tab or a carriage return is written with a ``'`` before it, and ``unescape`` (used by
  ``segone.importing`` for every CSV it reads) takes that ``'`` off again, so a round trip is exact;
- ``csv_writer``: UTF-8, a header line, RFC 4180 quoting and line ends, one chunk of bytes per batch;
- ``parquet_writer``: one row group per batch, typed columns (imported by its own name, as it loads Arrow);
- ``streams``: the formats, their media types and file names, ``encode`` (batches to chunks of bytes in
  either format), ``Tally`` (counts the rows and reports ``segone.progress``), ``stream`` (an export read in
  a session of its own, for HTTP) and ``write_file``.

Nothing holds more than one batch: a million rows go out in the memory of one batch.
"""

from __future__ import annotations

from segone.exporting.cells import escape, unescape
from segone.exporting.columns import Batch, Column, Export, Kind
from segone.exporting.streams import (
    Format,
    Tally,
    content_disposition,
    encode,
    file_name,
    media_type,
    stream,
    write_file,
)

__all__ = [
    "Batch",
    "Column",
    "Export",
    "Format",
    "Kind",
    "Tally",
    "content_disposition",
    "encode",
    "escape",
    "file_name",
    "media_type",
    "stream",
    "unescape",
    "write_file",
]

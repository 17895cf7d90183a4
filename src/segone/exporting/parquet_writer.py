"""Batches of rows as Parquet: typed columns, one row group per batch, zstd, written out batch by batch.

``pyarrow.parquet.ParquetWriter`` writes into a sink that hands each row group's bytes on as soon as the
group is closed; the footer comes last. The file's positions are the sink's count of bytes written, so the
bytes can go to an HTTP response as they come.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from segone.exporting.columns import Batch, Column, Kind
from segone.exporting.csv_writer import text_of

ARROW_TYPES = {
    Kind.TEXT: pa.string(),
    Kind.INTEGER: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}


def schema_of(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(column.name, ARROW_TYPES[column.kind]) for column in columns])


class _Sink:
    """A writable file for Arrow that keeps what was written until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _record_batch(batch: Batch, columns: Sequence[Column], schema: pa.Schema) -> pa.RecordBatch:
    if isinstance(batch, pa.RecordBatch):
        return batch.select(schema.names).cast(schema)
    arrays = []
    for column, field in zip(columns, schema, strict=True):
        values = [row.get(column.name) for row in batch]
        if column.kind is Kind.TEXT:
            values = [v if v is None or type(v) is str else text_of(v) for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def parquet_chunks(columns: Sequence[Column], batches: Iterable[Batch]) -> Iterator[bytes]:
    """The file's bytes: the first row group with the file's magic, then one chunk per row group, then the
    footer."""
    schema = schema_of(columns)
    sink = _Sink()
    writer = pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd")
    try:
        for batch in batches:
            record_batch = _record_batch(batch, columns, schema)
            if record_batch.num_rows:
                writer.write_batch(record_batch, row_group_size=record_batch.num_rows)
            if chunk := sink.take():
                yield chunk
    finally:
        writer.close()
    yield sink.take()

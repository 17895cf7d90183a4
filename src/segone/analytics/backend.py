"""The one module that names an analytics engine.

Everything else builds engine-neutral Ibis expressions and receives a backend from ``connect``:

- ``""`` or ``duckdb://``: an in-memory DuckDB that spills to ``duckdb-tmp/`` in the data directory (the
  default). Not a database file: everything it reads is in the Parquet dataset, and a file would be locked
  by one process at a time (a refresh would lock the server's analytics pages out);
- ``duckdb://:memory:``: an in-memory DuckDB;
- ``pyspark://local[2]`` (or ``pyspark://spark://host:7077``, ``pyspark://yarn``, ``pyspark://k8s://...``): a
  Spark session, built once per process and reused; a bare ``host:port`` means a standalone master
  (``pyspark://spark-master:7077`` is ``spark://spark-master:7077``); ``?key=value`` pairs become Spark
  settings (URL-decoded: write ``%26`` for ``&`` and ``%2B`` for ``+`` in a value);
- any other Ibis URL (``postgres://...``, ``bigquery://...``) goes to ``ibis.connect``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import ibis
import pyarrow as pa
from ibis import BaseBackend
from ibis.expr.types import Table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DUCKDB_SPILL_DIR = "duckdb-tmp"
_LOCAL_MASTER = re.compile(r"^local(\[(?P<threads>\d+|\*)(,\d+)?\])?$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9.-]+:\d+$")


def connect(url: str, data_dir: Path) -> BaseBackend:
    """An Ibis backend for ``url`` (``Settings.analytics_url``); empty means DuckDB in ``data_dir``."""
    if url in ("", "duckdb://"):
        spill = data_dir / DUCKDB_SPILL_DIR
        spill.mkdir(parents=True, exist_ok=True)
        return ibis.duckdb.connect(":memory:", temp_directory=str(spill))
    if url == "duckdb://:memory:":
        return ibis.duckdb.connect(":memory:")
    if url.startswith("pyspark://"):
        master, _, query = url.removeprefix("pyspark://").partition("?")
        if _HOST_PORT.match(master):
            master = f"spark://{master}"
        session = spark_session(master or "local[2]", dict(parse_qsl(query)))
        return ibis.pyspark.connect(session)
    return ibis.connect(url)


def spark_session(master: str = "local[2]", config: Mapping[str, str] | None = None) -> SparkSession:
    """Build, or reuse, this process's Spark session.

    A local master is made quiet and self-contained: it binds to 127.0.0.1, has no web UI, uses as many
    shuffle partitions as threads (Spark's default of 200 is for clusters), and runs in UTC.
    """
    from pyspark.sql import SparkSession

    settings: dict[str, str] = {"spark.sql.session.timeZone": "UTC"}
    local = _LOCAL_MASTER.match(master)
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        threads = local.group("threads")
        partitions = 1 if threads is None else (os.cpu_count() or 2) if threads == "*" else int(threads)
        settings |= {
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": str(max(partitions, 1)),
        }
    settings |= dict(config or {})
    builder: Any = SparkSession.builder
    builder = builder.master(master).appName("segone")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session: SparkSession = builder.getOrCreate()
    if local:
        session.sparkContext.setLogLevel("ERROR")
    return session


def read_parquet_dir(con: BaseBackend, directory: Path) -> Table:
    """Every ``*.parquet`` file directly in ``directory`` (names starting with ``.`` or ``_`` are not read).

    DuckDB lists the files each time a query runs; Spark when the table is created.
    """
    if con.name == "duckdb":
        return con.read_parquet(str(directory / "*.parquet"))
    return con.read_parquet(str(directory))


def read_parquet_files(con: BaseBackend, files: Sequence[Path]) -> Table:
    """Exactly these Parquet files, as one table."""
    if not files:
        raise ValueError("read_parquet_files needs at least one file")
    if con.name == "duckdb":
        return con.read_parquet([str(f) for f in files])
    if con.name == "pyspark":
        session: SparkSession = con._session
        frame = session.read.parquet(*[str(f) for f in files])
        name = ibis.util.gen_name("events_files")
        frame.createOrReplaceTempView(name)
        return con.table(name)
    tables = [con.read_parquet(str(f)) for f in files]
    return ibis.union(*tables) if len(tables) > 1 else tables[0]


def empty_table(con: BaseBackend, schema: pa.Schema) -> Table:
    """A table with ``schema`` and no rows, on ``con``."""
    if con.name == "pyspark":
        from ibis.backends.pyspark.datatypes import PySparkSchema

        session: SparkSession = con._session
        frame = session.createDataFrame([], PySparkSchema.from_ibis(ibis.Schema.from_pyarrow(schema)))
        name = ibis.util.gen_name("empty")
        frame.createOrReplaceTempView(name)
        return con.table(name)
    return ibis.memtable(schema.empty_table())


def from_arrow(con: BaseBackend, name: str, table: pa.Table) -> Table:
    """``table`` on ``con`` under ``name`` (replacing a table of that name) for as long as the connection
    lasts: a temporary view on Spark (whose tables would be files in its warehouse directory), a table
    elsewhere."""
    if con.name == "pyspark":
        session: SparkSession = con._session
        session.createDataFrame(table).createOrReplaceTempView(name)
        return con.table(name)
    return con.create_table(name, table, overwrite=True)


def to_arrow(expr: Table) -> pa.Table:
    """Run ``expr`` into an Arrow table typed by its Ibis schema, timestamps labelled UTC.

    Spark results come through Arrow (Ibis 12 goes through pandas, which PySpark 4 and pandas 3 dislike).
    """
    con = ibis.get_backend(expr)
    if con.name == "pyspark":
        con._run_pre_execute_hooks(expr)
        session: SparkSession = con._session
        table = session.sql(con.compile(expr)).toArrow()
    else:
        table = expr.to_pyarrow()
    return table.cast(_arrow_schema(expr))


def to_arrow_batches(expr: Table, chunk_size: int = 1_000_000) -> Iterator[pa.RecordBatch]:
    """Like ``to_arrow``, in record batches (streamed where the engine can)."""
    con = ibis.get_backend(expr)
    if con.name == "pyspark":
        yield from to_arrow(expr).to_batches(max_chunksize=chunk_size)
        return
    schema = _arrow_schema(expr)
    if con.name == "duckdb":
        # Ibis 12's to_pyarrow_batches calls fetch_record_batch, which DuckDB 2 removed.
        con._run_pre_execute_hooks(expr)
        batches = con.con.sql(con.compile(expr)).to_arrow_reader(chunk_size)
    else:
        batches = expr.to_pyarrow_batches(chunk_size=chunk_size)
    for batch in batches:
        yield from pa.Table.from_batches([batch]).cast(schema).to_batches()


def _arrow_schema(expr: Table) -> pa.Schema:
    schema = expr.schema().to_pyarrow()
    return pa.schema(
        field.with_type(pa.timestamp(field.type.unit, tz=field.type.tz or "UTC"))
        if pa.types.is_timestamp(field.type)
        else field
        for field in schema
    )

"""How fast ``segone events import`` takes a big Parquet file, identity resolution included.

    .venv/bin/python benchmarks/import_events.py [--events 20000000] [--customers 1000000] [--derived-ids]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Generates seeded synthetic events (cached under /tmp/segone-bench): ``shop:<n>`` identities of
``--customers`` customers (gamma-distributed activity), mostly purchases, two years of timestamps, values,
quantities, channels, and a source ``event_id`` column (``--derived-ids`` leaves it out, so every id is
derived by hashing). Then, in a fresh child process, a new store (SQLite in a temporary folder, or a new
database created on the PostgreSQL server of ``--database-url`` and dropped afterwards) gets the customers
and their identities (bulk insert, timed apart), and ``ingest.import_file`` imports the whole file. It
prints events/s of the import, the seconds of each phase (read, validate, resolve, write) and the child's
peak resident memory (``ru_maxrss`` from wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from common import machine

CACHE = Path("/tmp/segone-bench")
START = np.datetime64("2024-01-01T00:00:00", "us")
DAYS = 2 * 365
TYPES = ["purchase", "visit", "contact", "return", "review"]
TYPE_SHARES = [0.70, 0.18, 0.06, 0.04, 0.02]
CHANNELS = ["web", "store", "app", "phone"]
CHUNK = 2_000_000


def generate(path: Path, customers: int, events: int, seed: int, *, with_ids: bool) -> None:
    """Seeded events as a source system would export them (no ``customer_id``; ``ts`` a UTC timestamp)."""
    rng = np.random.default_rng(seed)
    weights = rng.gamma(0.8, 1.0, customers)
    weights /= weights.sum()
    names = pc.binary_join_element_wise("shop:", pc.cast(pa.array(np.arange(customers)), pa.string()), "")
    tmp = path.with_suffix(".tmp")
    writer: pq.ParquetWriter | None = None
    for start in range(0, events, CHUNK):
        n = min(CHUNK, events - start)
        who = rng.choice(customers, n, p=weights)
        kind = rng.choice(len(TYPES), n, p=TYPE_SHARES)
        micros = np.sort(rng.integers(0, DAYS * 86_400_000_000, n))
        has_value = (kind == 0) | (kind == 3)
        columns: dict[str, Any] = {}
        if with_ids:
            number = pc.cast(pa.array(np.arange(start, start + n)), pa.string())
            columns["event_id"] = pc.binary_join_element_wise("ord-", pc.utf8_lpad(number, 10, "0"), "")
        columns["customer"] = pa.DictionaryArray.from_arrays(pa.array(who.astype(np.int32)), names).cast(
            pa.string()
        )
        columns["type"] = pa.DictionaryArray.from_arrays(
            pa.array(kind.astype(np.int32)), pa.array(TYPES)
        ).cast(pa.string())
        columns["ts"] = pa.array(START + micros.astype("timedelta64[us]")).cast(pa.timestamp("us", tz="UTC"))
        columns["value"] = pa.array(np.round(rng.gamma(2.0, 25.0, n), 2), mask=~has_value)
        columns["quantity"] = pa.array(rng.integers(1, 5, n), mask=kind != 0)
        channel = pa.array(rng.integers(0, len(CHANNELS), n).astype(np.int32), mask=rng.random(n) < 0.05)
        columns["channel"] = pa.DictionaryArray.from_arrays(channel, pa.array(CHANNELS)).cast(pa.string())
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
        writer.write_table(table, row_group_size=1_000_000)
    assert writer is not None
    writer.close()
    tmp.rename(path)


# --- the child: one measured import in a fresh process ----------------------------------------------------


def _timed(phases: dict[str, list[float]], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, adding its wall and CPU seconds (all threads of the process) to ``phases[name]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            wall, used = phases.setdefault(name, [0.0, 0.0])
            phases[name] = [wall + time.perf_counter() - started, used + time.process_time() - cpu]

    return wrapper


def child(path: Path, customers: int, database_url: str) -> None:
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    from segone.accounts.schemas import SYSTEM
    from segone.behaviour import ingest
    from segone.behaviour.dataset import EventDataset
    from segone.customers import service as customers_service
    from segone.runtime import Runtime
    from segone.settings import Settings

    with tempfile.TemporaryDirectory(prefix="segone-import-events-") as folder:
        runtime = Runtime(Settings(data_dir=Path(folder), database_url=database_url))
        runtime.upgrade_schema()
        started = time.perf_counter()
        with runtime.session() as db:
            # The bulk path of ``unknown="create"``: customers and identities, 10,000 rows per insert.
            keys = [("shop", str(n)) for n in range(customers)]
            customers_service.create_for_identities(db, actor=SYSTEM, keys=keys, source="events")
        setup_seconds = time.perf_counter() - started
        setup_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        phases: dict[str, list[float]] = {}
        ingest.read_table = _timed(phases, "read", ingest.read_table)  # type: ignore[assignment]
        ingest.validate_events = _timed(phases, "validate", ingest.validate_events)  # type: ignore[assignment]
        ingest.resolve_customers = _timed(phases, "resolve", ingest.resolve_customers)  # type: ignore[assignment]
        EventDataset.write_batch = _timed(phases, "write", EventDataset.write_batch)  # type: ignore[method-assign]
        started, cpu = time.perf_counter(), time.process_time()
        dataset = ingest.dataset_of(runtime.settings.data_dir)
        report = ingest.import_file(
            runtime.sessions, dataset=dataset, actor=SYSTEM, path=path, unknown="reject"
        )
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        load = os.getloadavg()[0]
        files = dataset.files()
        written = sum(pq.ParquetFile(file).metadata.num_rows for file in files)
        output_mib = sum(file.stat().st_size for file in files) / 2**20
        runtime.dispose()
    print(
        json.dumps(
            {
                "rows": report.rows,
                "written": written,
                "created": report.customers_created,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "load": load,
                "phases": phases,
                "setup_seconds": setup_seconds,
                "setup_peak_mib": setup_peak,
                "output_mib": output_mib,
            }
        )
    )


def measure(path: Path, customers: int, database_url: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(path), "--customers", str(customers)]
    command += ["--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"the import failed with status {status}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result


def _postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server of ``admin_url``, and how to drop it."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"segone_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--derived-ids", action="store_true", help="No event_id column: ids are derived.")
    parser.add_argument(
        "--database-url",
        default="",
        help="A PostgreSQL server URL (a database is created there and dropped); default: a new SQLite file.",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.customers, args.database_url)
        return

    CACHE.mkdir(parents=True, exist_ok=True)
    ids = "derived-ids" if args.derived_ids else "with-ids"
    path = CACHE / f"import-events-{args.customers}-{args.events}-{args.seed}-{ids}.parquet"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.customers, args.events, args.seed, with_ids=not args.derived_ids)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    print(f"machine: {f'{machine()}, PyArrow {pa.__version__}'}")
    print(
        f"data: {args.events:,} events of {args.customers:,} customers ({ids}), "
        f"{path.stat().st_size / 2**20:.0f} MiB of zstd Parquet"
    )
    path.read_bytes()  # warm the page cache
    url, drop = (
        _postgres_database(args.database_url) if args.database_url.startswith("postgres") else ("", None)
    )
    try:
        result = measure(path, args.customers, url)
    finally:
        if drop is not None:
            drop()
    store = "PostgreSQL" if url else "SQLite"
    assert result["rows"] == result["written"] == args.events, result
    print(
        f"store: {store}; {args.customers:,} customers with identities inserted in "
        f"{result['setup_seconds']:.1f} s"
    )
    phases = result["phases"]
    seconds = result["seconds"]
    other = seconds - sum(wall for wall, _ in phases.values())
    shown = ", ".join(
        f"{name} {phases[name][0]:.2f} s ({phases[name][1]:.2f} s CPU)"
        for name in ("read", "validate", "resolve", "write")
        if name in phases
    )
    print(
        f"import: {result['rows']:,} events in {seconds:.2f} s = {result['rows'] / seconds:,.0f} events/s "
        f"({result['cpu_seconds']:.2f} s of CPU; load average {result['load']:.1f} at the end)"
    )
    print(f"phases (wall, CPU of all threads): {shown}, other {other:.2f} s")
    print(
        f"peak RSS {result['peak_mib']:,.0f} MiB "
        f"(after creating the customers: {result['setup_peak_mib']:,.0f} MiB); "
        f"written {result['output_mib']:.0f} MiB"
    )
    target = "met" if result["rows"] / result["seconds"] >= 1_000_000 else "NOT met"
    print(f"target >= 1,000,000 events/s: {target}")


if __name__ == "__main__":
    main()

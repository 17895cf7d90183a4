"""``segone behaviour refresh`` at scale: every stage timed, the write-back to the store on its own.

    .venv/bin/python benchmarks/refresh.py [--customers 1000000] [--events 20000000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Uses the seeded events of ``benchmarks/profiles.py`` (cached under /tmp/segone-bench). A fresh store gets the
customers (created from the events' identities, timed apart) and the events dataset; then one refresh runs
as of 2024-12-30 and reports the seconds of each stage: flush, profiles on the engine (DuckDB), the
Pareto/NBD and Gamma-Gamma fits with the scores, and the write-back of every customer's row to the
operational store (SQLite by default; with ``--database-url`` a PostgreSQL server, in a database of its
own that is dropped afterwards). The refresh runs in a child process of its own, so that the peak resident
memory reported is the refresh's, not the set-up's.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
from common import drop_database, machine, scratch_database
from profiles import AS_OF, CACHE, generate

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest, refresh
from segone.runtime import Runtime
from segone.settings import Settings


def setup(data: Path, data_dir: Path, database_url: str) -> None:
    """A store with the events' customers, and the events dataset: what a refresh starts from."""
    runtime = Runtime(Settings(data_dir=data_dir, database_url=database_url))
    runtime.upgrade_schema()
    events = pq.read_table(data)
    started = time.perf_counter()
    with runtime.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=events, unknown="create")
    assert resolved.table is not None
    print(
        f"setup: {resolved.created:,} customers created from the events' identities in "
        f"{time.perf_counter() - started:.1f} s"
    )
    ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
    runtime.dispose()


def child(data_dir: Path, database_url: str) -> None:
    """The refresh alone, in a fresh process: its seconds per stage and its own peak memory."""
    runtime = Runtime(Settings(data_dir=data_dir, database_url=database_url))
    started = time.perf_counter()
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    total = time.perf_counter() - started
    print(
        f"refresh as of {AS_OF}: {report.customers:,} profiles from {report.events:,} events, {total:.1f} s"
    )
    for stage, seconds in report.seconds.items():
        print(f"  {stage:<36} {seconds:8.1f} s")
    write = report.seconds["Writing profiles"]
    print(f"  write-back rate: {report.customers / write:,.0f} rows/s")
    for name, model in report.models.items():
        print(
            f"  {name}: LL {model['log_likelihood']:,.1f}, {model['customers']:,} customers, "
            f"{model['seconds']:.1f} s"
        )
    for note in report.notes:
        print(f"  note: {note}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the refresh process: {peak:,.0f} MiB")
    runtime.dispose()


def run(data: Path, data_dir: Path, database_url: str) -> None:
    setup(data, data_dir, database_url)
    subprocess.run(
        [sys.executable, __file__, "--child", str(data_dir), "--database-url", database_url], check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument(
        "--database-url",
        default="",
        help="A PostgreSQL server URL; default: SQLite in a temporary directory.",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.database_url)
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    data = CACHE / f"events-{args.customers}-{args.events}-{args.seed}.parquet"
    if not data.exists():
        generate(data, args.customers, args.events, args.seed)
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    store = "SQLite" if not args.database_url else "PostgreSQL"
    print(f"data: {args.events:,} events of {args.customers:,} customers; operational store: {store}")
    with tempfile.TemporaryDirectory(prefix="segone-refresh-") as directory:
        if not args.database_url:
            run(data, Path(directory), "")
            return
        url, name = scratch_database(args.database_url)
        try:
            run(data, Path(directory), url)
        finally:
            drop_database(args.database_url, name)


if __name__ == "__main__":
    main()

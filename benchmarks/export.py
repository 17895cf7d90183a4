"""How fast ``segone export customers`` writes CSV and Parquet, and that its memory stays flat with size.

    .venv/bin/python benchmarks/export.py [--rows 100000 1000000] [--formats csv parquet]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

For each size a new store (SQLite in a temporary folder, or a database created on the PostgreSQL server of
``--database-url`` and dropped afterwards) gets that many synthetic customers with the bulk insert of the
imports (timed apart): a name, two identities (e-mail, CRM id) and three attributes, like a CRM export.
Then each side runs in a fresh child process, writing a file in a temporary folder:

- segone: ``views.exports.start`` and ``exporting.stream`` (what ``segone export customers`` runs): every
  customer in the layout the import reads back, identities and attributes as columns, formula guard;
- pandas: ``pandas.read_sql("SELECT * FROM customers")`` then ``DataFrame.to_csv`` / ``to_parquet``, the
  obvious alternative an analyst would use (one table as it is stored: attributes as JSON text, no
  identities).

It prints rows/s and the child's peak resident memory (``ru_maxrss`` from wait4; the memory after its
imports, before the export, in brackets) and the ratio of the times. The parent imports neither segone nor
pandas (the store is built in a child too): Linux keeps a process's peak across fork and exec, so a big
parent would hide the children's own peaks.
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
from importlib.metadata import version
from pathlib import Path
from typing import Any

from common import drop_database, machine, scratch_database

BATCH = 50_000


def build_store(url: str, rows: int) -> None:
    """``rows`` customers like a CRM export, inserted in batches as the customer import inserts them."""
    from segone.clock import utcnow
    from segone.customers import repository
    from segone.runtime import Runtime
    from segone.settings import Settings

    runtime = Runtime(Settings(data_dir=Path(tempfile.gettempdir()), database_url=url))
    runtime.upgrade_schema()
    cities = ("Leeds", "York", "Harrogate", "Wakefield")
    started = time.perf_counter()
    with runtime.session() as db:
        for first in range(0, rows, BATCH):
            batch: list[repository.NewCustomer] = [
                (
                    "person",
                    f"Customer {i}",
                    {"city": cities[i % 4], "segment": "Regular", "since": str(1990 + i % 35)},
                    [("email", f"customer{i}@example.com"), ("crm", f"C{i:07d}")],
                )
                for i in range(first, min(first + BATCH, rows))
            ]
            repository.insert_customers(db, batch, at=utcnow())
    seconds = time.perf_counter() - started
    runtime.dispose()
    print(json.dumps({"seconds": seconds}))


def child(side: str, fmt: str, url: str, out: Path) -> None:
    import warnings

    warnings.simplefilter("ignore")
    if side == "segone":
        from segone.accounts.schemas import SYSTEM
        from segone.exporting import Format, stream, write_file
        from segone.runtime import Runtime
        from segone.settings import Settings
        from segone.views import exports
        from segone.views.exports import ExportKind

        if fmt == "parquet":
            import segone.exporting.parquet_writer  # noqa: F401  (imported before the clock starts)
        runtime = Runtime(Settings(data_dir=out.parent, database_url=url))
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        with runtime.session() as db:
            export = exports.start(db, actor=SYSTEM, what=ExportKind.CUSTOMERS, fmt=Format(fmt))
        write_file(stream(export, Format(fmt), runtime.session), out)
        rows = export.rows
    else:
        import pandas as pd
        from sqlalchemy import create_engine

        if fmt == "parquet":
            import pyarrow.parquet  # noqa: F401
        engine = create_engine(url)
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        frame = pd.read_sql("SELECT * FROM customers", engine)
        if fmt == "csv":
            frame.to_csv(out, index=False)
        else:
            frame.to_parquet(out, index=False)
        rows = len(frame)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"rows": rows, "seconds": seconds, "baseline_mib": baseline, "load": os.getloadavg()[0]})
    )


def run_child(*arguments: str) -> dict[str, Any]:
    """Run this script with ``arguments`` in a fresh process: its JSON line, and its peak memory."""
    process = subprocess.Popen([sys.executable, __file__, *arguments], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(arguments)} failed with status {status}")
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result


def measure(side: str, fmt: str, url: str, out: Path) -> dict[str, Any]:
    result = run_child("--child", side, fmt, "--database-url", url, "--out", str(out))
    result["mib"] = out.stat().st_size / 2**20
    out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"], choices=["csv", "parquet"])
    parser.add_argument(
        "--database-url",
        default="",
        help="A PostgreSQL server URL (a database is created there and dropped); default: a new SQLite file.",
    )
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.database_url, args.out)
        return
    if args.build:
        build_store(args.database_url, args.build)
        return

    versions = ", ".join(f"{name} {version(name)}" for name in ("pandas", "pyarrow", "SQLAlchemy"))
    print(f"machine: {machine()}, {versions}")
    print("| store | rows | format | side | time | rows/s | peak RSS (after imports) | file | ratio |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="segone-export-bench-") as folder:
            if args.database_url:
                url, name = scratch_database(args.database_url)
                store = "PostgreSQL"
            else:
                url, name = f"sqlite:///{folder}/segone.db", ""
                store = "SQLite"
            try:
                built = run_child("--build", str(rows), "--database-url", url)
                print(f"<!-- {store}: {rows:,} customers inserted in {built['seconds']:.1f} s -->")
                for fmt in args.formats:
                    results = {
                        side: measure(side, fmt, url, Path(folder) / f"{side}.{fmt}")
                        for side in ("segone", "pandas")
                    }
                    for side, result in results.items():
                        assert result["rows"] == rows, result
                        ratio = result["seconds"] / results["pandas"]["seconds"]
                        print(
                            f"| {store} | {rows:,} | {fmt} | {side} | {result['seconds']:.1f} s | "
                            f"{rows / result['seconds']:,.0f} | {result['peak_mib']:,.0f} MiB "
                            f"({result['baseline_mib']:,.0f}) | {result['mib']:.0f} MiB | "
                            f"{ratio:.2f}x | <!-- load {result['load']:.1f} -->"
                        )
            finally:
                if name:
                    drop_database(args.database_url, name)


if __name__ == "__main__":
    main()

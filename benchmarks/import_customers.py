"""How fast the customer import is: a first import of N rows, then the same file again (all unchanged).

    .venv/bin/python benchmarks/import_customers.py [--rows 100000] [--consent] [--database-url postgresql+psycopg://...]

Without a URL it uses a new SQLite store in a temporary folder. Each row has a name, two identities
(e-mail and a CRM id) and three attributes, like a typical CRM export; with ``--consent``, a
``consent:profiling`` column too (yes or no), as a CRM's opt-in column mapped to it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from segone.accounts.schemas import SYSTEM
from segone.customers.importer import import_customers
from segone.runtime import Runtime
from segone.settings import Settings


def csv_text(rows: int, *, consent: bool = False) -> bytes:
    lines = ["name,kind,email,identity:crm,city,segment,since" + (",consent:profiling" if consent else "")]
    cities = ("Leeds", "York", "Harrogate", "Wakefield")
    lines += [
        f"Customer {i},person,customer{i}@example.com,C{i:07d},{cities[i % 4]},Regular,{1990 + i % 35}"
        + ((",yes" if i % 3 else ",no") if consent else "")
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--consent", action="store_true", help="Add a consent:profiling column.")
    parser.add_argument("--database-url", default="", help="An empty database; default: a new SQLite file.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runtime = Runtime(Settings(data_dir=Path(folder), database_url=args.database_url))
        runtime.upgrade_schema()
        data = csv_text(args.rows, consent=args.consent)
        for label in ("first import", "same file again"):
            started = time.perf_counter()
            with runtime.session() as db:
                report = import_customers(db, actor=SYSTEM, data=data)
            seconds = time.perf_counter() - started
            print(
                f"{runtime.engine.dialect.name:<10} {label:<16} {args.rows:>8} rows in {seconds:6.1f} s "
                f"= {args.rows / seconds:>8,.0f} rows/s "
                f"(created {report.created}, unchanged {report.unchanged})"
            )
        runtime.dispose()


if __name__ == "__main__":
    main()

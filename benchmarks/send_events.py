"""How fast ``POST /api/v1/events`` takes events, the first time and re-sent after the flush.

    .venv/bin/python benchmarks/send_events.py [--events 500000] [--customers 50000] [--batch 10000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A new store (SQLite in a temporary folder, or a database created on the PostgreSQL server of
``--database-url`` and dropped afterwards) and a real ``segone serve`` process on it, its background flush
off. Seeded events of ``shop:<n>`` customers (each with a source ``event_id``), encoded as JSON batches
beforehand, are posted one batch after the other by one client over HTTP: first all of them (every
customer created on the way), then ``segone events flush`` moves them into the dataset, then all of them
again. It prints events/s of each pass, what the answers counted (new, duplicates) and the rows of the
dataset's Parquet files (raw, before read-time de-duplication) after each step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.parquet as pq
from common import drop_database, machine, scratch_database

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(SRC.parent))

from tests.serving import serving  # noqa: E402


def batches(events: int, customers: int, size: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    who = rng.integers(0, customers, events)
    seconds = np.sort(rng.integers(0, 730 * 86_400, events))
    values = np.round(rng.gamma(2.0, 25.0, events), 2)
    bodies = []
    for start in range(0, events, size):
        rows = [
            {
                "event_id": f"ord-{n:010d}",
                "customer": f"shop:{who[n]}",
                "type": "purchase",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_704_067_200 + seconds[n])),
                "value": float(values[n]),
                "channel": "web",
            }
            for n in range(start, min(start + size, events))
        ]
        bodies.append(json.dumps({"events": rows}).encode())
    return bodies


def send(client: httpx.Client, bodies: list[bytes]) -> tuple[float, dict[str, int]]:
    totals = {"received": 0, "new": 0, "duplicates": 0, "customers_created": 0}
    started = time.perf_counter()
    for body in bodies:
        answer = client.post("/api/v1/events", content=body, headers={"Content-Type": "application/json"})
        answer.raise_for_status()
        for key, value in answer.json().items():
            totals[key] += value
    return time.perf_counter() - started, totals


def raw_rows(events_dir: Path) -> int:
    return sum(pq.read_metadata(path).num_rows for path in events_dir.glob("*.parquet"))


SEGONE = Path(sys.executable).parent / "segone"  # with PYTHONPATH, this checkout's segone


def segone(env: dict[str, str], *args: str) -> str:
    command = [str(SEGONE), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"segone {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    bodies = batches(args.events, args.customers, args.batch, seed=18)
    database, name = ("", "")
    if args.database_url:
        database, name = scratch_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="segone-send-") as folder:
            data_dir = Path(folder) / "data"
            env = {k: v for k, v in os.environ.items() if not k.startswith("SEGONE_")}
            env.update(
                SEGONE_DATA_DIR=str(data_dir),
                SEGONE_DATABASE_URL=database,
                SEGONE_FLUSH_INTERVAL_SECONDS="0",
                PYTHONPATH=str(SRC),
            )
            segone(env, "db", "upgrade")
            segone(env, "users", "create", "bench@example.com", "--role", "admin", "--password", "bench-pass")
            token = json.loads(segone(env, "tokens", "create", "bench@example.com", "--name", "b", "--json"))
            report: dict[str, Any] = {"machine": machine(), "events": args.events, "batch": args.batch}
            with (
                serving(str(SEGONE), env) as base,
                httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {token['token']}"}, timeout=600
                ) as client,
            ):
                seconds, counted = send(client, bodies)
                report["first"] = {"seconds": round(seconds, 2), "events_s": round(args.events / seconds)}
                report["first"].update(counted)
                flushed = json.loads(segone(env, "events", "flush", "--json"))["flushed"]
                report["flushed"] = flushed
                report["raw_rows_after_flush"] = raw_rows(data_dir / "events")
                seconds, counted = send(client, bodies)
                report["resent"] = {"seconds": round(seconds, 2), "events_s": round(args.events / seconds)}
                report["resent"].update(counted)
                report["flushed_again"] = json.loads(segone(env, "events", "flush", "--json"))["flushed"]
                report["raw_rows_after_resend"] = raw_rows(data_dir / "events")
            report["load"] = os.getloadavg()[0]
            print(json.dumps(report, indent=2))
    finally:
        if name:
            drop_database(args.database_url, name)


if __name__ == "__main__":
    main()

"""What the server's own event work costs a serving process: an events batch checked and staged, and the
background flush of what was staged. Both run in the processes that serve pages, so their CPU, and how
long they hold the interpreter lock, is latency for every request there (issue 12, "Load").

    .venv/bin/python benchmarks/staging.py --keep FOLDER-OR-DATABASE-NAME [--batches 30] [--batch 1000]
        [--flush 100000] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

On a store ``benchmarks/briefing.py --keep`` (or ``benchmarks/load.py --keep``) built, in-process, one at
a time: ``--batches`` batches of ``--batch`` purchase events of random known customers, each with its own
``event_id``, staged as ``POST /api/v1/events`` stages them (``ingest.stage_batch`` against the index of
the dataset's ids, after 10 batches of warm-up), then ``--flush`` events staged and moved by
``ingest.flush_staged`` into a dataset of their own in a temporary folder (so the store's dataset is not
changed by the flush; the batches above stay staged and are flushed with them). It prints the CPU and
wall time of a batch, and of the flush, with the files and events of the store's dataset the batches were
checked against.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from briefing import kept_store
from common import machine

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.behaviour.events import EVENT_SCHEMA
from segone.behaviour.stored_ids import StoredIds

DAY = datetime(2024, 1, 1, tzinfo=UTC)


def _batch(run: str, seq: int, size: int, customers: int, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{run}-{seq}-{i}",
            "customer": f"bench:{rng.randint(1, customers):06d}",
            "type": "purchase",
            "timestamp": (DAY + timedelta(seconds=rng.randrange(360 * 86_400))).isoformat(),
            "value": round(rng.gammavariate(4.0, 9.0), 2),
            "quantity": 1,
            "channel": "web",
        }
        for i in range(size)
    ]


def _staged(run: str, n: int, customers: int) -> pa.Table:
    """``n`` events as the staging table holds them (times to the microsecond, some values missing)."""
    return pa.table(
        {
            "event_id": pa.array([f"{run}-flush-{i}" for i in range(n)]),
            "customer": pa.array([f"bench:{i % customers + 1:06d}" for i in range(n)]),
            "customer_id": pa.array([i % customers + 1 for i in range(n)], pa.int64()),
            "type": pa.array(["purchase"] * n),
            "ts": pa.array(
                [DAY + timedelta(seconds=i, microseconds=i % 999_983) for i in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "value": pa.array([None if i % 7 == 0 else 12.5 for i in range(n)], pa.float64()),
            "quantity": pa.array([1] * n, pa.int64()),
            "channel": pa.array(["web"] * n),
            "offering": pa.array([None] * n, pa.string()),
            "reason": pa.array([None] * n, pa.string()),
            "properties": pa.array([None] * n, pa.string()),
        },
        schema=EVENT_SCHEMA,
    )


@contextmanager
def lock_waits() -> Iterator[list[float]]:
    """The longest time, in ms, that a thread waking every millisecond waited for the interpreter lock
    while the block ran (appended when it ends): what a request of the same process could have waited."""
    longest, done = [0.0], threading.Event()

    def probe() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            time.sleep(0.001)
            longest[0] = max(longest[0], time.perf_counter() - asked - 0.001)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    waits: list[float] = []
    try:
        yield waits
    finally:
        done.set()
        thread.join()
        waits.append(longest[0] * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", required=True, help="the store benchmarks/briefing.py kept")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--flush", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    runtime, folder = kept_store(args.keep, args.database_url)
    try:
        dataset = ingest.dataset_of(folder)
        stored = StoredIds(dataset)
        rng, run = random.Random(5), f"staging{time.time_ns()}"
        batches = [_batch(run, seq, args.batch, args.customers, rng) for seq in range(10 + args.batches)]

        def stage(events: list[dict[str, Any]]) -> None:
            with runtime.session() as db:
                ingest.stage_batch(db, actor=SYSTEM, events=events, unknown="create", stored=stored)

        for events in batches[:10]:  # the index read, statements prepared
            stage(events)
        with lock_waits() as waited:
            cpu, wall = time.process_time(), time.perf_counter()
            for events in batches[10:]:
                stage(events)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{runtime.engine.dialect.name}: a batch of {args.batch:,} events checked against "
            f"{len(dataset.files()):,} files ({len(stored):,} events) and staged: "
            f"{cpu / args.batches * 1000:.1f} ms CPU, {wall / args.batches * 1000:.1f} ms wall; "
            f"another thread waited up to {waited[0]:.1f} ms"
        )

        table = _staged(run, args.flush, args.customers)
        with runtime.session() as db:
            for offset in range(0, table.num_rows, 1_000):
                ingest._stage(db, table.slice(offset, 1_000))
        with (
            tempfile.TemporaryDirectory(prefix="segone-staging-bench-") as scratch,
            lock_waits() as waited,
        ):
            cpu, wall = time.process_time(), time.perf_counter()
            moved = ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(Path(scratch)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(
            f"{runtime.engine.dialect.name}: the flush of {moved:,} staged events: "
            f"{cpu:.2f} s CPU, {wall:.2f} s wall; another thread waited up to {waited[0]:.1f} ms"
        )
    finally:
        runtime.dispose()


if __name__ == "__main__":
    main()

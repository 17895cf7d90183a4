"""What one briefing costs, in-process and one at a time: CPU and wall time, SQL statements (with the
slowest), Python calls. The view ``views.briefing.briefing`` is called as the API route calls it, for
random customers of a store that ``benchmarks/briefing.py --keep`` built; no HTTP.

    .venv/bin/python benchmarks/briefing_profile.py --keep FOLDER-OR-DATABASE-NAME [--customers 100000]
        [--answers 300] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
        [--functions 25] [--dump FILE]

Statements and Python calls are counts, so they compare two versions of the code on a busy machine where
times do not. The audit entry of each read is written by the view here (the server queues it instead).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from briefing import TOKEN_FILE, kept_store
from common import machine
from sqlalchemy import event

from segone.accounts import service as accounts
from segone.knowledge.categories.service import in_force
from segone.views.briefing import briefing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", required=True, help="the store benchmarks/briefing.py kept")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server")
    parser.add_argument(
        "--functions", type=int, default=0, help="also print this many functions by their own time"
    )
    parser.add_argument("--dump", default=None, help="also write the profile (pstats) to this file")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    runtime, folder = kept_store(args.keep, args.database_url)
    statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    started: dict[int, float] = {}

    @event.listens_for(runtime.engine, "before_cursor_execute")
    def _before(_conn: Any, cursor: Any, *_: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    @event.listens_for(runtime.engine, "after_cursor_execute")
    def _after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen = statements[" ".join(statement.split())[:120]]
        seen[0] += 1
        seen[1] += time.perf_counter() - started.pop(id(cursor))

    token = (folder / TOKEN_FILE).read_text(encoding="utf-8").strip()
    with runtime.session() as db:
        actor = accounts.actor_for(accounts.user_for_token(db, token=token))
    settings, categories, rng = runtime.settings, in_force(runtime.settings), random.Random(3)

    def one() -> None:
        with runtime.session() as db:
            read = briefing(
                db,
                actor=actor,
                customer_id=rng.randint(1, args.customers),
                categories=categories,
                freshness_months=settings.freshness_months,
                currency=settings.currency,
                consent_default=settings.consent_granted_by_default,
            )
            read.model_dump_json()

    measure(one, 30)  # warm: statements compiled, caches filled
    statements.clear()
    cpu, wall = measure(one, args.answers)
    n = args.answers
    total = sum(count for count, _ in statements.values())
    in_sql = sum(seconds for _, seconds in statements.values())
    print(
        f"{runtime.engine.dialect.name}: {cpu / n * 1000:.2f} ms CPU and {wall / n * 1000:.2f} ms wall an "
        f"answer; {total / n:.1f} statements an answer, {in_sql / n * 1000:.2f} ms in them"
    )
    for text, (count, seconds) in sorted(statements.items(), key=lambda item: -item[1][1])[:30]:
        print(f"  {seconds / n * 1000:6.3f} ms {count / n:4.1f}x  {text}")
    profile = cProfile.Profile()
    profile.runcall(measure, one, 100)
    stats = pstats.Stats(profile)
    if args.dump:
        stats.dump_stats(args.dump)
    print(f"{stats.total_calls / 100:,.0f} Python calls an answer (cProfile, 100 answers)")
    if args.functions:
        stats.sort_stats("tottime").print_stats(args.functions)
        stats.sort_stats("cumulative").print_stats(args.functions * 2)
    runtime.dispose()


def measure(work: Callable[[], None], times: int) -> tuple[float, float]:
    """The process's CPU seconds and the wall seconds of ``times`` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(times):
        work()
    return time.process_time() - cpu, time.perf_counter() - wall


if __name__ == "__main__":
    main()

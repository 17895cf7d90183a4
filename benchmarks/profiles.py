"""Behaviour profiles at scale: segone's Ibis expression on DuckDB vs one hand-written DuckDB query.

    .venv/bin/python benchmarks/profiles.py [--customers 1000000] [--events 20000000] [--repeat 2]

Generates seeded synthetic events (numpy/pyarrow, cached under /tmp/segone-bench), then runs each side in
a fresh child process: ``behaviour_profile`` materialised to an Arrow table, and one SQL query computing the
same columns over the same Parquet file. Each child reports its query time; the parent reads the child's
peak resident memory (ru_maxrss from wait4, which covers DuckDB's native allocations) and checks that both
results are equal. The best of ``--repeat`` runs is reported for each side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import machine

CACHE = Path("/tmp/segone-bench")
START = np.datetime64("2022-01-01T00:00:00", "us")
DAYS = 3 * 365
AS_OF = date(2024, 12, 30)
TYPES = ["purchase", "visit", "contact", "complaint", "return", "referral", "review"]
TYPE_SHARES = [0.45, 0.30, 0.12, 0.04, 0.04, 0.02, 0.03]
CHANNELS = ["web", "store", "phone", "email", "app"]
REASONS = ["billing", "delivery", "how to use", "price", "damaged", "account", "cancel", "other"]
OFFERINGS = ["starter", "plus", "pro", "service", "addon"]
CHUNK = 2_000_000


def generate(path: Path, customers: int, events: int, seed: int) -> None:
    """Seeded events of the event schema; customers differ in activity (gamma-distributed rates)."""
    from segone.behaviour.events import EVENT_SCHEMA

    rng = np.random.default_rng(seed)
    weights = rng.gamma(0.8, 1.0, customers)
    weights /= weights.sum()
    names = pa.array([f"crm:{i:07d}" for i in range(customers)])
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, EVENT_SCHEMA, compression="zstd") as writer:
        for start in range(0, events, CHUNK):
            n = min(CHUNK, events - start)
            who = rng.choice(customers, n, p=weights)
            kind = rng.choice(len(TYPES), n, p=TYPE_SHARES)
            micros = rng.integers(0, DAYS * 86_400_000_000, n)
            is_purchase = kind == 0
            has_value = is_purchase | (kind == 4)
            channel = rng.integers(0, len(CHANNELS), n)
            reason = rng.integers(0, len(REASONS), n)
            columns = {
                "event_id": pa.array(np.char.add("e", np.arange(start, start + n).astype(str))),
                "customer": pa.DictionaryArray.from_arrays(pa.array(who.astype(np.int32)), names).cast(
                    pa.string()
                ),
                "customer_id": pa.nulls(n, pa.int64()),
                "type": pa.DictionaryArray.from_arrays(pa.array(kind.astype(np.int32)), pa.array(TYPES)).cast(
                    pa.string()
                ),
                "ts": pa.array(START + micros.astype("timedelta64[us]")).cast(pa.timestamp("us", tz="UTC")),
                "value": pa.array(np.round(rng.gamma(2.0, 25.0, n), 2), mask=~has_value),
                "quantity": pa.array(rng.integers(1, 5, n), mask=~is_purchase),
                "channel": _pick(CHANNELS, channel, rng.random(n) < 0.08),
                "offering": _pick(OFFERINGS, rng.integers(0, len(OFFERINGS), n), ~is_purchase),
                "reason": _pick(REASONS, reason, ~np.isin(kind, [2, 3]) | (rng.random(n) < 0.1)),
                "properties": pa.nulls(n, pa.string()),
            }
            writer.write_table(pa.table(columns, schema=EVENT_SCHEMA), row_group_size=1_000_000)
    tmp.rename(path)


def _pick(values: list[str], index: np.ndarray, null: np.ndarray) -> pa.Array:
    codes = pa.array(index.astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(codes, pa.array(values)).cast(pa.string())


def hand_written_sql(path: Path, as_of: date) -> str:
    end = as_of + timedelta(days=1)
    recent, prior = as_of - timedelta(days=90), as_of - timedelta(days=180)
    return f"""
WITH ev AS (
    SELECT customer, type, ts, value, channel, reason
    FROM read_parquet('{path}') WHERE ts < TIMESTAMPTZ '{end} 00:00:00+00'
),
activity AS (
    SELECT customer, count(*) AS events,
        count(*) FILTER (WHERE type = 'contact') AS contacts,
        count(*) FILTER (WHERE type = 'complaint') AS complaints,
        count(*) FILTER (WHERE type = 'return') AS returns,
        count(*) FILTER (WHERE type = 'referral') AS referrals,
        count(*) FILTER (WHERE type = 'review') AS reviews,
        count(*) FILTER (WHERE type = 'visit') AS visits
    FROM ev GROUP BY customer
),
tx AS (
    SELECT customer, ts::DATE AS day, sum(value) AS value FROM ev WHERE type = 'purchase' GROUP BY ALL
),
gaps AS (
    SELECT *, (day - lag(day) OVER (PARTITION BY customer ORDER BY day))::DOUBLE AS gap FROM tx
),
purchases AS (
    SELECT customer, min(day) AS first_purchase, max(day) AS last_purchase, count(*) AS purchases,
        sum(value) AS total_value, avg(value) AS mean_value, median(gap) AS median_gap_days,
        stddev_samp(gap) / avg(gap) AS gap_cv,
        count(*) FILTER (WHERE day > DATE '{recent}') AS purchases_last_90d,
        count(*) FILTER (WHERE day > DATE '{prior}' AND day <= DATE '{recent}') AS purchases_prev_90d
    FROM gaps GROUP BY customer
),
channel AS (
    SELECT customer, channel FROM (
        SELECT customer, channel, count(*) AS n FROM ev WHERE channel IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY customer ORDER BY n DESC, channel) = 1
),
weekday AS (
    SELECT customer, dow FROM (SELECT customer, isodow(ts) - 1 AS dow, count(*) AS n FROM ev GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY customer ORDER BY n DESC, dow) = 1
),
hour AS (
    SELECT customer, h FROM (SELECT customer, hour(ts) AS h, count(*) AS n FROM ev GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY customer ORDER BY n DESC, h) = 1
),
reasons AS (
    SELECT customer,
        max(reason) FILTER (WHERE rn = 1) AS r1, max(reason) FILTER (WHERE rn = 2) AS r2,
        max(reason) FILTER (WHERE rn = 3) AS r3
    FROM (
        SELECT customer, reason, row_number() OVER (PARTITION BY customer ORDER BY n DESC, reason) AS rn
        FROM (
            SELECT customer, reason, count(*) AS n FROM ev
            WHERE type = 'contact' AND reason IS NOT NULL GROUP BY ALL
        )
    ) WHERE rn <= 3 GROUP BY customer
)
SELECT a.customer, p.first_purchase, p.last_purchase,
    coalesce(p.purchases, 0) AS purchases, greatest(coalesce(p.purchases, 0) - 1, 0) AS repeat_purchases,
    DATE '{as_of}' - p.last_purchase AS recency_days, DATE '{as_of}' - p.first_purchase AS tenure_days,
    p.total_value, p.mean_value, p.median_gap_days, p.gap_cv,
    coalesce(p.purchases_last_90d, 0) AS purchases_last_90d,
    coalesce(p.purchases_prev_90d, 0) AS purchases_prev_90d,
    p.purchases_last_90d / nullif(p.purchases_prev_90d, 0)::DOUBLE AS trend_ratio,
    c.channel AS preferred_channel, w.dow AS preferred_day_of_week, h.h AS preferred_hour,
    a.contacts, r.r1 AS top_contact_reason_1, r.r2 AS top_contact_reason_2, r.r3 AS top_contact_reason_3,
    a.complaints, a.returns, a.referrals, a.reviews, a.visits, a.events
FROM activity a
LEFT JOIN purchases p USING (customer)
LEFT JOIN channel c USING (customer)
LEFT JOIN weekday w USING (customer)
LEFT JOIN hour h USING (customer)
LEFT JOIN reasons r USING (customer)
"""


def child(side: str, path: Path, output: Path) -> None:
    """One measurement, in its own process."""
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)  # Ibis 12 on DuckDB 2 (see architecture notes)
    if side == "segone":
        import ibis

        from segone.analytics.backend import to_arrow
        from segone.behaviour.metrics import behaviour_profile

        con = ibis.duckdb.connect()
        started = time.perf_counter()
        result = to_arrow(behaviour_profile(con.read_parquet(str(path)), AS_OF))
    else:
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        started = time.perf_counter()
        result = con.sql(hand_written_sql(path, AS_OF)).to_arrow_table()
    seconds = time.perf_counter() - started
    pq.write_table(result, output)
    print(json.dumps({"seconds": seconds, "rows": result.num_rows}))


def measure(side: str, path: Path, output: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", side, "--data", str(path), "--output", str(output)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    report = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{side} failed with status {status}")
    result: dict[str, float] = json.loads(report.strip().splitlines()[-1])
    result["peak_mib"] = usage.ru_maxrss / 1024
    return result


def same_results(first: Path, second: Path) -> None:
    a = pq.read_table(first).sort_by("customer").to_pandas()
    b = pq.read_table(second).sort_by("customer").to_pandas()
    b.columns = a.columns
    import pandas as pd

    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", choices=["segone", "sql"])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.output)
        return

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"events-{args.customers}-{args.events}-{args.seed}.parquet"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.customers, args.events, args.seed)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    print(f"machine: {machine()}")
    print(
        f"data: {args.events:,} events of {args.customers:,} customers, {path.stat().st_size / 2**20:.0f} MiB"
    )
    path.read_bytes()  # warm the page cache for both sides alike
    runs: dict[str, list[dict[str, float]]] = {"segone": [], "sql": []}
    for _ in range(args.repeat):
        for side in runs:
            runs[side].append(measure(side, path, CACHE / f"profile-{side}.parquet"))
    same_results(CACHE / "profile-segone.parquet", CACHE / "profile-sql.parquet")
    best = {side: min(results, key=lambda r: r["seconds"]) for side, results in runs.items()}
    for side, label in [
        ("segone", "segone behaviour_profile (Ibis -> DuckDB)"),
        ("sql", "hand-written DuckDB SQL"),
    ]:
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs[side])
        print(
            f"{label:<42} best {best[side]['seconds']:6.2f} s  (runs: {times})  "
            f"peak RSS {max(r['peak_mib'] for r in runs[side]):,.0f} MiB  rows {best[side]['rows']:,.0f}"
        )
    ratio = best["segone"]["seconds"] / best["sql"]["seconds"]
    print(f"ratio segone / hand-written: {ratio:.2f}x (target <= 1.5x)")
    print("results identical: yes")


if __name__ == "__main__":
    main()

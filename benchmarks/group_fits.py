"""A purchase model per segment with hundreds of segments: segone vs lifetimes 0.11.3 on the same segments.

    .venv/bin/python benchmarks/group_fits.py [--customers 100000] [--segments 100,300] [--seed 20261207]
        [--no-peer] [--json results.json]

Generates ``--customers`` customers in each count of ``--segments`` segments of equal size, each segment
with BG/NBD parameters of its own (CDNOW's estimates, r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, each
multiplied by a factor drawn uniformly between 0.5 and 2 per segment), acquired uniformly over 12 weeks and
observed for 78 weeks, recorded to the day; their purchase events go to an events dataset in a temporary
folder. Then:

1. segone: ``behaviour.group_fits.fit_by_group`` (what ``segone models by-segment`` runs): the summaries of
   the calibration period (weeks 0 to 39) and the holdout read from the events by DuckDB, BG/NBD fitted
   to everyone and to each segment, every prediction and measure; end to end.
2. lifetimes: ``BetaGeoFitter().fit`` on the same calibration summaries, once for everyone and once per
   segment: the fits alone, without reading events or predicting (so the ratio understates segone's
   lead).

The log-likelihoods of both, summed over the segments, are computed with segone's likelihood on the data
each fit saw.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from common import machine

from segone.accounts.schemas import SYSTEM
from segone.analytics import backend
from segone.behaviour import group_fits, metrics
from segone.behaviour.btyd import bgnbd
from segone.behaviour.btyd.bgnbd import BGNBDParams
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import EVENT_SCHEMA

CDNOW = np.array([0.243, 4.414, 0.793, 2.426])
START = datetime(2024, 1, 1, tzinfo=UTC)
CALIBRATION_END, HOLDOUT_END = date(2024, 9, 30), date(2025, 6, 30)  # weeks 39 and 78


def simulate(n: int, segments: int, seed: int) -> tuple[pa.Table, dict[int, int]]:
    """Events of ``n`` BG/NBD customers in ``segments`` segments with parameters of their own; vectorised."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % segments
    params = CDNOW * rng.uniform(0.5, 2.0, (segments, 4))
    r, alpha, a, b = (params[group, i] for i in range(4))
    first_day = rng.integers(0, 84, n)
    age_weeks = (546 - first_day) / 7.0
    lam = rng.gamma(r, 1.0 / alpha)
    p = rng.beta(a, b)
    arrivals = rng.poisson(lam * age_weeks)
    x = np.minimum(arrivals, rng.geometric(p))
    # The repeat purchases' days: the x first of ``arrivals`` uniform times in (0, age].
    owner = np.repeat(np.arange(n), x)
    last = np.zeros(n)
    buyers = x > 0
    last[buyers] = age_weeks[buyers] * rng.beta(x[buyers], arrivals[buyers] - x[buyers] + 1)
    spread = rng.uniform(0.0, 1.0, owner.size) * last[owner]
    is_last = np.r_[owner[1:] != owner[:-1], True] if owner.size else np.zeros(0, dtype=bool)
    spread[is_last] = last[owner[is_last]]
    days = np.concatenate([first_day, first_day[owner] + np.ceil(spread * 7).astype(np.int64)])
    customers = np.concatenate([np.arange(n), owner]) + 1
    total = days.size
    ts = pa.array([START + timedelta(days=int(d), hours=12) for d in days], pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "event_id": pa.array([f"e{i}" for i in range(total)]),
            "customer": pa.array([f"c{c}" for c in customers]),
            "customer_id": pa.array(customers, pa.int64()),
            "type": pa.array(["purchase"] * total),
            "ts": ts,
            "value": pa.array(np.full(total, 20.0)),
        }
    )
    for name in ("quantity", "channel", "offering", "reason", "properties"):
        table = table.append_column(name, pa.nulls(total))
    return table.cast(EVENT_SCHEMA), {int(c): int(g) for c, g in zip(np.arange(n) + 1, group, strict=True)}


def lifetimes_fits(
    summary: dict[str, np.ndarray], groups: np.ndarray
) -> tuple[float, dict[int, float | None]]:
    """lifetimes' BG/NBD on everyone and on each segment: the seconds, and each segment's log-likelihood
    (None where lifetimes did not converge: it raises ``ConvergenceError`` on some small segments)."""
    import pandas as pd
    from lifetimes import BetaGeoFitter

    started = time.perf_counter()
    found: dict[int, float | None] = {}
    for group in [-1, *np.unique(groups).tolist()]:
        rows = np.ones(groups.size, dtype=bool) if group == -1 else groups == group
        frame = pd.DataFrame({k: v[rows] for k, v in summary.items()})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])
        except Exception:  # lifetimes.utils.ConvergenceError
            found[group] = None
            continue
        params = BGNBDParams(*(float(fitted.params_[k]) for k in ("r", "alpha", "a", "b")))
        found[group] = float(
            bgnbd.log_likelihood(params, frame["frequency"], frame["recency"], frame["T"]).sum()
        )
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--segments", default="100,300")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows: list[dict[str, Any]] = []
    for segments in (int(s) for s in args.segments.split(",")):
        events_table, groups = simulate(args.customers, segments, args.seed)
        with tempfile.TemporaryDirectory() as folder:
            dataset = EventDataset(Path(folder) / "events")
            dataset.write_batch(events_table)
            con = backend.connect("duckdb://:memory:", Path(folder))
            try:
                events = dataset.read(con)
                started = time.perf_counter()
                found = group_fits.fit_by_group(
                    events, groups, CALIBRATION_END, HOLDOUT_END, model="bgnbd", actor=SYSTEM
                )
                ours = time.perf_counter() - started
                summary_table = backend.to_arrow(
                    metrics.rfm_summary(events, CALIBRATION_END, "week", by="customer_id")
                )
            finally:
                con.disconnect()
        summary = {k: summary_table.column(k).to_numpy() for k in ("frequency", "recency", "T")}
        ids = summary_table.column("customer_id").to_numpy()
        group_of = np.array([groups[int(c)] for c in ids])
        row: dict[str, Any] = {
            "customers": found.customers,
            "segments": len(found.groups),
            "fitted": found.fitted,
            "segone_seconds": ours,
            "segone_ms_per_segment": ours / len(found.groups) * 1000,
            "segone_ll": found.log_likelihood,
            "verdict": found.verdict,
        }
        if not args.no_peer:
            theirs, their_lls = lifetimes_fits(summary, group_of)
            both = [g for g in found.groups if their_lls.get(g.group) is not None]
            row |= {
                "lifetimes_seconds": theirs,
                "ratio": theirs / ours,
                "lifetimes_failed": sum(1 for g, ll in their_lls.items() if g >= 0 and ll is None),
                "compared_segments": len(both),
                "segone_ll_compared": sum(g.log_likelihood for g in both),
                "lifetimes_ll_compared": sum(their_lls[g.group] or 0.0 for g in both),
            }
        rows.append(row)
        peer = (
            f"; lifetimes {row['lifetimes_seconds']:.2f} s (fits alone), segone {row['ratio']:.1f}x faster; "
            f"lifetimes did not converge on {row['lifetimes_failed']} segments; on the "
            f"{row['compared_segments']} both fitted, LL segone {row['segone_ll_compared']:,.2f} vs "
            f"lifetimes {row['lifetimes_ll_compared']:,.2f}"
            if "ratio" in row
            else ""
        )
        print(
            f"{row['customers']:,} customers, {row['segments']} segments ({row['fitted']} fitted): segone "
            f"{ours:.2f} s end to end ({row['segone_ms_per_segment']:.1f} ms a segment), LL "
            f"{row['segone_ll']:,.1f}{peer}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

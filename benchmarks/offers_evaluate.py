"""Offer matching: ``segone offers evaluate`` on a synthetic shop with planted tastes (and on a demo store),
the refresh's time, and the time to read a customer's stored offers and their whole briefing.

    .venv/bin/python benchmarks/offers_evaluate.py [--customers 5000] [--groups 8] [--holdout-days 90]
        [--k 10] [--seed 3] [--demo DATA_DIR] [--parts]

The synthetic shop is ``tests/personalisation/planted.py``: customers in taste groups (guitar, drums,
piano, ...) with five offerings each and three offerings for everyone (the most bought overall); each
customer buys mostly in their group, most told us a fact about their taste, a fifth buy only in the last
90 days. It is written to a new SQLite store in a temporary folder through segone's own imports. Then:
the evaluation (blend and popularity, the same rules), one refresh, and 1,000 reads of a random customer's
offers and of their briefing (the p50 and p99 of each). ``--parts`` evaluates each part of the blend alone
and other regularisations; ``--demo`` evaluates a store made by ``segone demo`` as well (read only).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

from common import machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the planted shop lives with the tests

from tests.personalisation.planted import load, planted_world

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.errors import SegoneError
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.personalisation import evaluation, refresh
from segone.personalisation import service as personalisation
from segone.personalisation.matching import blend_of
from segone.personalisation.schemas import EvaluationOut
from segone.runtime import Runtime
from segone.settings import Settings
from segone.views.briefing import briefing

READS = 1000


def table(name: str, found: EvaluationOut) -> None:
    k = found.k
    print(
        f"\n{name}: {found.customers_evaluated:,} test customers (of {found.customers_with_holdout:,} with "
        f"a holdout purchase), {found.offerings} offerings, {found.training_purchases:,} purchases learned "
        f"from, {found.holdout_purchases:,} hidden (after {found.cutoff:%Y-%m-%d})"
    )
    print(f"| method | precision@{k} | recall@{k} | MAP@{k} | coverage |")
    print("| --- | --- | --- | --- | --- |")
    for row in found.methods:
        print(
            f"| {row.method} | {row.precision:.4f} | {row.recall:.4f} | {row.map:.4f} | {row.coverage:.1%} |"
        )
    lift = found.lift
    print(
        "| blend / popularity | "
        + " | ".join(
            f"{lift[n]:.2f}x" if lift[n] else "-" for n in ("precision", "recall", "map", "coverage")
        )
        + " |"
    )


def parts(runtime: Runtime, args: argparse.Namespace) -> None:
    """The blend's MAP against each of its parts alone and against other regularisations."""
    base = blend_of(runtime.settings)
    variants = {
        "collaborative alone": replace(base, content=0.0, popularity=0.0),
        "content alone": replace(base, collaborative=0.0, popularity=0.0),
        "popularity alone (among explained offers)": replace(base, collaborative=0.0, content=0.0),
        "blend, regularisation 1": replace(base, regularization=1.0),
        "blend, regularisation 10": replace(base, regularization=10.0),
    }
    print("\n| variant | precision | recall | MAP | coverage |\n| --- | --- | --- | --- | --- |")
    for name, blend in variants.items():
        found = evaluation.evaluate(
            runtime.sessions,
            runtime.settings,
            actor=SYSTEM,
            holdout_days=args.holdout_days,
            k=args.k,
            blend=blend,
        )
        row = found.methods[0]
        print(f"| {name} | {row.precision:.4f} | {row.recall:.4f} | {row.map:.4f} | {row.coverage:.1%} |")


def percentiles(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99) - 1]
    return f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms"


def reads(runtime: Runtime) -> None:
    with runtime.session() as db:
        ids = customers.current_ids(db)
    rng = random.Random(1)
    chosen = [rng.choice(ids) for _ in range(READS)]
    categories = categories_in_force(runtime.settings)
    offers, briefings = [], []
    for customer_id in chosen:
        started = time.perf_counter()
        with runtime.session() as db:
            personalisation.customer_offers(db, actor=SYSTEM, customer_id=customer_id)
        offers.append(time.perf_counter() - started)
        started = time.perf_counter()
        with runtime.session() as db:
            briefing(
                db,
                actor=SYSTEM,
                customer_id=customer_id,
                categories=categories,
                freshness_months=runtime.settings.freshness_months,
                currency=runtime.settings.currency,
            )
        briefings.append(time.perf_counter() - started)
    print(f"\nreads of {READS:,} random customers, one at a time (a session each):")
    print(f"  their stored offers: {percentiles(offers)}")
    print(f"  their whole briefing (offers included): {percentiles(briefings)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--holdout-days", type=int, default=90)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--demo", type=Path, help="the data directory of a demo store, evaluated too")
    parser.add_argument(
        "--parts", action="store_true", help="each part of the blend alone, and other ALS settings"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")

    with tempfile.TemporaryDirectory(prefix="segone-offers-") as folder:
        runtime = Runtime(Settings(data_dir=Path(folder), secret_key="bench", flush_interval_seconds=0))
        runtime.upgrade_schema()
        world = planted_world(customers=args.customers, groups=args.groups, seed=args.seed)
        started = time.perf_counter()
        load(runtime, world)
        print(
            f"synthetic shop: {len(world.customers):,} customers in {args.groups} taste groups, "
            f"{len(world.offerings)} offerings, {len(world.purchases):,} purchases, "
            f"{len(world.facts):,} facts (seed {args.seed}), loaded in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        found = evaluation.evaluate(
            runtime.sessions, runtime.settings, actor=SYSTEM, holdout_days=args.holdout_days, k=args.k
        )
        evaluated = time.perf_counter() - started
        table(
            f"synthetic (holdout {args.holdout_days} days, k={args.k}; evaluated in {evaluated:.1f} s)", found
        )
        if args.parts:
            parts(runtime, args)
        started = time.perf_counter()
        run = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
        print(
            f"\nrefresh: {run.recommendations:,} offers for {run.customers:,} customers in "
            f"{time.perf_counter() - started:.1f} s; stages {run.seconds}"
        )
        reads(runtime)
        runtime.dispose()

    if args.demo:
        demo = Runtime(Settings(data_dir=args.demo))
        try:
            found = evaluation.evaluate(
                demo.sessions, demo.settings, actor=SYSTEM, holdout_days=args.holdout_days, k=args.k
            )
            table(f"demo store {args.demo} (holdout {args.holdout_days} days, k={args.k})", found)
        except SegoneError as error:
            print(f"\ndemo store {args.demo}: not evaluated: {error.message}")
        finally:
            demo.dispose()


if __name__ == "__main__":
    main()

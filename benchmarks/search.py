"""``search.service`` over 1,000,000 differentiators: latency percentiles of warm searches.

    .venv/bin/python benchmarks/search.py [--differentiators 1000000] [--customers 100000]
        [--encounters 200000] [--queries 200] [--keep FOLDER-OR-DATABASE-NAME]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds a fresh store (SQLite in a temporary folder by default; with ``--database-url`` a PostgreSQL server,
in a database of its own that is dropped afterwards) through the migrations, so the search indexes are
the real ones (SQLite: FTS5 tables filled by their triggers; PostgreSQL: GIN expression indexes, then
ANALYZE). The rows go in with ``storage.bulk`` (COPY / executemany). The text is the demo's
(``demo/content.py``): shared facts drawn with their shares, unique facts from the demo's generators, and
encounter notes from its openings, with small variations. Then ``--queries`` varied searches (questions,
phrases, single words; common and rare) run once to warm up and once measured, each in a session of its
own as a request would; it reports p50/p95/p99/max of the measured ones (milliseconds) and the slowest.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import drop_database, machine, scratch_database
from sqlalchemy import create_engine, make_url, text

from segone.accounts.schemas import SYSTEM
from segone.customers.models import Customer
from segone.demo import content as demo
from segone.encounters.models import Encounter
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from segone.search import service as search_service
from segone.settings import Settings
from segone.storage import bulk

CHUNK = 50_000
START = datetime(2022, 1, 1, tzinfo=UTC)


# ---- the data ---------------------------------------------------------------------------------------


def _shared_by_kind() -> dict[str, tuple[list[demo.SharedFact], list[float]]]:
    out = {}
    for kind in (demo.PERSON, demo.BUSINESS):
        facts = [f for f in demo.SHARED_FACTS if f.kind in (kind, demo.BOTH)]
        out[kind] = (facts, [f.share for f in facts])
    return out


VARIATIONS = (
    "",
    "",
    "",
    " (told us at the {month} visit)",
    "; mentioned it twice",
    " — {first} says so too",
    " — confirmed in {month}",
)


def _vary(rng: random.Random, fact: str) -> str:
    suffix = rng.choice(VARIATIONS).format(month=rng.choice(demo.MONTHS), first=rng.choice(demo.FIRST_NAMES))
    return fact + suffix


def customer_rows(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows = []
    for n in range(1, count + 1):
        kind = demo.BUSINESS if n % 2 else demo.PERSON
        if kind == demo.BUSINESS:
            industry = rng.choice(demo.INDUSTRIES)
            name = f"{rng.choice(demo.LAST_NAMES)} {industry.name} {n}"
            attributes = {"industry": industry.name, "site": industry.site}
        else:
            name = f"{rng.choice(demo.FIRST_NAMES)} {rng.choice(demo.LAST_NAMES)}"
            attributes = {}
        rows.append({"id": n, "kind": kind, "name": name, "attributes": attributes})
    return rows


def fact_rows(
    rng: random.Random, customers: list[dict[str, Any]], start_id: int, count: int
) -> list[dict[str, Any]]:
    shared = _shared_by_kind()
    rows = []
    for n in range(count):
        customer = customers[rng.randrange(len(customers))]
        kind = customer["kind"]
        if rng.random() < 0.45:
            facts, weights = shared[kind]
            fact = rng.choices(facts, weights)[0]
            fact_text, category = fact.text, fact.category
        else:
            generators = demo.BUSINESS_UNIQUE if kind == demo.BUSINESS else demo.PERSON_UNIQUE
            category, generate = rng.choice(generators)
            context = demo.Context(
                city=rng.choice(demo.TOWNS), site=customer["attributes"].get("site", "shop")
            )
            fact_text = generate(rng, context)
        learned = START + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        rows.append(
            {
                "id": start_id + n,
                "customer_id": customer["id"],
                "text": _vary(rng, fact_text),
                "category": category,
                "learned_at": learned,
                "confidence": 0.8,
                "status": "outdated" if rng.random() < 0.05 else "current",
                "last_confirmed_at": learned,
            }
        )
    return rows


def encounter_rows(
    rng: random.Random, customers: list[dict[str, Any]], start_id: int, count: int
) -> list[dict[str, Any]]:
    rows = []
    channels = list(demo.OPENINGS)
    for n in range(count):
        customer = customers[rng.randrange(len(customers))]
        channel = rng.choice(channels)
        items = demo.BUSINESS_ITEMS if customer["kind"] == demo.BUSINESS else demo.PERSON_ITEMS
        notes = rng.choice(demo.OPENINGS[channel]).format(item=rng.choice(items))
        cares = rng.choice(demo.SHARED_FACTS).text if rng.random() < 0.4 else ""
        worries = rng.choice(demo.SHARED_FACTS).text if rng.random() < 0.3 else ""
        rows.append(
            {
                "id": start_id + n,
                "customer_id": customer["id"],
                "channel": channel,
                "occurred_at": START + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60)),
                "notes": notes,
                "cares_about": cares,
                "worries_about": worries,
            }
        )
    return rows


def build(runtime: Runtime, customers: int, differentiators: int, encounters: int) -> dict[str, float]:
    rng = random.Random(20261127)
    timings: dict[str, float] = {}
    runtime.upgrade_schema()
    started = time.perf_counter()
    people = customer_rows(rng, customers)
    with runtime.engine.begin() as connection:
        for i in range(0, len(people), CHUNK):
            bulk.insert_rows(connection, Customer.__table__, people[i : i + CHUNK])  # type: ignore[arg-type]
    timings["customers"] = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, differentiators, CHUNK):
        rows = fact_rows(rng, people, i + 1, min(CHUNK, differentiators - i))
        with runtime.engine.begin() as connection:
            bulk.insert_rows(connection, Differentiator.__table__, rows)  # type: ignore[arg-type]
        print(f"  differentiators: {i + len(rows):,}", flush=True)
    timings["differentiators"] = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, encounters, CHUNK):
        rows = encounter_rows(rng, people, i + 1, min(CHUNK, encounters - i))
        with runtime.engine.begin() as connection:
            bulk.insert_rows(connection, Encounter.__table__, rows)  # type: ignore[arg-type]
    timings["encounters"] = time.perf_counter() - started
    started = time.perf_counter()
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in ("customers", "differentiators", "encounters"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            connection.execute(text("ANALYZE customers, differentiators, encounters"))
        else:
            connection.execute(text("ANALYZE"))
            connection.execute(
                text("INSERT INTO differentiators_fts(differentiators_fts) VALUES ('optimize')")
            )
            connection.execute(text("INSERT INTO encounters_fts(encounters_fts) VALUES ('optimize')"))
    timings["analyze/optimize"] = time.perf_counter() - started
    return timings


# ---- the searches -----------------------------------------------------------------------------------

QUESTIONS = (
    "who is expanding into new markets?",
    "who is opening a second {site}?",
    "which customers are worried about energy costs?",
    "who is training for the {race}?",
    "who plays {instrument}?",
    "anyone saving for {big}?",
    "who sings in {choir}?",
    "who lost their {role}?",
    "who wants {equipment} installed?",
    "who is being undercut by online sellers?",
    "who prefers text messages?",
    "who has a turntable?",
    "customers in {town}",
    "who teaches children at the community centre?",
    "who listens to {genre}?",
)
PHRASES = (
    "opening a second {site} in {town}",
    "{instrument} grade exam",
    "worried about the refit",
    "{equipment} before {month}",
    "new {home} in {town}",
    "rehearsals on {weekday}s",
    "{competitor} opened nearby",
    "known for {specialty}",
    "deliveries on the promised day",
    "finding and keeping good staff",
    "{item}",
    "works from home",
    "night shift nurse",
    "narrowboat canal",
    "vinyl",
    "{town}",
    "{month}",
    "marathon",
    "children",
    "energy",
)


def queries(count: int) -> list[str]:
    rng = random.Random(7)
    pools = {
        "site": [i.site for i in demo.INDUSTRIES],
        "race": list(demo.RACES),
        "instrument": list(demo.INSTRUMENTS),
        "big": list(demo.BIG_INSTRUMENTS),
        "choir": list(demo.CHOIRS),
        "role": list(demo.ROLES),
        "equipment": list(demo.EQUIPMENT),
        "town": list(demo.TOWNS),
        "genre": list(demo.GENRES),
        "month": list(demo.MONTHS),
        "home": list(demo.HOMES),
        "weekday": list(demo.WEEKDAYS),
        "competitor": list(demo.COMPETITORS),
        "specialty": list(demo.SPECIALTIES),
        "item": list(demo.PERSON_ITEMS + demo.BUSINESS_ITEMS),
    }
    out = []
    templates = QUESTIONS + PHRASES
    while len(out) < count:
        template = templates[len(out) % len(templates)]
        out.append(template.format(**{k: rng.choice(v) for k, v in pools.items()})[:200])
    return out


def run_queries(runtime: Runtime, texts: list[str]) -> list[tuple[float, str, int]]:
    measured = []
    for warm in (True, False):
        for query in texts:
            started = time.perf_counter()
            with runtime.session() as db:
                page = search_service.search(db, actor=SYSTEM, query=query, limit=20)
            elapsed = (time.perf_counter() - started) * 1000
            if not warm:
                measured.append((elapsed, query, page.total))
    return measured


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--differentiators", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--encounters", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a scratch database)")
    parser.add_argument(
        "--keep",
        default=None,
        help="keep the store (SQLite: this folder; PostgreSQL: a database of this name); reuse it if built",
    )
    args = parser.parse_args()

    print(machine())
    dropped: str | None = None
    with tempfile.TemporaryDirectory(prefix="segone-search-bench-") as scratch:
        folder = Path(args.keep) if args.keep and not args.database_url else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        reuse = False
        if args.database_url and args.keep:
            url = make_url(args.database_url).set(database=args.keep).render_as_string(hide_password=False)
            admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                reuse = bool(
                    connection.execute(
                        text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": args.keep}
                    ).scalar()
                )
                if not reuse:
                    connection.execute(text(f'CREATE DATABASE "{args.keep}"'))
            admin.dispose()
        elif args.database_url:
            url, dropped = scratch_database(args.database_url)
        else:
            reuse = args.keep is not None and (folder / "segone.db").exists()
            url = f"sqlite:///{folder / 'segone.db'}"
        runtime = Runtime(Settings(data_dir=folder, database_url=url, secret_key="bench"))
        try:
            backend = runtime.engine.dialect.name
            what = "reusing the store built before" if reuse else "building"
            print(
                f"backend: {backend}; {what}: {args.differentiators:,} differentiators, "
                f"{args.customers:,} customers, {args.encounters:,} encounters"
            )
            timings = {} if reuse else build(runtime, args.customers, args.differentiators, args.encounters)
            for stage, seconds in timings.items():
                print(f"  {stage}: {seconds:.1f} s")
            texts = queries(args.queries)
            measured = run_queries(runtime, texts)
            times = [m[0] for m in measured]
            print(
                f"{backend}: {len(times)} searches, warm: p50 {percentile(times, 50):.1f} ms, "
                f"p95 {percentile(times, 95):.1f} ms, p99 {percentile(times, 99):.1f} ms, "
                f"max {max(times):.1f} ms, mean {statistics.fmean(times):.1f} ms"
            )
            print("slowest:")
            for elapsed, query, total in sorted(measured, reverse=True)[:5]:
                print(f"  {elapsed:7.1f} ms  {query!r} ({total} ranked)")
        finally:
            runtime.dispose()
            if dropped and args.database_url:
                drop_database(args.database_url, dropped)


if __name__ == "__main__":
    main()

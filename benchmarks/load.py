"""A mixed load over real HTTP, with a behaviour refresh in the middle, and a check that every write landed
exactly once (issue 12, "Load").

    .venv/bin/python benchmarks/load.py [--customers 100000] [--differentiators 1000000]
        [--events 10000000] [--users 50] [--seconds 300] [--think-ms 1000] [--event-batch 1000] [--workers 1]
        [--keep FOLDER-OR-DATABASE-NAME] [--timeline FILE]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The store is ``benchmarks/briefing.py``'s (customers, facts, encounters, acknowledgements, events, and
what the refreshes and a segmentation store), with purchase events added through the events import until
the dataset holds ``--events``; ``--keep`` keeps and reuses it as there. It is served by ``segone serve``
(``--workers`` processes, one by default, as a user runs it).

``--users`` virtual users (asyncio, in this process, over keep-alive connections on loopback) each do one
thing after another, pausing ``--think-ms`` on average between them (exponentially distributed, and once
before the first, so that they arrive as they go on, not all in the first instant), chosen at random with
these weights:

- 40 %: a customer's page (``GET /customers/{id}``, the HTML sheet, signed in with a session cookie);
- 15 %: a search (``GET /api/v1/search?q=...``, words of the demo's facts);
- 15 %: a fact written about a customer (``POST /api/v1/customers/{id}/differentiators``);
- 10 %: one of the facts this user wrote acknowledged (``POST /api/v1/differentiators/{id}/acknowledge``);
- 20 %: a batch of ``--event-batch`` purchase events (``POST /api/v1/events``, each with its own
  ``event_id``).

Halfway, a behaviour refresh is started (``POST /api/v1/jobs/behaviour-refresh``) and followed to its end.
Every answer that is not a success counts as an error. Afterwards the events still staged are flushed
(``segone events flush``) and the store is checked: every fact written is present exactly once with its
text, every acknowledgement is recorded once, and every event sent is in the dataset's Parquet files
exactly once. It prints p50/p95/p99/max per route (the customer page's also while the refresh ran and
outside it), the requests and events per second, the CPU of the server, of PostgreSQL's processes and of
this generator, the CPU time the hypervisor took from this machine's CPUs (``steal``: on a busy host every
figure is slower for it; the seconds it took most are named), the refresh's time, the errors and the
check; ``--timeline FILE`` also writes every request (kind, seconds into the measured run, negative in the
warm-up; milliseconds) and the steal of each second (kind ``stolen``) as CSV, to see when the slow ones
came; the pages are also split by the stage of the refresh they were sent in.
Targets (issue 12): the customer page's p99 under 100 ms, zero errors, and event ingestion through the
API of at least 20,000 events a second (``benchmarks/send_events.py`` measures that on its own; here the
events per second are those the mix asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from briefing import (
    AS_OF,
    build_store,
    cpu_seconds,
    serving,
    store_of,
)
from common import CONSENT, drop_database, machine, vacuumed
from sqlalchemy import func, select

from search import START, percentile, queries
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserCreate
from segone.behaviour import ingest
from segone.behaviour.events import validate_events
from segone.knowledge.models import Acknowledgement, Differentiator
from segone.runtime import Runtime
from segone.settings import Settings

LOAD_EMAIL = "load@bench.example"
LOAD_PASSWORD = "load-bench-password"
EVENTS_FILE = "load-events.txt"
CATEGORIES = ("cares_about", "worries", "motivations", "preferences")  # for businesses and consumers alike
EVENT_CHUNK = 1_000_000

CUSTOMER_PAGE = "customer page"
SEARCH = "search"
FACT_WRITE = "fact write"
ACKNOWLEDGE = "acknowledgement"
EVENTS = "event batch"
MIX = {CUSTOMER_PAGE: 40, SEARCH: 15, FACT_WRITE: 15, ACKNOWLEDGE: 10, EVENTS: 20}


# ---- the store --------------------------------------------------------------------------------------------


def _more_events(runtime: Runtime, customers: int, wanted: int) -> int:
    """Purchase events of random customers over the two years before the profiles' day, imported in
    chunks until the dataset holds ``wanted``; how many there are then."""
    dataset = ingest.dataset_of(runtime.settings.data_dir)
    have = sum(pq.read_metadata(path).num_rows for path in dataset.files())
    rng = np.random.default_rng(20261207)
    start = int(START.timestamp() * 1_000_000)
    span = int((AS_OF - START.date()).days) * 86_400
    while have < wanted:
        n = min(EVENT_CHUNK, wanted - have)
        owners = rng.integers(1, customers + 1, n)
        table = pa.table(
            {
                "customer": pa.array([f"bench:{c:06d}" for c in owners.tolist()], pa.string()),
                "type": pa.array(["purchase"] * n, pa.string()),
                "ts": pa.array(start + rng.integers(0, span, n) * 1_000_000, pa.timestamp("us", tz="UTC")),
                "value": pa.array(np.round(rng.gamma(4.0, 9.0, n), 2), pa.float64()),
                "quantity": pa.array(rng.integers(1, 4, n), pa.int64()),
            }
        )
        checked = validate_events(table)
        assert checked.table is not None, checked.errors[:3]
        ingest.import_events(
            runtime.sessions, dataset=dataset, actor=SYSTEM, events=checked.table, unknown="reject"
        )
        have += n
        print(f"  events: {have:,}", flush=True)
    return have


def _load_user(runtime: Runtime) -> str:
    """An administrator's API token for the load (made once; kept in the data folder)."""
    path = runtime.settings.data_dir / "load-token.txt"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    with runtime.session() as db:
        user = accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(email=LOAD_EMAIL, name="Load Bench", role=Role.ADMIN, password=LOAD_PASSWORD),
        )
        token = accounts.create_token(db, actor=SYSTEM, user_id=user.id, name="load benchmark").token
    path.write_text(token, encoding="utf-8")
    return token


# ---- the load ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeline: list[tuple[str, float, float]] = field(default_factory=list)  # (kind, sent at, ms)
    errors: list[str] = field(default_factory=list)
    facts: dict[int, str] = field(default_factory=dict)  # written: id -> text
    acknowledged: set[int] = field(default_factory=set)
    events_sent: int = 0
    events_new: int = 0


@dataclass
class Plan:
    run: str
    customers: int
    think: float
    event_batch: int
    stop_warmup: float
    stop: float
    words: list[str]


def _limits(connections: int) -> httpx.Limits:
    """Keep-alive connections given up after 3 s idle: uvicorn closes them after 5 s, and a request sent
    on one it is closing fails (as behind any proxy, the client's idle limit is the shorter)."""
    return httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=3.0
    )


async def _signed_in(base: str, users: int) -> httpx.AsyncClient:
    limits = _limits(users)
    web = httpx.AsyncClient(base_url=base, limits=limits, timeout=60, follow_redirects=False)
    page = (await web.get("/login")).text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await web.post(
        "/login", data={"csrf_token": token, "email": LOAD_EMAIL, "password": LOAD_PASSWORD}
    )
    if answer.status_code != 303:
        raise SystemExit(f"signing in failed: {answer.status_code} {answer.text[:200]}")
    return web


def _events_body(plan: Plan, user: int, seq: int, rng: random.Random) -> dict[str, Any]:
    day = datetime(2024, 1, 1, tzinfo=UTC)
    return {
        "events": [
            {
                "event_id": f"{plan.run}-{user}-{seq}-{i}",
                "customer": f"bench:{rng.randint(1, plan.customers):06d}",
                "type": "purchase",
                "timestamp": (day + timedelta(seconds=rng.randrange(360 * 86_400))).isoformat(),
                "value": round(rng.gammavariate(4.0, 9.0), 2),
                "channel": "web",
            }
            for i in range(plan.event_batch)
        ]
    }


async def _user(n: int, api: httpx.AsyncClient, web: httpx.AsyncClient, plan: Plan, tally: Tally) -> None:
    rng = random.Random(n)
    mine: list[int] = []
    seq = 0
    kinds, weights = list(MIX), list(MIX.values())
    if plan.think:  # arriving as they go on, not all fifty in the same instant
        await asyncio.sleep(rng.expovariate(1 / plan.think))
    while (now := time.perf_counter()) < plan.stop:
        kind = rng.choices(kinds, weights)[0]
        if kind == ACKNOWLEDGE and not mine:
            kind = FACT_WRITE
        seq += 1
        customer = rng.randint(1, plan.customers)
        body: dict[str, Any] | None = None
        if kind == CUSTOMER_PAGE:
            request = web.get(f"/customers/{customer}")
        elif kind == SEARCH:
            request = api.get("/api/v1/search", params={"q": rng.choice(plan.words)})
        elif kind == FACT_WRITE:
            text = f"{plan.run} user {n} fact {seq}: plans a trip to the coast"
            body = {"text": text, "category": rng.choice(CATEGORIES)}
            request = api.post(f"/api/v1/customers/{customer}/differentiators", json=body)
        elif kind == ACKNOWLEDGE:
            fact = mine.pop(rng.randrange(len(mine)))
            request = api.post(
                f"/api/v1/differentiators/{fact}/acknowledge", json={"how": f"{plan.run} load"}
            )
        else:
            body = _events_body(plan, n, seq, rng)
            request = api.post("/api/v1/events", json=body)
        try:
            answer = await request
        except httpx.TransportError as exc:  # an error like any other, not the end of the run
            tally.errors.append(f"{kind}: {type(exc).__name__} {exc}")
            continue
        elapsed = (time.perf_counter() - now) * 1000
        if answer.status_code >= 400:
            tally.errors.append(f"{kind}: {answer.status_code} {answer.text[:200]}")
        else:
            if now >= plan.stop_warmup:
                tally.latencies[kind].append(elapsed)
            tally.timeline.append((kind, now, elapsed))
            if kind == FACT_WRITE:
                fact_id = int(answer.json()["id"])
                tally.facts[fact_id] = body["text"] if body else ""
                mine.append(fact_id)
            elif kind == ACKNOWLEDGE:
                tally.acknowledged.add(fact)
            elif kind == EVENTS:
                tally.events_sent += plan.event_batch
                tally.events_new += int(answer.json()["new"])
        if plan.think:
            await asyncio.sleep(rng.expovariate(1 / plan.think))


async def _refresh_midway(api: httpx.AsyncClient, at: float, report: dict[str, Any], tally: Tally) -> None:
    await asyncio.sleep(at)
    started = time.perf_counter()
    answer = await api.post("/api/v1/jobs/behaviour-refresh")
    if answer.status_code >= 400:
        tally.errors.append(f"refresh: {answer.status_code} {answer.text[:200]}")
        return
    job = answer.json()
    stages: list[tuple[str, float]] = []  # each stage the polls saw, from when it was first seen
    while job["finished_at"] is None:
        stage = (job.get("progress") or {}).get("stage")
        if stage and (not stages or stages[-1][0] != stage):
            stages.append((stage, time.perf_counter()))
        await asyncio.sleep(0.5)
        job = (await api.get(f"/api/v1/jobs/{job['id']}")).json()
    report["refresh"] = {
        "state": job["state"],
        "error": job["error"],
        "seconds": round(time.perf_counter() - started, 1),
    }
    report["refresh_window"] = (started, time.perf_counter())
    report["refresh_stages"] = stages


STOLEN = "stolen"  # timeline rows of the CPU time the hypervisor took, per second of the run


def _stolen_seconds() -> float:
    """The CPU time the hypervisor has taken from this machine's CPUs so far (``steal`` in /proc/stat):
    on a virtual machine whose host is busy, the server waits for its CPUs without using them, and every
    figure of the run is slower for it."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


async def _watch_steal(plan: Plan, tally: Tally) -> None:
    """Each second until the run ends, the CPU time stolen in it, as a timeline row (``STOLEN``, ms)."""
    last = _stolen_seconds()
    while (now := time.perf_counter()) < plan.stop:
        await asyncio.sleep(1.0)
        stolen = _stolen_seconds()
        tally.timeline.append((STOLEN, now, (stolen - last) * 1000))
        last = stolen


def _database_cpu_seconds() -> float:
    """The CPU time PostgreSQL's processes on this machine have used so far (those still running)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().partition(") ")
        except OSError:  # ended meanwhile
            continue
        if name.endswith("(postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def run_load(
    base: str, server: int, token: str, plan: Plan, users: int, refresh_at: float
) -> tuple[Tally, dict[str, Any]]:
    tally = Tally()
    report: dict[str, Any] = {}
    limits = _limits(users + 1)
    headers = {"Authorization": f"Bearer {token}"}
    web = await _signed_in(base, users)
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120) as api:
            cpu_before = cpu_seconds(server)
            database_before = _database_cpu_seconds()
            own_before = time.process_time()
            stolen_before = _stolen_seconds()
            started = time.perf_counter()
            await asyncio.gather(
                _watch_steal(plan, tally),
                _refresh_midway(api, refresh_at, report, tally),
                *(_user(n, api, web, plan, tally) for n in range(users)),
            )
            report["seconds"] = time.perf_counter() - started
            report["server_cpu_seconds"] = cpu_seconds(server) - cpu_before
            report["database_cpu_seconds"] = _database_cpu_seconds() - database_before
            report["generator_cpu_seconds"] = time.process_time() - own_before
            report["stolen_seconds"] = _stolen_seconds() - stolen_before
    finally:
        await web.aclose()
    return tally, report


# ---- the check --------------------------------------------------------------------------------------------


def check(runtime: Runtime, plan: Plan, tally: Tally) -> dict[str, Any]:
    """Every fact written present once with its text, every acknowledgement once, every event once."""
    with runtime.session() as db:
        stored = dict(
            db.execute(
                select(Differentiator.id, Differentiator.text).where(
                    Differentiator.text.like(f"{plan.run} %")
                )
            ).all()
        )
        acks = dict(
            db.execute(
                select(Acknowledgement.differentiator_id, func.count())
                .where(Acknowledgement.differentiator_id.in_(sorted(tally.acknowledged) or [0]))
                .group_by(Acknowledgement.differentiator_id)
            ).all()
        )
    events = ds.dataset(ingest.dataset_of(runtime.settings.data_dir).files(), format="parquet")
    table = events.to_table(columns=["event_id"])
    mine = pc.starts_with(table.column("event_id"), f"{plan.run}-")
    ids = table.filter(mine).column("event_id")
    result = {
        "facts_written": len(tally.facts),
        "facts_stored": len(stored),
        "facts_same_text": sum(stored.get(i) == t for i, t in tally.facts.items()),
        "acknowledged": len(tally.acknowledged),
        "acknowledgements_once": sum(acks.get(i) == 1 for i in tally.acknowledged),
        "events_sent": tally.events_sent,
        "events_answered_new": tally.events_new,
        "events_in_dataset": len(ids),
        "events_distinct": len(pc.unique(ids)),
    }
    result["all_once"] = (
        result["facts_stored"] == result["facts_written"] == result["facts_same_text"]
        and result["acknowledgements_once"] == result["acknowledged"]
        and result["events_in_dataset"] == result["events_distinct"] == result["events_sent"]
    )
    return result


# ---- the run ----------------------------------------------------------------------------------------------


def _flush(folder: Path, url: str) -> str:
    env = {
        **os.environ,
        "SEGONE_DATA_DIR": str(folder),
        "SEGONE_DATABASE_URL": url,
        "SEGONE_CONSENT_DEFAULT": CONSENT,
    }
    segone = Path(sys.executable).with_name("segone")
    done = subprocess.run(
        [str(segone), "events", "flush", "--json"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"segone events flush failed: {done.stderr.strip()}")
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--differentiators", type=int, default=1_000_000)
    parser.add_argument("--encounters", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--think-ms", type=float, default=1000)
    parser.add_argument("--event-batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="segone serve's worker processes")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a scratch database)")
    parser.add_argument(
        "--keep", default=None, help="keep the store and reuse it (as benchmarks/briefing.py)"
    )
    parser.add_argument(
        "--timeline",
        default=None,
        help="also write every request to this CSV file: kind, seconds into the run (<0: warm-up), ms",
    )
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    dropped: str | None = None
    with tempfile.TemporaryDirectory(prefix="segone-load-bench-") as scratch:
        found = store_of(Path(scratch), args.keep, args.database_url)
        if found is None:
            return
        folder, url, dropped, reuse = found
        runtime = Runtime(
            Settings(data_dir=folder, database_url=url, secret_key="bench", consent_default=CONSENT)
        )
        try:
            backend = runtime.engine.dialect.name
            if not reuse:
                print(f"backend: {backend}; building the store")
                for stage, seconds in build_store(
                    runtime, args.customers, args.differentiators, args.encounters
                ).items():
                    print(f"  {stage}: {seconds:.1f} s", flush=True)
            started = time.perf_counter()
            held = _more_events(runtime, args.customers, args.events)
            print(
                f"backend: {backend}; {held:,} events in the dataset ({time.perf_counter() - started:.0f} s)"
            )
            token = _load_user(runtime)
            if said := vacuumed(runtime.engine):
                print(f"backend: {backend}; {said}", flush=True)
            runtime.dispose()
            run = f"load{os.urandom(3).hex()}"
            print(f"segone serve --workers {args.workers}")
            with serving(folder, url, args.workers) as (base, server):
                begin = time.perf_counter()
                plan = Plan(
                    run=run,
                    customers=args.customers,
                    think=args.think_ms / 1000,
                    event_batch=args.event_batch,
                    stop_warmup=begin + args.warmup,
                    stop=begin + args.warmup + args.seconds,
                    words=queries(200),
                )
                tally, report = asyncio.run(
                    run_load(base, server, token, plan, args.users, args.warmup + args.seconds / 2)
                )
                report["flush"] = json.loads(_flush(folder, url) or "{}")
            runtime = Runtime(
                Settings(data_dir=folder, database_url=url, secret_key="bench", consent_default=CONSENT)
            )
            checked = check(runtime, plan, tally)
        finally:
            runtime.dispose()
            if dropped:
                drop_database(args.database_url, dropped)

    measured = args.seconds
    total = sum(len(v) for v in tally.latencies.values())
    print(f"{backend}, {args.users} users pausing {args.think_ms:g} ms on average, {args.seconds:g} s:")
    for kind in MIX:
        values = tally.latencies.get(kind) or [0.0]
        print(
            f"  {kind}: {len(tally.latencies.get(kind, [])):,} requests; "
            f"p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
            f"p99 {percentile(values, 99):.1f} ms, max {max(values):.1f} ms"
        )
    events_per_second = tally.events_sent / (args.warmup + args.seconds)
    print(f"  throughput: {total / measured:.1f} requests/s, {events_per_second:,.0f} events/s")
    if args.timeline:
        with open(args.timeline, "w", encoding="utf-8", newline="") as out:
            rows = csv.writer(out)
            rows.writerow(["kind", "sent_s", "ms"])
            begun = plan.stop_warmup
            rows.writerows((kind, f"{sent - begun:.3f}", f"{ms:.1f}") for kind, sent, ms in tally.timeline)
        print(f"every request: {args.timeline}")
    window = report.get("refresh_window")
    if window:
        pages = [
            (sent, ms)
            for kind, sent, ms in tally.timeline
            if kind == CUSTOMER_PAGE and sent >= plan.stop_warmup
        ]
        during = [ms for sent, ms in pages if window[0] <= sent < window[1]]
        outside = [ms for sent, ms in pages if not window[0] <= sent < window[1]]
        for label, values in (("while the refresh ran", during), ("outside the refresh", outside)):
            values = values or [0.0]
            print(
                f"  {CUSTOMER_PAGE} {label}: {len(values):,}; p50 {percentile(values, 50):.1f} ms, "
                f"p95 {percentile(values, 95):.1f} ms, p99 {percentile(values, 99):.1f} ms"
            )
        _by_stage(report.get("refresh_stages", []), window[1], pages)
    print(
        f"  CPU over {report['seconds']:.0f} s: server {report['server_cpu_seconds']:.1f} s, "
        f"PostgreSQL {report['database_cpu_seconds']:.1f} s (its processes still running), "
        f"this load generator {report['generator_cpu_seconds']:.1f} s; taken by the hypervisor (steal) "
        f"{report['stolen_seconds']:.1f} s of the {os.cpu_count()} CPUs' {report['seconds']:.0f} s"
    )
    _worst_steal(tally.timeline, plan.stop_warmup)
    print(f"  behaviour refresh: {report.get('refresh', 'not finished')}")
    print(f"  errors: {len(tally.errors)}" + (f"; the first: {tally.errors[0]}" if tally.errors else ""))
    print(f"  afterwards: {checked}")
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    if tally.errors or not checked["all_once"]:
        raise SystemExit(1)


def _worst_steal(timeline: list[tuple[str, float, float]], begun: float) -> None:
    """The seconds in which the hypervisor took the most CPU time: a run whose slow pages fall there
    measured the host's other guests, not the server."""
    stolen = sorted(((ms, sent - begun) for kind, sent, ms in timeline if kind == STOLEN), reverse=True)
    if stolen and stolen[0][0] > 0:
        worst = ", ".join(f"{ms:.0f} ms at {at:.0f} s" for ms, at in stolen[:5])
        print(f"    the most stolen in a second: {worst}")


def _by_stage(stages: list[tuple[str, float]], end: float, pages: list[tuple[float, float]]) -> None:
    """The customer pages sent during each stage of the refresh: which of its work slows them."""
    for (stage, begun), until in zip(stages, [at for _, at in stages[1:]] + [end], strict=True):
        values = [ms for sent, ms in pages if begun <= sent < until] or [0.0]
        print(
            f"    {stage} ({until - begun:.0f} s): {len(values):,} pages; p50 {percentile(values, 50):.1f} "
            f"ms, p99 {percentile(values, 99):.1f} ms"
        )


if __name__ == "__main__":
    main()

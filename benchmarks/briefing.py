"""The briefing over real HTTP: ``GET /api/v1/customers/{id}/briefing`` read by concurrent readers from
``segone serve``, on a store of 100,000 customers and 1,000,000 facts.

    .venv/bin/python benchmarks/briefing.py [--customers 100000] [--differentiators 1000000]
        [--encounters 200000] [--readers 20] [--seconds 60] [--warmup 10] [--think-ms 0] [--no-peer]
        [--workers 1]
        [--keep FOLDER-OR-DATABASE-NAME]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The store (SQLite in a temporary folder by default; with ``--database-url`` a PostgreSQL server, in a
database of its own that is dropped afterwards, and skipped with a message when the server cannot be
reached) is built through the migrations and filled with ``storage.bulk``: the customers and encounters of
``benchmarks/search.py`` and its facts (the demo's content), two thirds of them learned in an encounter
with their customer; an identity per customer; a third of the facts acknowledged; and about 14 purchase
events per customer (buy-till-you-die-like rates and drop-outs, some complaints and returns) imported
through the events import. Then what a briefing reads is stored by the product's own jobs: the behaviour
refresh (profiles and scores), the knowledge refresh (rarity, distinguishability, next questions) and a
segmentation build (``--min-size 20``). ``--keep`` keeps the store (a folder, or a database of that name
with its events in a folder of that name under the temporary directory) and reuses it when run again.

The store is served by ``segone serve`` (uvicorn, ``--workers`` processes, one by default) in a child
process; its log goes to a file in the data folder. ``--readers`` clients (asyncio, one keep-alive
connection each, in this process) each request the briefing of a random customer as soon as their previous
answer arrived (``--think-ms``: after a pause of that many milliseconds on average, as people reading it
would), for ``--warmup`` seconds (not counted) then ``--seconds``; it reports p50/p95/p99/max latency (from
sending the request to reading the whole answer) and the answers per second. The customer sheet (``GET
/api/v1/customers/{id}/sheet``, which the briefing is composed from) is measured the same way in the same
run, as the peer, unless ``--no-peer``. Target (issue 10): the briefing's p99 under 50 ms at 20 concurrent
readers, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow as pa
from common import CONSENT, drop_database, machine, vacuumed
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError

from search import START, build, customer_rows, fact_rows, percentile
from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserCreate
from segone.behaviour import ingest, refresh
from segone.behaviour.events import validate_events
from segone.customers.models import CustomerIdentity
from segone.encounters.models import Encounter
from segone.knowledge.distinguishability import refresh as knowledge_refresh
from segone.knowledge.models import Acknowledgement, Differentiator
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from segone.settings import Settings
from segone.storage import bulk

CHUNK = 50_000
AS_OF = date(2024, 12, 30)  # the behaviour profiles' day: the facts and encounters run from 2022 to 2024
READER_EMAIL = "reader@bench.example"
TOKEN_FILE = "bench-token.txt"


# ---- the store --------------------------------------------------------------------------------------------


def _identities(runtime: Runtime, customers: int) -> None:
    rows = [{"customer_id": n, "system": "bench", "value": f"{n:06d}"} for n in range(1, customers + 1)]
    with runtime.engine.begin() as connection:
        for i in range(0, len(rows), CHUNK):
            bulk.insert_rows(connection, CustomerIdentity.__table__, rows[i : i + CHUNK])  # type: ignore[arg-type]


def _acknowledgements(runtime: Runtime, differentiators: int, user_id: int) -> int:
    """A third of the facts shown to the customer, some days after the fact was learned (the facts' ids
    are 1...N, as ``search.build`` writes them)."""
    rng = np.random.default_rng(11)
    ids = np.flatnonzero(rng.random(differentiators) < 1 / 3) + 1
    with runtime.engine.begin() as connection:
        learned = {
            i: at for i, at in connection.execute(select(Differentiator.id, Differentiator.learned_at))
        }
    written = 0
    for i in range(0, len(ids), CHUNK):
        rows = []
        for fact_id in ids[i : i + CHUNK].tolist():
            at = learned[fact_id]
            rows.append(
                {
                    "differentiator_id": fact_id,
                    "acknowledged_by_id": user_id,
                    "acknowledged_at": at + timedelta(days=int(fact_id % 40) + 1),
                    "how": "Brought it up on the call",
                }
            )
        with runtime.engine.begin() as connection:
            bulk.insert_rows(connection, Acknowledgement.__table__, rows)  # type: ignore[arg-type]
        written += len(rows)
    return written


def _events(customers: int) -> pa.Table:
    """Purchases as the buy-till-you-die models describe them (each customer buys at a rate of their own
    until they drop out, spending around a mean of their own), from the customer's first year to the
    profiles' day; a complaint or a return for one event in a hundred."""
    rng = np.random.default_rng(20261208)
    days = (AS_OF - START.date()).days
    birth = rng.uniform(0, 365, customers)
    rate = rng.gamma(0.9, 1 / 40, customers)  # purchases a day
    death = np.minimum(birth + rng.exponential(1 / rng.gamma(0.7, 1 / 900, customers)), days)
    counts = rng.poisson(rate * (death - birth))
    owners = np.repeat(np.arange(customers), counts)
    offsets = birth[owners] + rng.random(len(owners)) * (death - birth)[owners]
    seconds = offsets.astype(np.int64) * 86_400 + rng.integers(9 * 3600, 18 * 3600, len(owners))
    kinds = np.full(len(owners), "purchase", dtype=object)
    trouble = rng.random(len(owners))
    kinds[trouble < 0.005] = "complaint"
    kinds[(trouble >= 0.005) & (trouble < 0.01)] = "return"
    spend = rng.gamma(3.0, 12.0, customers)[owners]
    start = int(START.timestamp() * 1_000_000)
    table = pa.table(
        {
            "customer": pa.array([f"bench:{n + 1:06d}" for n in owners.tolist()], pa.string()),
            "type": pa.array(kinds.tolist(), pa.string()),
            "ts": pa.array(start + seconds * 1_000_000, pa.timestamp("us", tz="UTC")),
            "value": pa.array(np.round(rng.gamma(4.0, spend / 4.0), 2), pa.float64()),
            "quantity": pa.array(rng.integers(1, 4, len(owners)), pa.int64()),
        }
    )
    validation = validate_events(table)
    assert validation.table is not None, validation.errors[:3]
    return validation.table


def _facts(runtime: Runtime, customers: int, differentiators: int) -> None:
    """``search.py``'s facts, two thirds of them learned in an encounter with their customer (at its time,
    in its channel), as the product links them; the rest on their own."""
    rng = random.Random(20261208)
    people = customer_rows(random.Random(20261127), customers)  # as ``search.build`` made them
    met: dict[int, list[tuple[int, Any, str]]] = {}
    with runtime.engine.connect() as connection:
        for row in connection.execute(
            select(Encounter.id, Encounter.customer_id, Encounter.occurred_at, Encounter.channel)
        ):
            met.setdefault(row.customer_id, []).append((row.id, row.occurred_at, row.channel))
    for i in range(0, differentiators, CHUNK):
        print(f"  differentiators: {i:,}", flush=True)
        rows = fact_rows(rng, people, i + 1, min(CHUNK, differentiators - i))
        for row in rows:
            encounters = met.get(row["customer_id"])
            if encounters and rng.random() < 2 / 3:
                encounter_id, occurred_at, channel = rng.choice(encounters)
                row.update(
                    encounter_id=encounter_id,
                    learned_at=occurred_at,
                    last_confirmed_at=occurred_at,
                    channel=channel,
                )
        with runtime.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                # Room for the indexes' pages: facts go in at random places of the customer and encounter
                # indexes, which SQLite's default 2 MB cache would read and write again and again.
                connection.exec_driver_sql("PRAGMA cache_size = -1000000")
            bulk.insert_rows(connection, Differentiator.__table__, rows)  # type: ignore[arg-type]
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('differentiators', 'id'), "
                    "(SELECT max(id) FROM differentiators))"
                )
            )
        else:
            connection.execute(
                text("INSERT INTO differentiators_fts(differentiators_fts) VALUES ('optimize')")
            )


def build_store(runtime: Runtime, customers: int, differentiators: int, encounters: int) -> dict[str, float]:
    """Everything a briefing reads, written the way the product writes it (module docstring)."""
    timings = build(runtime, customers, 0, encounters)
    started = time.perf_counter()
    _facts(runtime, customers, differentiators)
    timings[f"{differentiators:,} differentiators"] = time.perf_counter() - started
    started = time.perf_counter()
    _identities(runtime, customers)
    with runtime.session() as db:
        reader = accounts.create(
            db, actor=SYSTEM, data=UserCreate(email=READER_EMAIL, name="Bench Reader", role=Role.FRONTLINE)
        )
        token = accounts.create_token(db, actor=SYSTEM, user_id=reader.id, name="briefing benchmark")
        reader_id = reader.id
    (runtime.settings.data_dir / TOKEN_FILE).write_text(token.token, encoding="utf-8")
    acknowledged = _acknowledgements(runtime, differentiators, reader_id)
    timings[f"identities, a user, {acknowledged:,} acknowledgements"] = time.perf_counter() - started
    started = time.perf_counter()
    events = _events(customers)
    ingest.import_events(
        runtime.sessions,
        dataset=ingest.dataset_of(runtime.settings.data_dir),
        actor=SYSTEM,
        events=events,
        unknown="reject",
    )
    timings[f"{events.num_rows:,} events imported"] = time.perf_counter() - started
    started = time.perf_counter()
    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=AS_OF)
    timings["behaviour refresh"] = time.perf_counter() - started
    started = time.perf_counter()
    knowledge_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    timings["knowledge refresh"] = time.perf_counter() - started
    started = time.perf_counter()
    segmentation.build(runtime.sessions, runtime.settings, actor=SYSTEM, min_size=20, name="briefing bench")
    timings["segmentation build"] = time.perf_counter() - started
    with runtime.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return timings


# ---- serving and reading ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(data_dir: Path, database_url: str, workers: int = 1) -> Iterator[tuple[str, int]]:
    """``segone serve --workers N`` on a free port until the block ends; its log in the data folder (a
    pipe would fill up and stall the server in a long run)."""
    port = _free_port()
    env = {
        **os.environ,
        "SEGONE_DATA_DIR": str(data_dir),
        "SEGONE_DATABASE_URL": database_url,
        "SEGONE_CONSENT_DEFAULT": CONSENT,
    }
    segone = Path(sys.executable).with_name("segone")
    with (data_dir / "serve.log").open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [str(segone), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code < 500:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            if server.poll() is not None:
                raise SystemExit(f"segone serve stopped; see {data_dir / 'serve.log'}")
            print(f"segone serve (pid {server.pid}) on {base}", flush=True)
            yield base, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)


async def _reader(
    client: httpx.AsyncClient,
    path: str,
    customers: int,
    rng: random.Random,
    stop_warmup: float,
    stop: float,
    think: float,
    latencies: list[float],
    failures: list[str],
) -> None:
    while (now := time.perf_counter()) < stop:
        customer_id = rng.randint(1, customers)
        response = await client.get(path.format(customer_id))
        elapsed = time.perf_counter() - now
        if response.status_code != 200:
            failures.append(f"{response.status_code} {response.text[:200]}")
        elif now >= stop_warmup:
            latencies.append(elapsed * 1000)
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process and its children (``serve --workers``) have used so far."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            rest = stat.read_text().rpartition(")")[2]
        except OSError:  # ended meanwhile
            continue
        fields = rest.split()
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's id
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def read_concurrently(
    base: str,
    server: int,
    token: str,
    path: str,
    customers: int,
    readers: int,
    warmup: float,
    seconds: float,
    think: float = 0.0,
) -> dict[str, Any]:
    """``readers`` clients asking for ``path`` of random customers, each as soon as its previous answer
    came (or after a pause of ``think`` seconds on average, exponentially distributed); the latencies of
    those sent after the warm-up, the answers per second over the measured seconds, and the CPU time the
    server process (``server``) used per answer meanwhile."""
    latencies: list[float] = []
    failures: list[str] = []
    # Idle connections given up after 3 s, before uvicorn closes them (5 s): a request sent on one it is
    # closing would fail.
    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers, keepalive_expiry=3.0)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        stop_warmup, stop = started + warmup, started + warmup + seconds
        used: list[float] = []

        async def after_warmup() -> None:
            await asyncio.sleep(warmup)
            used.append(cpu_seconds(server))

        await asyncio.gather(
            after_warmup(),
            *(
                _reader(
                    client, path, customers, random.Random(n), stop_warmup, stop, think, latencies, failures
                )
                for n in range(readers)
            ),
        )
        measured = time.perf_counter() - stop_warmup
        used.append(cpu_seconds(server))
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, the first: {failures[0]}")
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / measured,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
        "mean": statistics.fmean(latencies),
        "server_cpu": (used[1] - used[0]) / len(latencies) * 1000,
    }


def _line(name: str, figures: dict[str, Any]) -> str:
    return (
        f"{name}: {figures['requests']:,} requests, {figures['per_second']:.1f}/s; p50 {figures['p50']:.1f} "
        f"ms, p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, max {figures['max']:.1f} ms, mean "
        f"{figures['mean']:.1f} ms; server CPU {figures['server_cpu']:.1f} ms an answer"
    )


# ---- the run ----------------------------------------------------------------------------------------------


def _postgres_database(server_url: str, keep: str | None) -> tuple[str, str | None, bool] | None:
    """The database to use on the server: (its URL, the name to drop afterwards, whether it was built
    before); None when the server cannot be reached."""
    name = keep or f"segone_bench_{os.urandom(4).hex()}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = bool(
                connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        print(f"PostgreSQL at {server_url} is not available ({str(exc).splitlines()[0]}); skipped.")
        return None
    finally:
        admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, None if keep else name, exists


def store_of(
    scratch: Path, keep: str | None, database_url: str | None
) -> tuple[Path, str, str | None, bool] | None:
    """Where the store lives: (its folder, its database URL, the database to drop afterwards, whether it
    was built before); None when the PostgreSQL server cannot be reached. SQLite: ``keep`` is the folder;
    PostgreSQL: the database's name, its events dataset and token in a folder of that name."""
    folder = Path(keep) if keep and not database_url else scratch
    if database_url:
        found = _postgres_database(database_url, keep)
        if found is None:
            return None
        url, dropped, reuse = found
        if keep:
            folder = Path(tempfile.gettempdir()) / keep
            reuse = reuse and (folder / TOKEN_FILE).exists()
    else:
        dropped, reuse = None, keep is not None and (folder / TOKEN_FILE).exists()
        url = f"sqlite:///{folder / 'segone.db'}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder, url, dropped, reuse


def kept_store(keep: str, database_url: str | None) -> tuple[Runtime, Path]:
    """The store this script kept as ``keep``, opened (its runtime, its folder), for the benchmarks that
    measure on it; exits saying how to build it when there is none."""
    found = store_of(Path(tempfile.gettempdir()), keep, database_url)
    if found is None or not found[3]:
        raise SystemExit(f"No store kept as {keep}: build it with benchmarks/briefing.py --keep first.")
    folder, url = found[0], found[1]
    settings = Settings(data_dir=folder, database_url=url, secret_key="bench", consent_default=CONSENT)
    return Runtime(settings), folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--differentiators", type=int, default=1_000_000)
    parser.add_argument("--encounters", type=int, default=200_000)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="each reader pauses this long on average between answer and request (0: none)",
    )
    parser.add_argument("--no-peer", action="store_true", help="do not measure the customer sheet too")
    parser.add_argument("--workers", type=int, default=1, help="segone serve's worker processes")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a scratch database)")
    parser.add_argument(
        "--keep",
        default=None,
        help="keep the store (SQLite: this folder; PostgreSQL: a database of this name); reuse it if built",
    )
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    dropped: str | None = None
    with tempfile.TemporaryDirectory(prefix="segone-briefing-bench-") as scratch:
        found = store_of(Path(scratch), args.keep, args.database_url)
        if found is None:
            return
        folder, url, dropped, reuse = found
        runtime = Runtime(
            Settings(data_dir=folder, database_url=url, secret_key="bench", consent_default=CONSENT)
        )
        try:
            backend = runtime.engine.dialect.name
            if reuse:
                print(f"backend: {backend}; reusing the store built before")
            else:
                print(
                    f"backend: {backend}; building {args.customers:,} customers, {args.differentiators:,} "
                    f"differentiators, {args.encounters:,} encounters"
                )
                started = time.perf_counter()
                for stage, seconds in build_store(
                    runtime, args.customers, args.differentiators, args.encounters
                ).items():
                    print(f"  {stage}: {seconds:.1f} s")
                print(f"  built in {time.perf_counter() - started:.0f} s")
            if said := vacuumed(runtime.engine):
                print(f"backend: {backend}; {said}", flush=True)
            runtime.dispose()
            token = (folder / TOKEN_FILE).read_text(encoding="utf-8").strip()
            print(f"segone serve --workers {args.workers}")
            with serving(folder, url, args.workers) as (base, server):
                paths = {"briefing": "/api/v1/customers/{}/briefing"}
                if not args.no_peer:
                    paths["sheet"] = "/api/v1/customers/{}/sheet"
                results = {}
                for name, path in paths.items():
                    results[name] = asyncio.run(
                        read_concurrently(
                            base,
                            server,
                            token,
                            path,
                            args.customers,
                            args.readers,
                            args.warmup,
                            args.seconds,
                            args.think_ms / 1000,
                        )
                    )
                    pacing = f", pausing {args.think_ms:g} ms on average" if args.think_ms else ""
                    print(
                        f"{backend}, {args.readers} readers{pacing}, " + _line(name, results[name]),
                        flush=True,
                    )
            if "sheet" in results:
                brief, sheet = results["briefing"], results["sheet"]
                print(
                    f"briefing / sheet: p50 {brief['p50'] / sheet['p50']:.2f}, p99 "
                    f"{brief['p99'] / sheet['p99']:.2f}, "
                    f"throughput {brief['per_second'] / sheet['per_second']:.2f}"
                )
            verdict = "met" if results["briefing"]["p99"] < 50 else "NOT met"
            print(f"target p99 < 50 ms: {verdict}")
            print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        finally:
            runtime.dispose()
            if dropped and args.database_url:
                drop_database(args.database_url, dropped)


if __name__ == "__main__":
    main()

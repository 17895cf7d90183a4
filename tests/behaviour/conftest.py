"""Engines and events shared by the behaviour tests.

One Spark ``local[2]`` session serves the whole test session (it takes seconds to start). Spark tests carry
``SPARK_MARKS``: grouped for pytest-xdist, and PySpark's warning about pandas 3 silenced for them only.
With ``CI=true`` a Spark that cannot start fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from ibis import BaseBackend

from segone.accounts.schemas import SYSTEM
from segone.analytics import backend
from segone.behaviour import ingest, refresh
from segone.behaviour.events import EVENT_TYPES, read_cdnow_sample, validate_events
from segone.runtime import Runtime

IN_CI = os.environ.get("CI", "").lower() == "true"
# Ibis 12 calls DuckDB 2's deprecated fetch_arrow_table(); harmless until either changes.
DUCKDB_WARNING = r"ignore:fetch_arrow_table\(\) is deprecated:DeprecationWarning"
SPARK_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"
SPARK_MARKS = [pytest.mark.xdist_group("spark"), pytest.mark.filterwarnings(SPARK_WARNING)]
ENGINES = [pytest.param("duckdb", id="duckdb"), pytest.param("pyspark", id="pyspark", marks=SPARK_MARKS)]

SYNTHETIC_START = datetime(2023, 1, 1, tzinfo=UTC)
SYNTHETIC_END = datetime(2024, 12, 31, tzinfo=UTC)
CHANNELS = ["web", "store", "phone", "email", "app"]
REASONS = ["billing", "delivery late", "how to use", "price", "damaged", "other"]
OFFERINGS = ["starter", "plus", "pro", "service"]


def pytest_configure(config: pytest.Config) -> None:
    # Registered by pytest-xdist when it is loaded; registered here too so that -p no:xdist works.
    config.addinivalue_line("markers", "xdist_group(name): run in one pytest-xdist worker")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseBackend]:
    java = os.environ.get("JAVA_HOME") or shutil.which("java")
    if not java:
        if IN_CI:
            pytest.fail("Java is required for the PySpark tests in CI")
        pytest.skip("Java not found; set CI=true to make this an error")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Tiny data: adaptive planning and whole-stage code generation cost more than they save.
    quick = "spark.sql.adaptive.enabled=false&spark.sql.codegen.wholeStage=false"
    con = backend.connect(f"pyspark://local[2]?{quick}", tmp_path_factory.mktemp("spark"))
    yield con
    con._session.stop()  # type: ignore[attr-defined]


def synthetic_events(customers: int = 300, seed: int = 7) -> pa.Table:
    """Seeded events of every type (and a custom one), plus hand-made edge cases; normalised."""
    rng = np.random.default_rng(seed)
    per_customer = rng.poisson(14, customers) + 1
    n = int(per_customer.sum())
    customer = np.repeat([f"crm:{i:05d}" for i in range(customers)], per_customer)
    kinds = np.array([*EVENT_TYPES, "webinar"])
    kind = rng.choice(kinds, n, p=[0.45, 0.15, 0.2, 0.05, 0.04, 0.03, 0.04, 0.04])
    span = int((SYNTHETIC_END - SYNTHETIC_START).total_seconds())
    seconds = rng.integers(0, span, n)
    ts = [SYNTHETIC_START + timedelta(seconds=int(s)) for s in seconds]
    purchase = kind == "purchase"
    value = np.where(purchase | (kind == "return"), np.round(rng.gamma(2.0, 30.0, n), 2), np.nan)
    value[rng.random(n) < 0.03] = np.nan
    quantity = np.where(purchase, rng.integers(1, 6, n), 0)
    channel = rng.choice(np.array(CHANNELS, dtype=object), n)
    channel[rng.random(n) < 0.1] = None
    with_reason = np.isin(kind, ["contact", "complaint"]) & (rng.random(n) < 0.9)
    reason = np.where(with_reason, rng.choice(np.array(REASONS, dtype=object), n), None)
    offering = np.where(purchase, rng.choice(np.array(OFFERINGS, dtype=object), n), None)
    properties = np.where(rng.random(n) < 0.2, '{"campaign": "spring"}', None)
    event_id = np.where(rng.random(n) < 0.5, [f"src-{i}" for i in range(n)], None)
    table = pa.table(
        {
            "event_id": pa.array(event_id, pa.string()),
            "customer": pa.array(customer),
            "type": pa.array(kind),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "value": pa.array(value, from_pandas=True),
            "quantity": pa.array(quantity, mask=~purchase),
            "channel": pa.array(channel, pa.string()),
            "offering": pa.array(offering, pa.string()),
            "reason": pa.array(reason, pa.string()),
            "properties": pa.array(properties, pa.string()),
        }
    )
    table = pa.concat_tables([table, edge_cases()], promote_options="default")
    result = validate_events(table)
    assert result.table is not None, result.errors[:5]
    return result.table


def edge_cases() -> pa.Table:
    """Customers whose profile the tests know by heart (as_of 2024-10-31)."""

    def at(day: str, clock: str = "10:00") -> datetime:
        return datetime.fromisoformat(f"{day}T{clock}:00+00:00")

    rows = [
        # edge:ties -- two purchases on one day (one transaction), channels tied 2-2 (store wins: smaller)
        ("edge:ties", "purchase", at("2024-10-01"), 10.0, "web", None),
        ("edge:ties", "purchase", at("2024-10-01", "15:30"), 5.0, "store", None),
        ("edge:ties", "purchase", at("2024-10-11"), 20.0, "web", None),
        ("edge:ties", "visit", at("2024-10-12"), None, "store", None),
        # edge:contacts -- no purchase at all; reasons 3 x price, 2 x billing, 2 x delivery, 1 x other
        *[("edge:contacts", "contact", at("2024-09-0" + str(d)), None, "phone", "price") for d in (1, 2, 3)],
        *[("edge:contacts", "contact", at("2024-09-1" + str(d)), None, "phone", "billing") for d in (1, 2)],
        *[("edge:contacts", "contact", at("2024-09-2" + str(d)), None, "phone", "delivery") for d in (1, 2)],
        ("edge:contacts", "contact", at("2024-09-30"), None, "phone", "other"),
        ("edge:contacts", "complaint", at("2024-09-30"), None, "phone", "price"),
        # edge:late -- the last event of as_of counts, the first of the next day does not
        ("edge:late", "purchase", at("2024-06-01"), 7.5, "web", None),
        ("edge:late", "purchase", at("2024-10-31", "23:59"), 2.5, "web", None),
        ("edge:late", "purchase", at("2024-11-01", "00:00"), 100.0, "web", None),
    ]
    names = ["customer", "type", "ts", "value", "channel", "reason"]
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)}).append_column(
        "event_id", pa.array([f"edge-{i}" for i in range(len(rows))])
    )


def write_events(directory: Path, table: pa.Table) -> None:
    """Write ``table`` as a dataset of two batches; the second re-sends 40 events of the first, one of them
    with a higher value (a conflicting re-send: the lower value, first in the tie-break order, must win)."""
    from segone.behaviour.dataset import EventDataset

    dataset = EventDataset(directory)
    half = table.num_rows // 2
    dataset.write_batch(table.slice(0, half))
    resent = table.slice(0, 40)
    values = resent.column("value").to_pylist()
    changed = next(i for i, v in enumerate(values) if v is not None)
    values[changed] += 1000.0
    resent = resent.set_column(
        resent.schema.get_field_index("value"), "value", pa.array(values, pa.float64())
    )
    dataset.write_batch(pa.concat_tables([table.slice(half), resent]))


CDNOW_CALIBRATION_END = date(1997, 9, 30)


def refreshed_on_cdnow(runtime: Runtime) -> dict[str, Any]:
    """The CDNOW sample's customers and events in ``runtime``'s store, refreshed as of the end of its
    39-week calibration period (Pareto/NBD: its customers drop out); the refresh's models."""
    with runtime.session() as db:
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=read_cdnow_sample(), unknown="create")
    assert resolved.table is not None
    ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=CDNOW_CALIBRATION_END)
    return report.models

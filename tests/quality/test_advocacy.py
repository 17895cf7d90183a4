"""Advocacy: referral and review events counted per customer, the advocates listed and ranked, over the
service, the API, the CLI and the page, on hand-built events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.clock import utcnow
from segone.quality import service as quality
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_customer

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def plant(runtime: Runtime) -> dict[str, int]:
    """In the last 365 days:

    | customer | referrals | reviews | together | latest      |
    | Ann      | 2         | 1       | 3        | 10 days ago |
    | Bob      | 1         | 1       | 2        | 20 days ago |  more referrals than Cy: before her
    | Cy       | 0         | 2       | 2        | 5 days ago  |
    | Dee      | 0         | 1       | 1        | 30 days ago |  one only: not an advocate at 2
    Eve's three referrals are two years old; Fay only buys. 4 customers, 3 referrals, 5 reviews.
    """
    ids = {name: make_customer(runtime, name=name, identities=[f"crm:{name}"]) for name in
           ("Ann", "Bob", "Cy", "Dee", "Eve", "Fay")}  # fmt: skip
    now = utcnow()
    plan = [
        ("Ann", "referral", 100), ("Ann", "referral", 50), ("Ann", "review", 10),
        ("Bob", "review", 200), ("Bob", "referral", 20),
        ("Cy", "review", 300), ("Cy", "review", 5),
        ("Dee", "review", 30),
        ("Eve", "referral", 730), ("Eve", "referral", 731), ("Eve", "referral", 732),
        ("Fay", "purchase", 3), ("Fay", "purchase", 4),
    ]  # fmt: skip
    events = [
        {
            "customer": f"crm:{who}",
            "type": kind,
            "timestamp": (now - timedelta(days=ago)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **({"value": "10"} if kind == "purchase" else {}),
        }
        for who, kind, ago in plan
    ]
    with runtime.session() as db:
        ingest.stage_batch(db, actor=SYSTEM, events=events)
    ingest.flush_staged(runtime.sessions, dataset=ingest.dataset_of(runtime.settings.data_dir))
    return ids


def test_advocates_are_counted_and_ranked(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    ids = plant(runtime)
    settings = runtime.settings
    with runtime.session() as db:
        found = quality.advocates(
            db, actor=SYSTEM, data_dir=settings.data_dir, analytics_url=settings.analytics_url
        )
        everyone = quality.advocates(
            db, actor=SYSTEM, data_dir=settings.data_dir, analytics_url=settings.analytics_url, at_least=1
        )
        recent = quality.advocates(
            db, actor=SYSTEM, data_dir=settings.data_dir, analytics_url=settings.analytics_url, days=25
        )
    assert (found.customers, found.referrals, found.reviews) == (4, 3, 5)
    assert [(a.name, a.referrals, a.reviews, a.total) for a in found.items] == [
        ("Ann", 2, 1, 3),
        ("Bob", 1, 1, 2),
        ("Cy", 0, 2, 2),
    ]
    assert [a.customer_id for a in everyone.items] == [ids[n] for n in ("Ann", "Bob", "Cy", "Dee")]
    # The last 25 days: Ann's review (10 days), Bob's referral (20), Cy's review (5): nobody has two.
    assert (recent.customers, recent.referrals, recent.reviews, recent.items) == (3, 1, 2, [])

"""Advocacy: customers who refer others to us and review us, counted from the events (``referral`` and
``review``) read through the behaviour domain; advocates are the customers with at least N of them in a
period (docs/quality.md, "Advocacy").

Events sent through the API count once flushed into the events dataset (as everything read from events).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.behaviour import service as behaviour
from segone.clock import as_utc, utcnow
from segone.customers import service as customers
from segone.errors import Invalid
from segone.quality.schemas import (
    ADVOCACY_AT_LEAST,
    ADVOCACY_DAYS,
    ADVOCACY_TYPES,
    AdvocateList,
    AdvocateOut,
)

MAX_ADVOCATES = 1000


def advocates(
    db: Session,
    *,
    actor: Actor,
    data_dir: Path,
    analytics_url: str,
    days: int = ADVOCACY_DAYS,
    at_least: int = ADVOCACY_AT_LEAST,
    until: datetime | None = None,
    limit: int = 100,
) -> AdvocateList:
    """The customers with at least ``at_least`` referrals and reviews in the ``days`` up to ``until``
    (default now), most first; ties: more referrals, then the most recent, then the lower id."""
    require(actor, Permission.READ_CUSTOMERS)
    if not 1 <= days <= 3660:
        raise Invalid.of_field("days", f"The period is 1 to 3660 days, not {days}.")
    if not 1 <= at_least <= 1000:
        raise Invalid.of_field("at_least", f"An advocate has 1 to 1000 events at least, not {at_least}.")
    end = as_utc(until) or utcnow()
    start = end - timedelta(days=days)
    events = behaviour.events_of_types(
        actor=actor, data_dir=data_dir, analytics_url=analytics_url, types=ADVOCACY_TYPES, since=start
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {t: 0 for t in ADVOCACY_TYPES})
    last: dict[int, datetime] = {}
    for event in events:
        at = as_utc(event.ts) or event.ts
        if at > end:
            continue
        counts[event.customer_id][event.type] += 1
        last[event.customer_id] = max(at, last.get(event.customer_id, at))
    ranked = sorted(
        (cid for cid, c in counts.items() if sum(c.values()) >= at_least),
        key=lambda cid: (
            -sum(counts[cid].values()),
            -counts[cid]["referral"],
            -last[cid].timestamp(),
            cid,
        ),
    )[: min(limit, MAX_ADVOCATES)]
    names = customers.names_by_id(db, ranked)
    return AdvocateList(
        since=start,
        until=end,
        at_least=at_least,
        customers=len(counts),
        referrals=sum(c["referral"] for c in counts.values()),
        reviews=sum(c["review"] for c in counts.values()),
        items=[
            AdvocateOut(
                customer_id=cid,
                name=names.get(cid, f"Customer {cid}"),
                referrals=counts[cid]["referral"],
                reviews=counts[cid]["review"],
                total=sum(counts[cid].values()),
                last_at=last[cid],
            )
            for cid in ranked
        ],
    )

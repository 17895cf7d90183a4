"""Purchase events of customers who buy as the BG/NBD process says, with the parameters given: synthetic
groups that buy differently by construction, for the tests of a model per segment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from segone.behaviour.events import EVENT_SCHEMA

LIGHT = (0.243, 4.414, 0.793, 2.426)  # r, alpha, a, b: CDNOW's estimates (weeks): buy rarely, leave soon
HEAVY = (3.0, 6.0, 0.1, 8.0)  # buy every two weeks or so, rarely leave
START = datetime(2025, 1, 1, tzinfo=UTC)


def planted_purchases(groups: Sequence[tuple[Sequence[int], tuple[float, float, float, float]]]) -> pa.Table:
    """Events (``EVENT_SCHEMA``, ``customer_id`` filled) of each group's customers drawn from the BG/NBD
    process with the group's parameters: everyone first buys on 1 January 2025 and is watched for a year."""
    rng = np.random.default_rng(20261207)
    customers: list[int] = []
    days: list[int] = []
    for ids, (r, alpha, a, b) in groups:
        for customer in ids:
            rate, dropout = rng.gamma(r, 1 / alpha), rng.beta(a, b)
            week, bought = 0.0, [0]
            while True:
                week += rng.exponential(1 / rate)
                if week * 7 >= 365:
                    break
                bought.append(int(week * 7))
                if rng.random() < dropout:
                    break
            customers += [customer] * len(bought)
            days += bought
    n = len(days)
    table = pa.table(
        {
            "event_id": [f"planted-{i}" for i in range(n)],
            "customer": [f"planted:{c}" for c in customers],
            "customer_id": pa.array(customers, pa.int64()),
            "type": ["purchase"] * n,
            "ts": [START + timedelta(days=d, hours=12) for d in days],
            "value": [20.0] * n,
        }
    )
    for name in ("quantity", "channel", "offering", "reason", "properties"):
        table = table.append_column(name, pa.nulls(n))
    return table.cast(EVENT_SCHEMA)

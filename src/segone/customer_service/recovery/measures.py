"""The arithmetic of the recovery measures, as pure functions (docs/customer-service.md).

- **Time to recover** of a closed case: hours from ``reported_at`` (when the customer told us) to
  ``closed_at``. Its median and 90th percentile over the cases closed in a period use linear interpolation
  between the closest ranks (``percentile``), as numpy's default, Excel's PERCENTILE.INC and R's type 7:
  with the hours sorted, x[h] at h = (n - 1) q.
- **Recovery rate**: cases closed with the verdict satisfied over the cases closed.
- **Retention** of a group: of the customers whose window (anchor, anchor + N days] has passed, the share
  with a purchase event in it (``cohort``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from segone.customer_service.recovery.schemas import Cohort


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0 to 1) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def windows(
    anchors: Mapping[int, datetime], days: int, as_of: datetime
) -> dict[int, tuple[datetime, datetime]]:
    """Each customer's window (anchor, anchor + days], for those whose window has passed by ``as_of``."""
    span = timedelta(days=days)
    return {customer: (at, at + span) for customer, at in anchors.items() if at + span <= as_of}


def cohort(anchors: Mapping[int, datetime], measured: Collection[int], purchased: Collection[int]) -> Cohort:
    """A group: its customers, those measured (window passed) and those of them who bought in it."""
    bought = len(set(measured) & set(purchased))
    return Cohort(
        customers=len(anchors), measured=len(measured), purchased=bought, share=share(bought, len(measured))
    )

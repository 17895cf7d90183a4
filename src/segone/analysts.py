"""``segone.connect()``: the events dataset as Ibis tables, for analysts in a notebook or a script.

::

    import segone

    seg = segone.connect()                      # settings from SEGONE_* variables
    seg.events.to_pandas()                      # the de-duplicated events
    seg.profiles("2024-06-30").to_pandas()      # behaviour_profile as of the end of that day
    seg.memberships().to_pandas()               # every customer's segment in the latest segmentation

Ibis and the engine are imported only when ``connect`` is called, so ``import segone`` stays light.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibis import BaseBackend
    from ibis.expr.types import Table

    from segone.settings import Settings


class Analysis:
    """The analytics backend and, on it, the events dataset under ``<data_dir>/events/``."""

    def __init__(self, backend: BaseBackend, events: Table, settings: Settings | None = None) -> None:
        self.backend = backend
        self.events = events
        self.settings = settings  # where the operational store is; None: the SEGONE_* variables

    def profiles(self, as_of: date | datetime | str) -> Table:
        """``behaviour_profile`` of the events: one row per customer with any event up to ``as_of``."""
        from segone.behaviour.metrics import behaviour_profile

        if isinstance(as_of, str):
            as_of = date.fromisoformat(as_of)
        return behaviour_profile(self.events, as_of)

    def memberships(self, version: int | None = None) -> Table:
        """Every customer's segment in a segmentation version (the latest built by default), read from the
        operational store into the analytics engine: ``customer_id``, ``segment_id``, ``segment``."""
        from segone.accounts.schemas import SYSTEM
        from segone.runtime import Runtime
        from segone.segmentation import service as segmentation
        from segone.settings import Settings

        runtime = Runtime(self.settings or Settings())
        try:
            with runtime.session() as db:
                table = segmentation.membership_table(db, actor=SYSTEM, version_id=version)
        finally:
            runtime.dispose()
        name = f"segment_memberships_{version or 'latest'}"
        return self.backend.create_table(name, table, overwrite=True)

    def close(self) -> None:
        self.backend.disconnect()


def connect(settings: Settings | None = None) -> Analysis:
    """Connect to the analytics engine of ``settings`` (default: from ``SEGONE_*`` variables)."""
    from segone.analytics import backend
    from segone.behaviour.dataset import EventDataset
    from segone.settings import Settings

    settings = settings or Settings()
    con = backend.connect(settings.analytics_url, settings.data_dir)
    return Analysis(con, EventDataset(settings.data_dir / "events").read(con), settings)

"""``segone.connect()``: the events dataset as Ibis tables, for analysts in a notebook or a script.

::

    import segone

    seg = segone.connect()                      # settings from SEGONE_* variables
    seg.events.to_pandas()                      # the de-duplicated events
    seg.profiles("2024-06-30").to_pandas()      # behaviour_profile as of the end of that day
    seg.memberships().to_pandas()               # every customer's segment in the latest segmentation
    seg.assign(seg.segment_values()).to_pandas()  # … and where their values lead now (nested CASE)

Ibis and the engine are imported only when ``connect`` is called, so ``import segone`` stays light.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ibis import BaseBackend
    from ibis.expr.types import Table
    from sqlalchemy.orm import Session

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

    def segment_values(self, version: int | None = None) -> Table:
        """Every customer's values now of the variables a segmentation version (the latest built by default)
        splits on, read from the operational store into the analytics engine: ``customer_id`` and a column
        per variable, named as ``assign`` reads it (``attribute:plan`` is ``attribute__plan``)."""
        from segone.accounts.schemas import SYSTEM
        from segone.segmentation import service as segmentation
        from segone.segmentation.expression import column_names

        with self._session() as db:
            tree = segmentation.stored_tree(db, actor=SYSTEM, version_id=version)
            values = segmentation.tree_values(db, self._settings(), actor=SYSTEM, tree=tree)
        from segone.analytics.backend import from_arrow

        names = column_names([v.name for v in tree.variables])
        table = values.rename_columns([names.get(name, name) for name in values.column_names])
        return from_arrow(self.backend, f"segment_values_{version or 'latest'}", table)

    def assign(
        self,
        table: Table,
        version: int | None = None,
        max_depth: int | None = None,
        columns: Mapping[str, str] | None = None,
    ) -> Table:
        """``table`` with ``segment_id``: each row's segment in a version's tree (the latest built by
        default), computed by the engine as one nested ``CASE`` over the columns of the tree's variables
        (named as ``segment_values`` names them, or by ``columns``: variable -> column). ``max_depth`` stops
        at that depth, for trees too large to send whole. A value no branch takes stays at the segment
        above."""
        from segone.accounts.schemas import SYSTEM
        from segone.segmentation import service as segmentation
        from segone.segmentation.expression import assign_table

        with self._session() as db:
            tree = segmentation.stored_tree(db, actor=SYSTEM, version_id=version)
        return assign_table(tree, table, max_depth=max_depth, columns=columns)

    def _settings(self) -> Settings:
        from segone.settings import Settings

        return self.settings or Settings()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A session on the operational store, for as long as the block runs."""
        from segone.runtime import Runtime

        runtime = Runtime(self._settings())
        try:
            with runtime.session() as db:
                yield db
        finally:
            runtime.dispose()

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

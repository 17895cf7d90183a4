"""The server's background flush: staged API events move into the dataset every few seconds.

Without it, events received through ``POST /api/v1/events`` would wait in the staging table until someone
ran ``segone events flush`` (a refresh flushes first as well). One daemon thread per server process; a
failed flush is logged and tried again at the next tick, and the rows stay staged meanwhile.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from segone.behaviour import ingest
from segone.behaviour.dataset import EventDataset
from segone.storage.periodic import Periodic

log = logging.getLogger(__name__)


class Flusher:
    def __init__(
        self, sessions: sessionmaker[Session], dataset: EventDataset, interval_seconds: float
    ) -> None:
        self.sessions = sessions
        self.dataset = dataset
        self.interval = interval_seconds
        self._ticks = Periodic(self.flush, interval_seconds, name="segone-flusher")

    def start(self) -> None:
        self._ticks.start()

    def stop(self) -> None:
        """Stop ticking and flush once more, so nothing received stays behind at shutdown."""
        self._ticks.stop()

    def flush(self) -> int:
        try:
            moved = ingest.flush_staged(self.sessions, dataset=self.dataset)
        except Exception:
            log.exception("Flushing staged events failed; they stay staged and the next flush retries.")
            return 0
        if moved:
            log.info("Flushed %d staged events into the dataset.", moved)
        return moved

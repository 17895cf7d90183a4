"""The server's background flush: staged API events move into the dataset every few seconds.

Without it, events received through ``POST /api/v1/events`` would wait in the staging table until someone
ran ``segone events flush`` (a refresh flushes first as well). A failed flush is logged and tried again at
the next tick, and the rows stay staged meanwhile.

Two ways to run it. ``segone serve`` runs one ``FlushProcess`` beside all its workers, ten nice levels
below them: a flush of 30 s of a busy feed (100,000 events) is about 0.6 s of Python, and in a thread of
a serving worker it held the interpreter lock that worker's requests waited for between their queries,
every page sent in that second slow at once (every 30 s: the load benchmark's tail). An application made
by ``server.create_app`` for itself (tests, an embedding program) runs a ``Flusher`` thread instead.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection

from sqlalchemy.orm import Session, sessionmaker

from segone.behaviour import ingest
from segone.behaviour.dataset import EventDataset
from segone.jobs import below_requests
from segone.settings import Settings
from segone.storage.engine import create_engine_for, session_factory
from segone.storage.periodic import Periodic

log = logging.getLogger(__name__)
# How long ``segone serve`` waits at its end for the last flush before it stops the flusher anyway.
LAST_FLUSH_SECONDS = 120.0


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


@contextmanager
def flush_process(settings: Settings) -> Iterator[None]:
    """One process flushing every ``settings.flush_interval_seconds`` while the block runs, and once more
    when it ends; none when the interval is 0."""
    if settings.flush_interval_seconds <= 0:
        yield
        return
    # Spawned, not forked (as a job's process): a fork would copy the server's threads' locks half-held.
    context = multiprocessing.get_context("spawn")
    stopped, stop = context.Pipe(duplex=False)
    process = context.Process(
        target=_flush_until_stopped, args=(settings, stopped), name="segone-flusher", daemon=True
    )
    process.start()
    stopped.close()  # the child's end: only the child holds it now
    try:
        yield
    finally:
        stop.close()  # the child reads the end of the pipe, flushes once more and ends
        process.join(LAST_FLUSH_SECONDS)
        if process.is_alive():
            log.warning(
                "The last flush took over %.0f s: stopped; the rest stays staged.", LAST_FLUSH_SECONDS
            )
            process.kill()  # it ignores SIGTERM (below)
            process.join()


def _flush_until_stopped(settings: Settings, stopped: Connection) -> None:
    """The flusher's process. It ends when the server closes its end of the pipe, which the kernel also
    does when the server dies, however it dies: no flusher outlives its server."""
    # Ctrl+C and a service manager's SIGTERM reach the whole process group: the server stops its workers
    # first, then this process, which then flushes what the workers staged last.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    below_requests()
    engine = create_engine_for(settings)
    try:
        flusher = Flusher(
            session_factory(engine), ingest.dataset_of(settings.data_dir), settings.flush_interval_seconds
        )
        while not stopped.poll(settings.flush_interval_seconds):
            flusher.flush()
        flusher.flush()
    finally:
        engine.dispose()

"""Work done in the background of a server process every few seconds, and once more when it stops.

One daemon thread per use: the staged events' flusher (``behaviour.flusher``) and the audit log's queue of
reads (``accounts.audit.ReadLog``). ``wake`` asks for the work now (a queue that filled up early), ``stop``
ends the ticking and runs the work a last time in the caller's thread, so nothing waiting is left behind at
a clean shutdown. The work itself reports and recovers from its failures: an exception escaping it is
logged and the next tick runs it again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, work: Callable[[], object], interval_seconds: float, *, name: str) -> None:
        self.work = work
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, *, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        self._run_once()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _run_once(self) -> None:
        try:
            self.work()
        except Exception:
            log.exception("Background work %s failed; it runs again at the next tick.", self._thread.name)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            self._run_once()

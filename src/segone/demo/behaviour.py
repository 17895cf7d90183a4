"""The demo's behaviour: the whole CDNOW purchase history as events, and profiles refreshed on it.

CDNOW customers 1 to 1,500 are the demo's consumers (``cdnow:00001``...); the other 22,070 customers of
the history arrive as new customers named after their identity, as any import of unknown customers would
create them. The profiles are taken as of the last day of the history, 30 June 1998, so that the scores
describe the data rather than the 28 years since.
"""

from __future__ import annotations

import shutil
import time
from datetime import date

from pydantic import BaseModel

from segone.accounts.schemas import Actor
from segone.behaviour import ingest, refresh
from segone.behaviour.events import cdnow_path
from segone.progress import Progress, silent
from segone.runtime import Runtime

CDNOW_AS_OF = date(1998, 6, 30)


class BehaviourSummary(BaseModel):
    events: int
    customers_created: int
    profiles: int
    as_of: date
    seconds: float


def remove_events(runtime: Runtime) -> None:
    """Delete the events dataset (a reset demo starts from no events, like its empty store)."""
    shutil.rmtree(ingest.dataset_of(runtime.settings.data_dir).directory, ignore_errors=True)


def load_behaviour(runtime: Runtime, *, actor: Actor, progress: Progress = silent) -> BehaviourSummary:
    started = time.perf_counter()
    progress("Importing the CDNOW purchase history", 0, 1)
    imported = ingest.import_file(
        runtime.sessions,
        dataset=ingest.dataset_of(runtime.settings.data_dir),
        actor=actor,
        path=cdnow_path("CDNOW_master.txt"),
        preset="cdnow",
        unknown="create",
    )
    progress("Importing the CDNOW purchase history", 1, 1)
    report = refresh.refresh(
        runtime.sessions, runtime.settings, actor=actor, as_of=CDNOW_AS_OF, progress=progress
    )
    return BehaviourSummary(
        events=imported.events_written,
        customers_created=imported.customers_created,
        profiles=report.customers,
        as_of=CDNOW_AS_OF,
        seconds=round(time.perf_counter() - started, 2),
    )

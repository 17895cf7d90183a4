"""The demo's behaviour: the whole CDNOW purchase history as events, and profiles refreshed on it.

CDNOW customers 1 to 1,500 are the demo's consumers (``cdnow:00001``...); the other 22,070 customers of the
history are written first (``load.load_purchase_history``): people with names and an e-mail, recorded on their
first purchase, over a quarter of them met and known a little (the more they bought, the more likely), so the
import of the purchases finds every buyer. The purchases are moved forward by whole days so that their last
day, 30 June 1998, is the demo's day (``timeline``): the profiles are taken as of that day, and a sheet's
purchases and encounters are of the same years. The record of the shift goes into the data directory for the
pages that state it.

The purchases of the customers staff know name an offering of the demo's catalogue: their CDNOW purchases
a record offering, and purchases of the other offerings are added for them (``offerings`` says how and
why), in the same batch of the events import.
"""

from __future__ import annotations

import shutil
import time
from datetime import date

import pyarrow as pa
from pydantic import BaseModel

from segone.accounts.schemas import Actor
from segone.behaviour import ingest, refresh
from segone.behaviour.events import moved, read_cdnow_master
from segone.clock import fixed_at
from segone.demo.load import load_purchase_history
from segone.demo.offerings import known_customers, plan_purchases, tag_records
from segone.demo.timeline import cdnow_shift, demo_moment, remove_record, write_record
from segone.knowledge.categories.schemas import CategoryList
from segone.progress import Progress, silent
from segone.runtime import Runtime


class BehaviourSummary(BaseModel):
    events: int  # of the CDNOW purchase history
    records_tagged: int  # of them, those that name a record offering (the known customers')
    offering_purchases: int  # purchases of the catalogue's other offerings, by the known customers
    customers_created: int  # the purchase history's customers the demo did not have
    customers_known: int  # of them, those staff have met and know something about
    profiles: int
    shift_days: int
    first_day: date
    as_of: date
    seconds: float


def remove_events(runtime: Runtime) -> None:
    """Delete the events dataset and the demo's record (a reset demo starts from no events, like its
    empty store)."""
    shutil.rmtree(ingest.dataset_of(runtime.settings.data_dir).directory, ignore_errors=True)
    remove_record(runtime.settings.data_dir)


def load_behaviour(
    runtime: Runtime,
    *,
    actor: Actor,
    day: date,
    seed: int,
    categories: CategoryList,
    progress: Progress = silent,
) -> BehaviourSummary:
    """Write the purchase history's other customers, import CDNOW moved to end on ``day`` (the demo's
    day, which ``seed`` was loaded with) and the known customers' purchases of offerings, and refresh the
    behaviour profiles as of that day."""
    started = time.perf_counter()
    with runtime.session() as db:
        written = load_purchase_history(
            db, actor=actor, categories=categories, seed=seed, day=day, progress=progress
        )
    progress("Importing the CDNOW purchase history", 0, 1)
    with runtime.session() as db:
        known = known_customers(db)
    shift = cdnow_shift(day)
    events = moved(tag_records(read_cdnow_master(), known, seed=seed), shift)
    purchases = plan_purchases(known, seed=seed, now=demo_moment(day))
    # One batch of the dataset. The customers the import creates are dated like the rest of the demo, not
    # by the time of loading.
    with fixed_at(demo_moment(day)):
        imported = ingest.import_events(
            runtime.sessions,
            dataset=ingest.dataset_of(runtime.settings.data_dir),
            actor=actor,
            events=pa.concat_tables([events, purchases]),
            unknown="create",
        )
    record = write_record(runtime.settings.data_dir, seed=seed, day=day)
    progress("Importing the CDNOW purchase history", 1, 1)
    report = refresh.refresh(runtime.sessions, runtime.settings, actor=actor, as_of=day, progress=progress)
    return BehaviourSummary(
        events=events.num_rows,
        records_tagged=events.num_rows - events.column("offering").null_count,
        offering_purchases=purchases.num_rows,
        customers_created=written.customers + imported.customers_created,
        customers_known=written.known,
        profiles=report.customers,
        shift_days=record.shift_days,
        first_day=record.first_purchase_day,
        as_of=day,
        seconds=round(time.perf_counter() - started, 2),
    )

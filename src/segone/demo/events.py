"""The demo's own events (complaints, returns, referrals, reviews) as the events dataset takes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa

from segone.behaviour.events import EVENT_SCHEMA, derive_event_ids


def event_table(events: Sequence[Mapping[str, object]]) -> pa.Table:
    """One row per event (``EVENT_SCHEMA``; a field an event does not give is null), each with the id
    derived from its content, so that loading the demo twice stores every event once."""
    rows = {name: [event.get(name) for event in events] for name in EVENT_SCHEMA.names}
    rows["event_id"] = [""] * len(events)
    table = pa.table(rows, schema=EVENT_SCHEMA)
    return table.set_column(0, EVENT_SCHEMA.field("event_id"), derive_event_ids(table))

"""What matching reads, from the owners of each part: the catalogue (ours), the customers with their kinds
and attributes (customers), the audiences a rule names (segmentation), the current facts (knowledge) and
the purchase events that name an offering (behaviour, read by the analytics engine).

Events and facts of a merged record count for its final survivor. ``as_of`` reads the world as it was at
a moment (the facts current then, the purchases until then), as the evaluation needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor
from segone.behaviour import service as behaviour
from segone.customers import service as customers
from segone.knowledge.facts import service as knowledge
from segone.personalisation.matching import Inputs, Offer, offer_text
from segone.personalisation.models import Offering
from segone.personalisation.rules import (
    ELIGIBLE_IF,
    REPEATABLE,
    attribute,
    parse_repeatable,
    parse_rule,
)
from segone.segmentation import service as segmentation
from segone.settings import Settings


def purchases(settings: Settings, *, actor: Actor) -> pa.Table:
    """The purchase events naming an offering (``event_id``, ``customer_id``, ``offering``, ``ts``)."""
    table: pa.Table = behaviour.offering_purchases(
        actor=actor, data_dir=settings.data_dir, analytics_url=settings.analytics_url
    )
    return table


def until(table: pa.Table, moment: datetime) -> pa.Table:
    """The purchases up to ``moment`` (inclusive)."""
    return table.filter(pc.less_equal(table.column("ts"), pa.scalar(moment, table.schema.field("ts").type)))


def after(table: pa.Table, moment: datetime) -> pa.Table:
    return table.filter(pc.greater(table.column("ts"), pa.scalar(moment, table.schema.field("ts").type)))


def survivors_of(db: Session, ids: Any) -> Any:
    """Customer ids with merged records replaced by their final survivors."""
    final = customers.final_survivors(db)
    ids = np.asarray(ids, dtype=np.int64)
    if not final or not len(ids):
        return ids
    return np.fromiter((final.get(int(i), int(i)) for i in ids), dtype=np.int64, count=len(ids))


def read(
    db: Session, *, actor: Actor, bought: pa.Table, as_of: datetime | None = None
) -> tuple[Inputs, list[str]]:
    """The inputs of a matching with the purchases ``bought``, and notes on what could not be read."""
    notes: list[str] = []
    offers = _offers(db, notes)
    rows = customers.kinds_and_attributes(db)
    facts = list(knowledge.fact_rows(db, as_of=as_of))
    inputs = Inputs(
        offers=offers,
        customers=[customer_id for customer_id, _kind, _attributes in rows],
        kinds=[kind for _id, kind, _attributes in rows],
        attributes=[attributes for _id, _kind, attributes in rows],
        audiences=_audiences(db, actor, offers, notes),
        purchase_customer=survivors_of(db, bought.column("customer_id").to_numpy(zero_copy_only=False)),
        purchase_offering=np.asarray(bought.column("offering").to_pylist(), dtype=object),
        purchase_ts=bought.column("ts").cast(pa.timestamp("us", tz="UTC")).to_numpy(zero_copy_only=False),
        purchase_event=np.asarray(bought.column("event_id").to_pylist(), dtype=object),
        fact_id=np.array([f[0] for f in facts], dtype=np.int64),
        fact_customer=survivors_of(db, [f[1] for f in facts]),
        fact_text=[f[2] for f in facts],
        fact_learned=np.array(
            [np.datetime64(f[4].replace(tzinfo=None), "us") for f in facts], dtype="datetime64[us]"
        ),
    )
    return inputs, notes


def _offers(db: Session, notes: list[str]) -> list[Offer]:
    """Every offering, by key (the order ties are broken in); one whose rules cannot be read (stored
    before they were checked) is not offered, and said so."""
    found = []
    for row in db.scalars(select(Offering).order_by(Offering.key)):
        active = row.active
        try:
            repeatable = parse_repeatable(attribute(row.attributes, REPEATABLE))
            rule = parse_rule(attribute(row.attributes, ELIGIBLE_IF))
        except ValueError as exc:
            if active:
                notes.append(f"Offering '{row.key}' is not offered until its rules are fixed: {exc}.")
            active, repeatable, rule = False, False, None
        found.append(
            Offer(
                id=row.id,
                key=row.key,
                name=row.name,
                text=offer_text(row.name, row.description, row.needs),
                active=active,
                repeatable=repeatable,
                rule=rule,
            )
        )
    return found


def _audiences(db: Session, actor: Actor, offers: list[Offer], notes: list[str]) -> dict[int, set[str]]:
    """Each customer's audiences among those the rules name (names compared without case), as the
    audiences were last evaluated."""
    named = {
        " ".join(name.split()).casefold(): name
        for o in offers
        if o.rule and o.active
        for name in sorted(o.rule.audiences)
    }
    members: dict[int, set[str]] = {}
    if not named:
        return members
    stored = {" ".join(a.name.split()).casefold(): a for a in segmentation.list_audiences(db, actor=actor)}
    for key, name in sorted(named.items()):
        audience = stored.get(key)
        if audience is None:
            notes.append(f"There is no audience named '{name}': nobody is in it for the rules that name it.")
            continue
        found, _total = segmentation.audience_members(db, actor=actor, audience_id=audience.id)
        for member in found:
            members.setdefault(member.customer_id, set()).add(key)
    return members

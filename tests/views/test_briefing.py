"""The briefing: the sheet cut to what to know before an encounter; every item is that customer's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from sqlalchemy import event

from segone.accounts.schemas import SYSTEM
from segone.behaviour import ingest
from segone.behaviour import refresh as behaviour_refresh
from segone.behaviour.events import validate_events
from segone.channels import Channel
from segone.clock import utcnow
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.distinguishability import refresh as knowledge_refresh
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from segone.segmentation.schemas import SegmentOut, StandingOut
from segone.views.briefing import EMPTY, TITLES, briefing, briefing_lines, own_conditions, own_standing
from segone.views.schemas import Briefing
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


@dataclass
class World:
    """Two customers with different facts, events and encounters; ``facts`` and ``encounters`` by owner."""

    ann: int
    bob: int
    facts: dict[int, set[int]]
    encounters: dict[int, set[int]]
    bees: int
    radios: int
    stale: int
    now: datetime


def read(runtime: Runtime, customer_id: int) -> Briefing:
    with runtime.session() as db:
        return briefing(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            categories=categories_in_force(runtime.settings),
            freshness_months=runtime.settings.freshness_months,
            currency=runtime.settings.currency,
        )


def _fact(runtime: Runtime, customer_id: int, text: str, category: str, *, acknowledged: bool = False) -> int:
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer_id,
            data=DifferentiatorCreate(text=text, category=category),
            categories=categories_in_force(runtime.settings),
        )
        if acknowledged:
            knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact.id, data=AcknowledgeRequest())
        return fact.id


def _events(now: datetime) -> pa.Table:
    """Ann bought every 10 days until 100 days ago, returned something before her last encounter and
    complained after it; Bob buys weekly and returned something 5 days ago; 40 others let the models fit."""
    rows: list[tuple[str, str, datetime, float | None]] = []
    for days in range(200, 99, -10):
        rows.append(("email:ann@example.com", "purchase", now - timedelta(days=days), 30.0))
    rows.append(("email:ann@example.com", "return", now - timedelta(days=80), 30.0))
    rows.append(("email:ann@example.com", "complaint", now - timedelta(days=30), None))
    for days in range(140, 0, -7):
        rows.append(("email:bob@example.com", "purchase", now - timedelta(days=days), 12.0))
    rows.append(("email:bob@example.com", "return", now - timedelta(days=5), 12.0))
    rng = np.random.default_rng(3)
    for n in range(40):
        for days in sorted(rng.integers(1, 400, rng.integers(1, 12)).tolist(), reverse=True):
            rows.append((f"crm:bg{n}", "purchase", now - timedelta(days=days), float(rng.integers(5, 90))))
    customer, kind, ts, value = zip(*rows, strict=True)
    validated = validate_events(
        pa.table(
            {
                "customer": pa.array(customer),
                "type": pa.array(kind),
                "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
                "value": pa.array(value, pa.float64()),
            }
        )
    )
    assert validated.table is not None, validated.errors[:3]
    return validated.table


def two_customers(runtime: Runtime) -> World:
    now = utcnow()
    employee = make_user(runtime)
    ann = make_customer(runtime, name="Ann Archer", identities=["email:ann@example.com"])
    bob = make_customer(runtime, name="Bob Baker", identities=["email:bob@example.com"])
    bees = _fact(runtime, ann, "Keeps bees on the roof", "free_time")
    kids_ann = _fact(runtime, ann, "Has two children", "family")
    stale = _fact(runtime, ann, "Drives a red van", "lifestyle")
    choir = _fact(runtime, bob, "Sings in a choir", "free_time", acknowledged=True)
    radios = _fact(runtime, bob, "Collects vintage radios", "lifestyle")
    kids_bob = _fact(runtime, bob, "Has two children", "family")
    seen: dict[int, set[int]] = {ann: set(), bob: set()}
    with runtime.session() as db:
        db.get_one(Differentiator, stale).last_confirmed_at = now - timedelta(days=900)
        for customer_id, days_ago, notes, cares in [
            (ann, 150, "First visit.", ""),
            (ann, 120, "Asked about hives.", "bees surviving the winter"),
            (ann, 90, "Bought a veil.", ""),
            (ann, 60, "Long chat about honey prices.\nSecond line.", ""),
            (bob, 20, "Radio repair question.", "a 1950s valve radio"),
        ]:
            done = encounters.record(
                db,
                actor=employee.actor,
                customer_id=customer_id,
                data=EncounterCreate(
                    channel=Channel.STORE,
                    occurred_at=now - timedelta(days=days_ago),
                    notes=notes,
                    cares_about=cares,
                ),
                categories=categories_in_force(runtime.settings),
                employee_id=employee.id,
            )
            seen[customer_id].add(done.id)
        resolved = ingest.resolve_customers(db, actor=SYSTEM, events=_events(now), unknown="create")
    assert resolved.table is not None
    ingest.dataset_of(runtime.settings.data_dir).write_batch(resolved.table)
    behaviour_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM, as_of=now.date())
    knowledge_refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    return World(
        ann=ann,
        bob=bob,
        facts={ann: {bees, kids_ann, stale}, bob: {choir, radios, kids_bob}},
        encounters=seen,
        bees=bees,
        radios=radios,
        stale=stale,
        now=now,
    )


def test_every_item_cites_a_fact_or_event_of_that_customer_and_never_another(runtime: Runtime) -> None:
    world = two_customers(runtime)
    for customer_id, other in ((world.ann, world.bob), (world.bob, world.ann)):
        brief = read(runtime, customer_id)
        assert brief.customer.id == customer_id
        cited = [*brief.unique, *brief.bring_up, *brief.reconfirm]
        assert cited and {f.customer_id for f in cited} == {customer_id}
        assert {f.id for f in cited} <= world.facts[customer_id]
        assert not {f.id for f in cited} & world.facts[other]
        assert brief.encounters and {e.customer_id for e in brief.encounters} == {customer_id}
        assert {e.id for e in brief.encounters} <= world.encounters[customer_id]

    ann, bob = read(runtime, world.ann), read(runtime, world.bob)
    # Rarest first: bees are Ann's alone, two children are held by both.
    assert [f.text for f in ann.unique] == ["Keeps bees on the roof", "Drives a red van", "Has two children"]
    # Rare and not yet shown to them (Bob knows we know about his choir).
    assert {f.id for f in ann.bring_up} == {world.bees, world.stale}
    assert [f.id for f in bob.bring_up] == [world.radios]
    assert [f.id for f in ann.reconfirm] == [world.stale] and bob.reconfirm == []
    # Three encounters in one line each, newest first; the fourth is left for the sheet.
    assert [e.line for e in ann.encounters] == [
        "Long chat about honey prices.",
        "Bought a veil.",
        "cares about bees surviving the winter",
    ]
    assert ann.more_encounters and not bob.more_encounters
    assert ann.last_encounter_at == max(e.occurred_at for e in ann.encounters)


def test_what_changed_is_read_from_their_own_profile_against_their_last_encounter(runtime: Runtime) -> None:
    world = two_customers(runtime)
    ann, bob = read(runtime, world.ann), read(runtime, world.bob)
    ann_changes = {c.kind: c for c in ann.changes}
    assert set(ann_changes) == {"cadence", "trend", "p_alive", "complaint"}
    assert ann_changes["cadence"].text == "Slowing: no purchase for 100 days, against a usual gap of 10 days."
    assert ann_changes["cadence"].at == (world.now - timedelta(days=100)).date()
    assert ann_changes["p_alive"].text.endswith(
        f"and falling: no purchase since the last encounter on {world.now - timedelta(days=60):%d %b %Y}."
    )
    complaint = ann_changes["complaint"]
    assert complaint.at == world.now - timedelta(days=30)
    assert complaint.text.startswith("A complaint since the last encounter")
    # Her return came before her last encounter: not a change since.
    assert "return" not in ann_changes

    bob_changes = {c.kind: c for c in bob.changes}
    assert set(bob_changes) == {"return"}  # still buying weekly; his return came after his encounter
    assert bob_changes["return"].at == world.now - timedelta(days=5)
    assert ann.behaviour_as_of == bob.behaviour_as_of == world.now.date()


def test_a_blank_customer_has_every_section_labelled_empty(runtime: Runtime) -> None:
    blank = make_customer(runtime, name="Nobody Yet")
    brief = read(runtime, blank)
    assert brief.unique == brief.bring_up == brief.reconfirm == brief.changes == brief.encounters == []
    assert brief.service.items == [] and brief.service.available
    assert brief.service.note == EMPTY["service"]
    assert brief.offers.items == [] and not brief.offers.available
    assert brief.offers.note == "No offers matched yet."
    assert brief.ask is not None and brief.ask.why.startswith("Nothing known about")
    lines = briefing_lines(brief)
    assert list(lines) == list(TITLES)
    assert [name for name, shown in lines.items() if not shown] == [name for name in TITLES if name != "ask"]


def test_one_briefing_makes_a_bounded_number_of_queries(runtime: Runtime) -> None:
    world = two_customers(runtime)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        read(runtime, world.ann)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    # Each by primary key or an indexed column; a bigger store adds none (see docs/user-guide.md): the
    # customer and their identities, facts, acknowledgements, who learned them, their traits, the knowledge
    # measure, the latest segmentation, encounters, their facts, behaviour, merges, recovery cases and
    # promises (one each), the stored offers, the service strategy, and the read's audit entry (one
    # insert). A segmentation adds 4 (the path; the standing's attributes, behaviour, and facts with their
    # traits), stored offers 1, look-alikes 1.
    assert len(statements) <= 17, "\n".join(s.replace("\n", " ")[:160] for s in statements)


def test_traits_are_told_in_the_customers_own_words_never_anothers(runtime: Runtime) -> None:
    world = two_customers(runtime)
    # A trait is named in its most frequent wording, which may be another customer's.
    bees = next(f for f in read(runtime, world.ann).unique if f.id == world.bees)
    bees = bees.model_copy(update={"trait": "Keeps bees in an orchard in Otley"})

    def standing(label: str, value: str) -> StandingOut:
        words = f"{label}: {value}, like 1 % of customers"
        return StandingOut(
            variable="trait:1", label=label, value=value, share=0.01, higher=None, than=None, words=words
        )

    held, lacked = standing("trait: keeps bees in an orchard in Otley", "yes"), standing("trait: sings", "no")
    spend = StandingOut(
        variable="attribute:spend",
        label="spend",
        value="9",
        share=0.1,
        higher=True,
        than=0.9,
        words="spend: 9",
    )
    assert [s.words for s in own_standing([held, lacked, spend], [bees])] == [
        "Keeps bees on the roof: yes, like 1 % of customers",
        "spend: 9",
    ]
    root = SegmentOut(
        version_id=1,
        node_id=1,
        parent_node_id=None,
        depth=0,
        size=2,
        share=1.0,
        conditions=[],
        gain=0.0,
        identical=False,
        is_leaf=False,
        clv_sum=None,
        clv_mean=None,
        target_mean=None,
    )
    leaf = root.model_copy(
        update={
            "node_id": 2,
            "depth": 1,
            "size": 1,
            "conditions": ["plan: gold", "trait: keeps bees in an orchard in otley: yes", "trait: sings: no"],
        }
    )
    assert own_conditions([root, leaf], [bees]) == ["plan: gold", "Keeps bees on the roof"]

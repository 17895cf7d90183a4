"""The customer list, the home page and the top-10 ranking: one read model for every entry point."""

from __future__ import annotations

from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.runtime import Runtime
from segone.views import customer_list, merge
from segone.views.home import home
from segone.views.top_customers import ranked
from tests.factories import make_customer, make_user


def _facts(runtime: Runtime, customer_id: int, count: int, acknowledged: int = 0) -> None:
    with runtime.session() as db:
        for n in range(count):
            fact = knowledge.add(
                db,
                actor=SYSTEM,
                customer_id=customer_id,
                data=DifferentiatorCreate(text=f"Fact {n} of {customer_id}", category="worries"),
                categories=categories_in_force(runtime.settings),
            )
            if n < acknowledged:
                knowledge.acknowledge(db, actor=SYSTEM, differentiator_id=fact.id, data=AcknowledgeRequest())


def test_the_list_counts_facts_and_encounters_and_leaves_merged_records_out(runtime: Runtime) -> None:
    employee = make_user(runtime)
    ann = make_customer(runtime, name="Ann Archer", identities=["email:ann@example.com"])
    acme = make_customer(runtime, name="Acme Ltd", kind=CustomerKind.BUSINESS, identities=[])
    twin = make_customer(runtime, name="Ann Archer (2)")
    _facts(runtime, ann, 3, acknowledged=2)
    _facts(runtime, twin, 1)
    with runtime.session() as db:
        met = encounters.record(
            db,
            actor=employee.actor,
            customer_id=ann,
            data=EncounterCreate(channel=Channel.MEETING, notes="Coffee"),
            categories=categories_in_force(runtime.settings),
        ).occurred_at
        merge.merge(db, actor=SYSTEM, survivor_id=ann, merged_id=twin)

    with runtime.session() as db:
        page = customer_list.page(db, actor=SYSTEM)
        people = customer_list.page(db, actor=SYSTEM, query="ann", kind=CustomerKind.PERSON, limit=1)
        front = home(db, actor=employee.actor, employee_id=employee.id)
    assert page.total == 2 and [c.name for c in page.items] == ["Acme Ltd", "Ann Archer"]
    acme_row, ann_row = page.items
    assert (acme_row.id, acme_row.differentiators, acme_row.acknowledged, acme_row.identities) == (
        acme,
        0,
        0,
        [],
    )
    assert (ann_row.differentiators, ann_row.acknowledged) == (4, 2)  # the merged record's fact moved here
    assert ann_row.last_encounter_at is not None and ann_row.last_encounter_at.replace(tzinfo=None) == (
        met.replace(tzinfo=None)
    )
    assert acme_row.last_encounter_at is None
    assert (people.total, people.limit, [c.id for c in people.items]) == (1, 1, [ann])

    assert front.total_customers == 2
    assert front.recent[0].id == ann
    assert [(line.encounter.customer_id, line.customer_name) for line in front.my_encounters] == [
        (ann, "Ann Archer")
    ]


def test_the_top_ten_ranks_by_facts_a_merged_records_counting_for_its_survivor(
    runtime: Runtime,
) -> None:
    ids = [make_customer(runtime, name=f"Customer {n}") for n in range(13)]
    for n, customer_id in enumerate(ids):
        _facts(runtime, customer_id, 1 + n % 4)
    with runtime.session() as db:
        assert ranked(db, by="facts", limit=3) == [ids[3], ids[7], ids[11]]
        merge.merge(db, actor=SYSTEM, survivor_id=ids[0], merged_id=ids[3])  # 1 + 4 facts now
        top = ranked(db, by="facts")
        assert top[:3] == [ids[0], ids[7], ids[11]] and ids[3] not in top and len(top) == 10
        assert ranked(db, by="clv") == []  # nobody has a behaviour profile yet

"""Merging customer records loses nothing: a property-based test over random records and merge orders."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.customers import service as customers
from segone.customers.schemas import ConsentPurpose, CustomerCreate
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate, NewFact
from segone.errors import Conflict, Invalid
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import AcknowledgeRequest, DifferentiatorCreate
from segone.runtime import Runtime
from segone.views import merge as merging
from tests.conftest import empty_all_tables
from tests.factories import make_customer, record_consent


@dataclass
class Record:
    identities: list[str]
    attributes: dict[str, str]
    facts: list[tuple[str, bool]]  # text, acknowledged
    encounters: list[list[str]]  # facts learned in each encounter


_texts = st.text(alphabet="abcdefghij xyz", min_size=1, max_size=12).filter(lambda s: s.strip() != "")
_records = st.lists(
    st.builds(
        Record,
        identities=st.lists(st.integers(0, 40), max_size=3, unique=True).map(
            lambda ns: [f"crm:{n}" for n in ns]
        ),
        attributes=st.dictionaries(st.sampled_from(["city", "tier", "since", "shoe"]), _texts, max_size=3),
        facts=st.lists(st.tuples(_texts, st.booleans()), max_size=4),
        encounters=st.lists(st.lists(_texts, max_size=2), max_size=3),
    ),
    min_size=2,
    max_size=4,
)
_plans = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=5)


def _unique_identities(records: list[Record]) -> None:
    """Identities are unique across customers, so the generated records may not share one."""
    seen: set[str] = set()
    for record in records:
        record.identities = [i for i in record.identities if not (i in seen or seen.add(i))]  # type: ignore[func-returns-value]


def _load(runtime: Runtime, records: list[Record]) -> list[int]:
    ids = []
    with runtime.session() as db:
        for n, record in enumerate(records):
            customer = customers.create(
                db,
                actor=SYSTEM,
                data=CustomerCreate(
                    name=f"Record {n}", identities=record.identities, attributes=record.attributes
                ),
            )
            for text, acknowledged in record.facts:
                fact = knowledge.add(
                    db,
                    actor=SYSTEM,
                    customer_id=customer.id,
                    data=DifferentiatorCreate(text=text, category="values"),
                    categories=categories_in_force(runtime.settings),
                )
                if acknowledged:
                    knowledge.acknowledge(
                        db, actor=SYSTEM, differentiator_id=fact.id, data=AcknowledgeRequest()
                    )
            for learned in record.encounters:
                encounters.record(
                    db,
                    actor=SYSTEM,
                    customer_id=customer.id,
                    data=EncounterCreate(
                        channel=Channel.CALL, facts=[NewFact(text=t, category="worries") for t in learned]
                    ),
                    categories=categories_in_force(runtime.settings),
                )
            ids.append(customer.id)
    return ids


def _snapshot(runtime: Runtime, customer_id: int) -> dict[str, object]:
    with runtime.session() as db:
        customer = customers.get(db, actor=SYSTEM, customer_id=customer_id)
        facts = knowledge.list_for_customer(db, actor=SYSTEM, customer_id=customer.id)
        return {
            "root": customer.id,
            "identities": {i.key for i in customer.identities},
            "attributes": dict(customer.attributes),
            "facts": {(f.id, f.text, f.category, f.acknowledgement is not None) for f in facts},
            "encounters": {
                e.id for e in encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer.id)
            },
        }


@pytest.mark.parametrize("runtime", ["sqlite", "postgres"], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=_records, plan=_plans)
def test_merging_keeps_every_identity_fact_encounter_and_attribute(
    runtime: Runtime, records: list[Record], plan: list[tuple[int, int]]
) -> None:
    empty_all_tables(runtime.engine)
    _unique_identities(records)
    ids = _load(runtime, records)
    before = {cid: _snapshot(runtime, cid) for cid in ids}

    root = {cid: cid for cid in ids}  # the model: which record each one ends up in
    for a, b in plan:
        if a >= len(ids) or b >= len(ids):
            continue
        survivor, merged = ids[a], ids[b]
        if survivor == merged or root[survivor] != survivor or root[merged] != merged:
            continue
        with runtime.session() as db:
            merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
        for cid, r in root.items():
            if r == merged:
                root[cid] = survivor

    for final in set(root.values()):
        members = [cid for cid in ids if root[cid] == final]
        after = _snapshot(runtime, final)
        for member in members:
            assert _snapshot(runtime, member)["root"] == final  # an old id resolves to its survivor
        assert after["identities"] == set().union(*(before[m]["identities"] for m in members))  # type: ignore[arg-type]
        assert after["facts"] == set().union(*(before[m]["facts"] for m in members))  # type: ignore[arg-type]
        assert after["encounters"] == set().union(*(before[m]["encounters"] for m in members))  # type: ignore[arg-type]
        with runtime.session() as db:
            kept: dict[str, object] = {}  # values the survivor already had differently
            for member in members:
                for merge_record in customers.merges_into(db, customer_id=member):
                    kept.update(merge_record.snapshot["conflicting_attributes"])
            history = customers.history(db, actor=SYSTEM, customer_id=final, limit=1000)
        attributes = after["attributes"]
        assert isinstance(attributes, dict)
        for member in members:
            for key, value in before[member]["attributes"].items():  # type: ignore[attr-defined]
                assert attributes.get(key) == value or key in kept
        merges = sum(1 for entry in history if entry.action == "customer.merged")
        assert merges == len(members) - 1
        assert sum(1 for entry in history if entry.action == "customer.created") == len(members)


def test_merge_refuses_self_and_twice(runtime: Runtime) -> None:
    a, b = make_customer(runtime), make_customer(runtime)
    with runtime.session() as db, pytest.raises(Invalid, match="itself"):
        merging.merge(db, actor=SYSTEM, survivor_id=a, merged_id=a)
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=a, merged_id=b)
    with runtime.session() as db, pytest.raises(Conflict, match="merged into customer"):
        merging.merge(db, actor=SYSTEM, survivor_id=b, merged_id=a)


def test_identity_of_a_merged_record_finds_the_survivor(runtime: Runtime) -> None:
    a = make_customer(runtime, identities=["email:a@example.com"])
    b = make_customer(runtime, identities=["email:b@example.com"])
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=a, merged_id=b)
    with runtime.session() as db:
        assert customers.resolve(db, actor=SYSTEM, reference="email:b@example.com").id == a
        listed, total = customers.search(db, actor=SYSTEM)
        assert total == 1
        assert [c.id for c in listed] == [a]


def _granted(runtime: Runtime, customer_id: int) -> dict[str, bool]:
    with runtime.session() as db:
        found = customers.consent_of(db, actor=SYSTEM, customer_id=customer_id, default_granted=True)
    return {p.purpose.value: p.granted for p in found.purposes}


def test_a_refusal_given_on_the_duplicate_is_the_survivors_after_the_merge(runtime: Runtime) -> None:
    survivor, duplicate = make_customer(runtime), make_customer(runtime)
    record_consent(runtime, duplicate, profiling=False, contact=False)
    assert _granted(runtime, survivor)["profiling"]  # the default: nothing recorded on the survivor
    with runtime.session() as db:
        _, counts = merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=duplicate)
    assert counts["consent_records"] == 2
    assert _granted(runtime, survivor) == {"contact": False, "profiling": False, "personalisation": True}
    with runtime.session() as db:
        assert not customers.has_consent(
            db, customer_id=survivor, purpose=ConsentPurpose.PROFILING, default_granted=True
        )
        history = customers.consent_of(db, actor=SYSTEM, customer_id=survivor, default_granted=True).history
    assert sorted(r.purpose for r in history) == ["contact", "profiling"]


def test_the_latest_statement_of_either_record_is_the_customers_consent(runtime: Runtime) -> None:
    survivor, duplicate, third = make_customer(runtime), make_customer(runtime), make_customer(runtime)
    record_consent(runtime, duplicate, profiling=False)  # said no first, on the duplicate ...
    record_consent(runtime, survivor, profiling=True, personalisation=False)  # ... then yes, on the survivor
    # and last, on a third record, yes to personalisation
    record_consent(runtime, third, personalisation=True)
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=duplicate)
    assert _granted(runtime, survivor) == {"contact": True, "profiling": True, "personalisation": False}
    with runtime.session() as db:
        _, counts = merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=third)
    assert counts["consent_records"] == 1
    assert _granted(runtime, survivor) == {"contact": True, "profiling": True, "personalisation": True}

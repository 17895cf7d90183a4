"""Customers: identities, updates, search and paging, history."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.schemas import CustomerCreate, CustomerKind, CustomerUpdate
from segone.errors import Conflict, Invalid, NotFound
from segone.runtime import Runtime
from tests.factories import make_customer, make_user


def test_identities_are_normalised_and_unique_across_customers(runtime: Runtime) -> None:
    first = make_customer(runtime, identities=["Email: Ann@Example.com", "crm:00042"])
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=first))
        assert out.identities == ["email:ann@example.com", "crm:00042"]
        with pytest.raises(Conflict, match=r"email:ann@example.com \(customer \d+\)"):
            customers.create(
                db, actor=SYSTEM, data=CustomerCreate(name="Someone", identities=["email:ANN@example.com"])
            )


@pytest.mark.parametrize(
    ("identities", "problem"),
    [
        (["no-colon"], "must look like 'system:id'"),
        (["9bad:x"], "must start with a letter"),
        (["email:a@b.c", "EMAIL:A@B.C"], "given twice"),
    ],
)
def test_bad_identities_are_rejected_with_the_reason(identities: list[str], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        CustomerCreate(name="X", identities=identities)


def test_update_sets_and_removes_attributes_and_identities(runtime: Runtime) -> None:
    cid = make_customer(runtime, identities=["crm:1"], attributes={"city": "Leeds", "tier": "gold"})
    with runtime.session() as db:
        customers.update(
            db,
            actor=SYSTEM,
            customer_id=cid,
            data=CustomerUpdate(
                name="Renamed",
                attributes={"city": "York", "tier": None},
                add_identities=["email:r@example.com"],
                remove_identities=["crm:1"],
            ),
        )
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=cid))
        assert (out.name, out.attributes, out.identities) == (
            "Renamed",
            {"city": "York"},
            ["email:r@example.com"],
        )
        entry = customers.history(db, actor=SYSTEM, customer_id=cid)[0]
        assert entry.action == "customer.updated"
        assert entry.details["attributes.city"] == {"from": "Leeds", "to": "York"}


def test_search_by_name_identity_and_id_with_paging(runtime: Runtime) -> None:
    ids = [
        make_customer(runtime, name=f"Harbour Cafe {i:02d}", kind=CustomerKind.BUSINESS) for i in range(12)
    ]
    make_customer(runtime, name="Ann Person", identities=["email:ann.p@example.com"])
    with runtime.session() as db:
        page, total = customers.search(db, actor=SYSTEM, query="harbour", offset=10, limit=5)
        assert total == 12 and [c.name for c in page] == ["Harbour Cafe 10", "Harbour Cafe 11"]
        found, _ = customers.search(db, actor=SYSTEM, query="ANN.P@")
        assert [c.name for c in found] == ["Ann Person"]
        by_id, _ = customers.search(db, actor=SYSTEM, query=str(ids[3]))
        assert ids[3] in [c.id for c in by_id]
        people, total_people = customers.search(db, actor=SYSTEM, kind=CustomerKind.PERSON)
        assert total_people == 1 and people[0].name == "Ann Person"
        with pytest.raises(Invalid, match="limit"):
            customers.search(db, actor=SYSTEM, limit=0)


def test_resolve_by_id_or_identity(runtime: Runtime) -> None:
    cid = make_customer(runtime, identities=["crm:77"])
    reader = make_user(runtime, Role.FRONTLINE)
    with runtime.session() as db:
        assert customers.resolve(db, actor=reader.actor, reference=str(cid)).id == cid
        assert customers.resolve(db, actor=reader.actor, reference="CRM:77").id == cid
        with pytest.raises(NotFound, match="crm:78"):
            customers.resolve(db, actor=reader.actor, reference="crm:78")
        with pytest.raises(NotFound):
            customers.get(db, actor=reader.actor, customer_id=cid + 1000)


def test_resolve_rejects_non_ascii_digits_with_a_clear_error(runtime: Runtime) -> None:
    with runtime.session() as db, pytest.raises(Invalid, match="system:id"):
        customers.resolve(db, actor=SYSTEM, reference="²")

"""Customers: identities, updates, search and paging, history."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.schemas import (
    CustomerCreate,
    CustomerKind,
    CustomerUpdate,
    attribute_from_text,
    attribute_text,
)
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


NOT_A_LIST = "attribute 'b' must be text, a number, true/false or a date, not a list"


def test_attribute_values_are_scalar_on_create_and_update() -> None:
    nested = {"b": [1, 2, {"c": None}]}
    for make in (
        lambda: CustomerCreate(name="Ann", attributes=nested),
        lambda: CustomerUpdate(attributes=nested),
    ):
        with pytest.raises(ValidationError) as refusal:
            make()
        (error,) = refusal.value.errors()
        assert (error["loc"], error["msg"]) == (("attributes",), f"Value error, {NOT_A_LIST}")
    with pytest.raises(ValidationError, match=r"attribute 'b' must be .*, not an object"):
        CustomerUpdate(attributes={"b": {"c": 1}})
    with pytest.raises(ValidationError, match="attribute 'score' must be a finite number"):
        CustomerCreate(name="Ann", attributes={"score": float("nan")})
    with pytest.raises(ValidationError, match="attribute names may not be empty"):
        CustomerUpdate(attributes={" ": "x"})
    # A date is kept as its ISO text (JSON has no date type); a null sets nothing on a new customer.
    made = CustomerCreate(name="Ann", attributes={"since": date(2019, 3, 1), "gone": None})
    assert made.attributes == {"since": "2019-03-01"}


def test_attribute_types_are_kept_and_shown_without_python_repr(runtime: Runtime) -> None:
    values = {"city": "Leeds", "stores": 2, "spend": 1250.5, "vip": True, "since": "2019-03-01"}
    cid = make_customer(runtime, attributes=values)
    with runtime.session() as db:
        customers.update(db, actor=SYSTEM, customer_id=cid, data=CustomerUpdate(attributes={"stores": True}))
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=cid))
        assert out.attributes == {**values, "stores": True}
        assert [type(v) for v in out.attributes.values()] == [str, bool, float, bool, str]
        # 2 and true are equal in Python; the change of type is still a change, and recorded.
        assert customers.history(db, actor=SYSTEM, customer_id=cid)[0].details == {
            "attributes.stores": {"from": 2, "to": True}
        }
    shown = [attribute_text(v) for v in (True, False, 2, 1250.5, "Leeds", None, [1, 2, {"c": None}])]
    assert shown == ["yes", "no", "2", "1250.5", "Leeds", "", '[1, 2, {"c": null}]']


def test_text_typed_in_a_form_keeps_the_type_of_the_value_it_replaces() -> None:
    assert attribute_from_text("13", like=12) == 13
    assert attribute_from_text("12.5", like=12) == 12.5
    assert attribute_from_text("about 12", like=12) == "about 12"
    assert attribute_from_text("1_000", like=12) == "1_000"
    assert attribute_from_text("No", like=True) is False
    assert attribute_from_text("true", like=False) is True
    assert attribute_from_text("maybe", like=True) == "maybe"
    assert attribute_from_text("13", like="12") == "13"
    assert attribute_from_text("13", like=None) == "13"


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


def test_attribute_pages_walk_every_active_customer_by_id(runtime: Runtime) -> None:
    ids = [make_customer(runtime, attributes={"n": i}) for i in range(5)]
    with runtime.session() as db:
        customers.merge_records(db, actor=SYSTEM, survivor_id=ids[0], merged_id=ids[1], moved={})
        pages = list(customers.attribute_pages(db, batch_size=2))
    assert [len(page) for page in pages] == [1, 2, 1]  # the merged record leaves a page short
    assert [row for page in pages for row in page] == [
        (ids[0], {"n": 0}),
        (ids[2], {"n": 2}),
        (ids[3], {"n": 3}),
        (ids[4], {"n": 4}),
    ]

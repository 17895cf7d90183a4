"""Customer CSV import: mapping, matching by identity, all or nothing, dry runs, a report of every bad row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.customers import service as customers
from segone.customers.importer import import_customers
from segone.customers.models import Customer, CustomerIdentity
from segone.errors import Forbidden
from segone.importing import ImportRejected
from segone.runtime import Runtime
from tests.factories import make_customer, make_user

GOOD = (
    "name,kind,email,phone,identity:crm,identities,city,segment\n"
    "Ann Patel,person,Ann.Patel@Example.com,0113 496 0000,C001,,Leeds,Regular\n"
    "Hartley & Sons Joinery,business,office@hartley.example,,C002,shop:77;web:hartley,York,Key account\n"
    "Bob Stone,,bob@example.com,,,,,\n"
)


def _import(runtime: Runtime, data: str | bytes, **options: bool):  # type: ignore[no-untyped-def]
    with runtime.session() as db:
        return import_customers(db, actor=SYSTEM, data=data, **options)


def _snapshot(runtime: Runtime) -> tuple[int, int, int, list[tuple[str, str, dict[str, object]]]]:
    with runtime.session() as db:
        rows = db.execute(select(Customer.name, Customer.kind, Customer.attributes).order_by(Customer.id))
        return (
            int(db.scalar(select(func.count(Customer.id))) or 0),
            int(db.scalar(select(func.count(CustomerIdentity.id))) or 0),
            int(db.scalar(select(func.count(AuditEntry.id))) or 0),
            [(name, kind, dict(attributes)) for name, kind, attributes in rows],
        )


def test_rows_become_customers_with_identities_attributes_and_history(runtime: Runtime) -> None:
    report = _import(runtime, GOOD)
    assert (report.rows, report.created, report.updated, report.unchanged, report.errors) == (3, 3, 0, 0, [])
    with runtime.session() as db:
        ann = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="crm:C001"))
        assert (ann.name, ann.kind.value) == ("Ann Patel", "person")
        assert sorted(ann.identities) == ["crm:C001", "email:ann.patel@example.com", "phone:01134960000"]
        assert ann.attributes == {"city": "Leeds", "segment": "Regular"}
        shop = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="web:hartley"))
        assert shop.kind.value == "business"
        assert sorted(shop.identities) == [
            "crm:C002",
            "email:office@hartley.example",
            "shop:77",
            "web:hartley",
        ]
        bob = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="email:bob@example.com"))
        assert (bob.kind.value, bob.attributes) == ("person", {})
        history = customers.history(db, actor=SYSTEM, customer_id=ann.id)
        assert [e.action for e in history] == ["customer.created"]
        assert history[0].summary == "Customer Ann Patel created"


def test_importing_the_same_file_again_changes_nothing(runtime: Runtime) -> None:
    _import(runtime, GOOD)
    before = _snapshot(runtime)
    again = _import(runtime, GOOD.encode("utf-8"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _snapshot(runtime) == before


def test_a_row_matching_one_customer_updates_it_and_empty_cells_leave_values(runtime: Runtime) -> None:
    cid = make_customer(
        runtime, name="Ann P", identities=["email:ann@example.com"], attributes={"tier": "gold"}
    )
    csv = "name,email,identity:crm,city,tier\nAnn Patel,ANN@example.com,C9,York,\n"
    report = _import(runtime, csv)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    with runtime.session() as db:
        out = customers.to_out(customers.get(db, actor=SYSTEM, customer_id=cid))
        assert out.name == "Ann Patel"
        assert out.attributes == {"tier": "gold", "city": "York"}
        assert sorted(out.identities) == ["crm:C9", "email:ann@example.com"]
        entry = customers.history(db, actor=SYSTEM, customer_id=cid)[0]
        assert entry.action == "customer.updated"
        assert entry.details["name"] == {"from": "Ann P", "to": "Ann Patel"}
        assert entry.details["attributes.city"] == {"from": None, "to": "York"}
        assert entry.details["identities_added"] == ["crm:C9"]


def test_numbers_stored_by_others_equal_the_same_text_in_a_file(runtime: Runtime) -> None:
    make_customer(
        runtime, name="Ann", identities=["email:ann@example.com"], attributes={"since": 2019, "vip": True}
    )
    report = _import(runtime, "name,email,since,vip\nAnn,ann@example.com,2019,true\n")
    assert report.unchanged == 1


def test_bad_rows_change_nothing_and_the_report_names_every_one(runtime: Runtime) -> None:
    first = make_customer(
        runtime,
        name="Existing One",
        identities=["email:one@example.com", "email:one.alt@example.com", "crm:O1"],
    )
    second = make_customer(runtime, name="Existing Two", identities=["crm:T2"])
    before = _snapshot(runtime)
    csv = (
        "name,kind,email,identity:crm,city\n"  # row 1
        "Good Person,person,good@example.com,,Leeds\n"  # 2: fine
        ",person,noname@example.com,,\n"  # 3: no name
        "Bad Mail,person,not-an-email,,\n"  # 4: bad e-mail
        "Bad Kind,robot,kind@example.com,,\n"  # 5: bad kind
        "No Identity,person,,,Leeds\n"  # 6: nothing to match on
        "Twice A,person,twice@example.com,,\n"  # 7: fine by itself
        "Twice B,person,twice@example.com,,\n"  # 8: fine: row 7's identity, merged into it
        "Two Customers,person,one@example.com,T2,\n"  # 9: identities of two customers
        "Too,many,values,here,York,extra\n"  # 10: more values than columns
        '"Multi\nLine",person,multi@example.com,,\n'  # 11-12: one row over two lines, fine
        "Same As One,person,,,\n"  # 13: no identity
        "Existing One Again,person,,O1,\n"  # 14: fine: updates customer `first`
        "One Once More,business,,X1,\n"  # 15: fine: new
        "Also One,person,ONE.ALT@example.com,X2,\n"  # 16: fine: customer `first` like row 14, merged
    )
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, csv)
    report = caught.value.report
    assert {e.row for e in report.errors} == {3, 4, 5, 6, 9, 10, 13}
    by_row = {e.row: e for e in report.errors}
    assert (by_row[3].column, by_row[4].column, by_row[5].column) == ("name", "email", "kind")
    assert "not-an-email" in by_row[4].problem
    assert "robot" in by_row[5].problem
    assert "no identity" in by_row[6].problem
    assert f"customer {first}" in by_row[9].problem and f"customer {second}" in by_row[9].problem
    assert "6 values" in by_row[10].problem and "5 columns" in by_row[10].problem
    assert [(w.row, w.problem.split(",")[0]) for w in report.warnings] == [
        (8, "merged with row 7"),
        (16, "merged with row 14"),
    ]
    assert "7 of the 14 rows are bad; nothing was imported" in caught.value.message
    assert caught.value.details["errors"][0] == {"row": 3, "column": "name", "problem": by_row[3].problem}
    assert _snapshot(runtime) == before


def test_a_dry_run_reports_and_writes_nothing(runtime: Runtime) -> None:
    make_customer(runtime, name="Bob Stone", identities=["email:bob@example.com"])
    before = _snapshot(runtime)
    report = _import(runtime, GOOD, dry_run=True)
    assert (report.dry_run, report.created, report.updated, report.unchanged) == (True, 2, 0, 1)
    assert _snapshot(runtime) == before
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, GOOD + ",,,,,,,\nNo Id,,,,,,,\n", dry_run=True)
    assert caught.value.report.dry_run is True
    # Line 5 holds only delimiters: skipped like a blank line, but still counted.
    assert [e.row for e in caught.value.report.errors] == [6]
    assert _snapshot(runtime) == before


def test_skip_bad_rows_imports_the_good_ones_and_lists_the_rest(runtime: Runtime) -> None:
    report = _import(runtime, "name,email\nGood,good@example.com\n,bad@example.com\n", skip_bad_rows=True)
    assert (report.created, report.skipped, [e.row for e in report.errors]) == (1, 1, [3])
    with runtime.session() as db:
        assert customers.count_active(db) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n  \n", "The file is empty"),
        (b"email,city\na@example.com,Leeds\n", "no 'name' column (the header holds 'email', 'city')"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "an Excel workbook (or another archive), not CSV"),
        (b"\xff\xfen\x00a\x00", "no 'name' column (the header holds 'na')"),
        (b"name,email,Email\nA,a@example.com,b@example.com\n", "twice"),
        (b"name,identity:9x\nA,1\n", "'9x' is not a system name"),
        (b"name,email,city,attribute:city\nA,a@example.com,X,Y\n", "'city' is in column 'city' too"),
        (b"name,email,attribute: \nA,a@example.com,X\n", "names no attribute"),
        (b"name,email,id,ID\nA,a@example.com,1,1\n", "twice"),
    ],
)
def test_problems_with_the_whole_file_are_named(sqlite_runtime: Runtime, data: bytes, message: str) -> None:
    with pytest.raises(ImportRejected) as caught:
        _import(sqlite_runtime, data)
    assert message in caught.value.message + " ".join(e.problem for e in caught.value.report.errors)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_files_in_every_encoding_a_spreadsheet_writes_are_read(
    sqlite_runtime: Runtime, encoding: str
) -> None:
    report = _import(sqlite_runtime, "name,email\nJosé Núñez,jose@example.com\n".encode(encoding))
    assert report.created == 1
    with sqlite_runtime.session() as db:
        out = customers.get_by_identity(db, actor=SYSTEM, identity="email:jose@example.com")
        assert out.name == "José Núñez"


def test_byte_order_mark_semicolons_and_quoted_delimiters_are_understood(sqlite_runtime: Runtime) -> None:
    data = (
        '\ufeffName;Email;Identities;Notes\n"Patel; Ann";ann@example.com;"crm:1;web:ann";"likes ""jazz"""\n'
    )
    report = _import(sqlite_runtime, data.encode("utf-8"))
    assert report.created == 1
    with sqlite_runtime.session() as db:
        out = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="web:ann"))
        assert out.name == "Patel; Ann"
        assert out.attributes == {"Notes": 'likes "jazz"'}


def test_the_columns_an_export_writes_read_back(sqlite_runtime: Runtime) -> None:
    data = (
        "id,name,identities,attribute:email,attribute:Kind,attribute:City,attribute:city,attribute: padded \n"
        "917,'=Ann,crm:1;email:ann@example.com,'@work,gold,Bath,bath,kept\n"
    )
    assert _import(sqlite_runtime, data).created == 1
    with sqlite_runtime.session() as db:
        out = customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity="crm:1"))
    assert out.name == "=Ann"  # the guard of a formula-like cell is taken off
    assert out.id != 917  # the id of another store is not kept: customers match by identity
    assert out.attributes == {
        "email": "@work",
        "Kind": "gold",
        "City": "Bath",
        "city": "bath",
        " padded ": "kept",
    }


def test_only_roles_that_may_import_data_can_import(runtime: Runtime) -> None:
    manager = make_user(runtime, Role.MANAGER)
    analyst = make_user(runtime, Role.ANALYST)
    with runtime.session() as db, pytest.raises(Forbidden):
        import_customers(db, actor=manager.actor, data=GOOD)
    with runtime.session() as db:
        import_customers(db, actor=analyst.actor, data=GOOD)
    with runtime.session() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "customer.created")).first()
        assert entry is not None and entry.actor_email == analyst.email


def test_many_rows_import_in_batches(runtime: Runtime) -> None:
    rows = "".join(
        f"Customer {i},c{i}@example.com,C{i:05d},{['Leeds', 'York'][i % 2]}\n" for i in range(6000)
    )
    data = "name,email,identity:crm,city\n" + rows
    first = _import(runtime, data)
    assert first.created == 6000
    changed = data.replace(
        "Customer 5999,c5999@example.com,C05999,York", "Customer 5999,c5999@example.com,C05999,Hull"
    )
    second = _import(runtime, changed)
    assert (second.created, second.updated, second.unchanged) == (0, 1, 5999)
    with runtime.session() as db:
        assert customers.count_active(db) == 6000
        assert db.scalar(select(func.count(CustomerIdentity.id))) == 12000
        assert db.scalar(select(func.count(AuditEntry.id))) == 6001

"""CRM contact exports as they come: HubSpot and Salesforce presets, --map joins, encodings, formula
cells and the same person twice in one file (tests/data/crm describes the files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from segone.accounts.schemas import SYSTEM
from segone.customers import service as customers
from segone.customers.importer import import_customers
from segone.customers.schemas import CustomerImportReport, CustomerOut
from segone.importing import FORMULA_WARNING, ImportRejected
from segone.runtime import Runtime

CRM = Path(__file__).parents[1] / "data" / "crm"
HUBSPOT = (CRM / "hubspot-contacts.csv").read_bytes()
SALESFORCE = (CRM / "salesforce-contacts.csv").read_bytes()

# The header sets the issue quotes, exactly as the CRMs name their columns.
HUBSPOT_HEADER = "First Name,Last Name,Email,Phone Number,Company Name,Lifecycle Stage,Create Date\n"
SALESFORCE_HEADER = "Contact ID,First Name,Last Name,Email,Account Name,Mailing City\n"


def _import(runtime: Runtime, data: bytes | str, **options: Any) -> CustomerImportReport:
    with runtime.session() as db:
        return import_customers(db, actor=SYSTEM, data=data, **options)


def _customer(runtime: Runtime, identity: str) -> CustomerOut:
    with runtime.session() as db:
        return customers.to_out(customers.get_by_identity(db, actor=SYSTEM, identity=identity))


def test_a_hubspot_export_imports_with_its_preset(runtime: Runtime) -> None:
    report = _import(runtime, HUBSPOT, preset="hubspot")
    assert (report.rows, report.created, report.merged, report.errors) == (10, 9, 1, [])
    assert report.encoding == "utf-8"
    assert [(w.row, w.column, w.problem) for w in report.warnings] == [
        (7, "Company Name", FORMULA_WARNING),
        (10, None, "merged with row 2, the same customer (email:ann.patel@example.com): this row's name "
         "and non-empty values win"),
    ]  # fmt: skip

    ann = _customer(runtime, "hubspot:51")
    assert (ann.name, ann.kind.value) == ("Ann Patel-Shah", "person")  # row 10, later, wins
    assert sorted(ann.identities) == [
        "email:ann.patel@example.com",
        "hubspot:51",
        "hubspot:59",
        "phone:+442079460958",
        "phone:+447700900123",
    ]
    assert ann.attributes == {
        "company": "Harbour Café Ltd",
        "Lifecycle Stage": "Customer",
        "Create Date": "2024-01-20 12:00",
    }
    dev = _customer(runtime, "phone:01134960321")  # "(0113) 496 0321", as the customers domain keeps it
    assert (dev.name, "company" in dev.attributes) == ("Dev Okafor", False)
    northwind = _customer(runtime, "hubspot:55")  # no person's name: the company is the customer
    assert (northwind.name, northwind.kind.value) == ("Northwind Traders", "business")
    assert northwind.attributes == {"Lifecycle Stage": "Customer", "Create Date": "2023-07-15 16:45"}
    emma = _customer(runtime, "email:emma.larsen@example.com")
    assert emma.attributes["company"] == '=HYPERLINK("https://larsen.example","Larsen & Co")'

    again = _import(runtime, HUBSPOT, preset="hubspot")
    assert (again.created, again.updated, again.unchanged, again.merged) == (0, 0, 9, 1)


def test_a_windows_1252_salesforce_export_imports_with_its_preset(runtime: Runtime) -> None:
    report = _import(runtime, SALESFORCE, preset="salesforce")
    assert (report.rows, report.created, report.merged, report.errors) == (10, 9, 1, [])
    assert report.encoding == "windows-1252"
    assert [(w.row, w.column, w.problem.split(",")[0]) for w in report.warnings] == [
        (7, "Account Name", FORMULA_WARNING.split(",")[0]),
        (9, None, "merged with row 2"),
    ]
    zoe = _customer(runtime, "salesforce:0035g00000A1bCdAAJ")
    assert zoe.name == "Zoë Müller-Schmidt"
    assert sorted(zoe.identities) == [
        "email:zoe.mueller@example.de",
        "phone:+4989123456",
        "salesforce:0035g00000A1bCdAAJ",
        "salesforce:0035g00000A1bCkAAJ",
    ]
    assert zoe.attributes == {"company": "Müller Bäckerei", "Mailing City": "München"}
    assert (
        _customer(runtime, "email:siobhan.obrien@example.ie").name == "Siobhán O\u2019Brien"
    )  # the apostrophe only Windows-1252 has
    assert _customer(runtime, "email:soren@example.dk").attributes == {"Mailing City": "København"}
    grunwald = _customer(runtime, "phone:+442079460000")
    assert (grunwald.name, grunwald.kind.value) == ("Grünwald Ltd", "business")
    assert sorted(grunwald.identities) == ["phone:+442079460000", "salesforce:0035g00000A1bCjAAJ"]


def test_a_named_encoding_wins_and_a_wrong_one_is_refused(sqlite_runtime: Runtime) -> None:
    with pytest.raises(ImportRejected) as caught:
        _import(sqlite_runtime, SALESFORCE, preset="salesforce", encoding="utf-8")
    assert caught.value.message.startswith("The file is not utf-8 text: line 2 holds bytes")
    assert caught.value.report.errors[0].row == 2
    named = _import(sqlite_runtime, SALESFORCE, preset="salesforce", encoding="Windows-1252", dry_run=True)
    assert (named.encoding, named.created) == ("windows-1252", 9)
    assert named.preview[0].name == "Zoë Müller"


@pytest.mark.parametrize(
    ("header", "row", "preset", "identity"),
    [
        (
            HUBSPOT_HEADER,
            "Zoë,Müller,zoe@example.de,+49 89 123456,Bäckerei Müller,Lead,2024-03-01 10:00\n",
            "hubspot",
            "phone:+4989123456",
        ),
        (
            SALESFORCE_HEADER,
            "0035g00000Zz9YxAAJ,Zoë,Müller,zoe@example.de,Bäckerei Müller,München\n",
            "salesforce",
            "salesforce:0035g00000Zz9YxAAJ",
        ),
    ],
)
def test_the_header_sets_of_the_issue_are_refused_plainly_and_read_with_their_preset(
    sqlite_runtime: Runtime, header: str, row: str, preset: str, identity: str
) -> None:
    data = (header + row).encode("cp1252")
    with pytest.raises(ImportRejected) as caught:
        _import(sqlite_runtime, data)
    assert "no 'name' column" in caught.value.message
    assert "name=First Name+Last Name" in caught.value.message and preset in caught.value.message
    report = _import(sqlite_runtime, data, preset=preset)
    assert (report.created, report.encoding) == (1, "windows-1252")
    zoe = _customer(sqlite_runtime, identity)
    assert (zoe.name, zoe.attributes["company"]) == ("Zoë Müller", "Bäckerei Müller")
    assert "email:zoe@example.de" in zoe.identities


def test_map_joins_columns_and_wins_over_the_preset(sqlite_runtime: Runtime) -> None:
    data = (
        "Given,Family,Work Email,Email,Mobile,Org,Name\n"
        "Ann,Patel,ann@work.example,ann@home.example,07700 900123,Harbour Cafe,A. Patel\n"
    )
    mapping = {
        "name": "given+family",  # columns compared without case
        "email": "Work Email",
        "phone": "Mobile",
        "company": "Org",
        "identity:crm": "Email",
    }
    report = _import(sqlite_runtime, data, mapping=mapping)
    assert report.created == 1
    assert [(w.column, w.problem) for w in report.warnings] == [
        ("Name", "not imported: the mapping reads name from 'Given+Family'")
    ]
    ann = _customer(sqlite_runtime, "email:ann@work.example")
    assert ann.name == "Ann Patel"
    assert sorted(ann.identities) == ["crm:ann@home.example", "email:ann@work.example", "phone:07700900123"]
    assert ann.attributes == {"company": "Harbour Cafe"}

    hubspot = HUBSPOT_HEADER.replace("Email", "Work Email") + "Bo,Lee,bo@x.example,,,Lead,\n"
    with pytest.raises(ImportRejected) as caught:  # the preset looks for "Email"
        _import(sqlite_runtime, hubspot, preset="hubspot")
    assert "no identity" in caught.value.report.errors[0].problem
    assert _import(sqlite_runtime, hubspot, preset="hubspot", mapping={"email": "Work Email"}).created == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mapping": {"name": "First Name+Surname"}}, "names column 'Surname', which the input does not"),
        ({"preset": "pipedrive"}, "Unknown preset 'pipedrive'; presets: hubspot, salesforce"),
        ({"encoding": "ebcdic-klingon"}, "'ebcdic-klingon' is not a text encoding"),
    ],
)
def test_mapping_preset_and_encoding_mistakes_are_named(
    sqlite_runtime: Runtime, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ImportRejected) as caught:
        _import(sqlite_runtime, HUBSPOT_HEADER + "Ann,Patel,ann@example.com,,,,\n", **options)
    assert message in caught.value.message
    assert message in caught.value.report.errors[0].problem


def test_a_company_without_a_name_is_a_business_unless_the_row_says_person(sqlite_runtime: Runtime) -> None:
    data = (
        "name,kind,company,email\n"
        ",,Harbour Cafe,hello@harbour.example\n"
        ",person,Lone Person Ltd,lone@example.com\n"
        ",,,nobody@example.com\n"
    )
    with pytest.raises(ImportRejected) as caught:
        _import(sqlite_runtime, data)
    assert [(e.row, e.column) for e in caught.value.report.errors] == [(3, "name"), (4, "name")]
    report = _import(sqlite_runtime, data, skip_bad_rows=True)
    assert report.created == 1
    cafe = _customer(sqlite_runtime, "email:hello@harbour.example")
    assert (cafe.name, cafe.kind.value, cafe.attributes) == ("Harbour Cafe", "business", {})


def test_rows_of_one_customer_merge_in_file_order_and_conflicts_are_bad(runtime: Runtime) -> None:
    stored = _import(runtime, "name,email,identity:crm\nStored One,one@example.com,S1\nStored Two,,S2\n")
    assert stored.created == 2
    data = (
        "name,email,phone,identity:crm,city\n"
        "Ann,ann@example.com,,,Leeds\n"  # 2: new
        "Ann Patel,,0113 496 0000,A1,\n"  # 3: no shared identity yet: a second new customer
        "Ann P.,ann@example.com,0113 496 0000,,York\n"  # 4: rows 2 and 3: bad
        "Ann Patel,ANN@example.com,,A2,\n"  # 5: merged with row 2
        "One,,,S1,Hull\n"  # 6: the stored customer crm:S1
        "One Again,one@example.com,,,\n"  # 7: the same stored customer: merged with row 6
        "Two?,one@example.com,,S2,\n"  # 8: stored customers S1 and S2: bad
    )
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, data, dry_run=True)
    report = caught.value.report
    assert {e.row: e.problem for e in report.errors} == {
        4: "the identities belong to different customers: email:ann@example.com (the customer of row 2), "
        "phone:01134960000 (the customer of row 3); merge those customers first, or fix the row",
        8: f"the identities belong to different customers: email:one@example.com (the customer of row 6), "
        f"crm:S2 (customer {_customer(runtime, 'crm:S2').id}); merge those customers first, or fix the row",
    }
    assert isinstance(report, CustomerImportReport)
    outcomes = [(p.row, p.outcome.value, p.merged_with) for p in report.preview]
    assert outcomes == [
        (2, "create", None),
        (3, "create", None),
        (4, "bad", None),
        (5, "merge", 2),
        (6, "update", None),
        (7, "merge", 6),
        (8, "bad", None),
    ]
    assert report.preview[4].customer_id == _customer(runtime, "crm:S1").id

    done = _import(runtime, data, skip_bad_rows=True)
    assert (done.created, done.updated, done.merged, done.skipped) == (2, 1, 2, 2)
    ann = _customer(runtime, "crm:A2")
    assert (ann.name, ann.attributes) == ("Ann Patel", {"city": "Leeds"})
    assert sorted(ann.identities) == ["crm:A2", "email:ann@example.com"]
    one = _customer(runtime, "crm:S1")
    assert (one.name, one.attributes) == ("One Again", {"city": "Hull"})


def test_the_dry_run_preview_shows_the_first_ten_rows_as_they_will_be_imported(
    sqlite_runtime: Runtime,
) -> None:
    report = _import(sqlite_runtime, HUBSPOT, preset="hubspot", dry_run=True)
    assert len(report.preview) == 10
    first, northwind, duplicate = report.preview[0], report.preview[4], report.preview[8]
    assert first.model_dump(mode="json") == {
        "row": 2,
        "name": "Ann Patel",
        "kind": "person",
        "identities": ["hubspot:51", "email:ann.patel@example.com", "phone:+442079460958"],
        "attributes": {
            "company": "Harbour Café Ltd",
            "Lifecycle Stage": "Customer",
            "Create Date": "2023-04-12 09:31",
        },
        "consent": {},
        "outcome": "create",
        "customer_id": None,
        "merged_with": None,
    }
    assert (northwind.name, northwind.kind, northwind.outcome.value) == (
        "Northwind Traders",
        "business",
        "create",
    )
    assert (duplicate.row, duplicate.outcome.value, duplicate.merged_with) == (10, "merge", 2)
    with sqlite_runtime.session() as db:
        assert customers.count_active(db) == 0


def test_phone_and_e_mail_columns_read_as_attributes_say_how_to_map_them(sqlite_runtime: Runtime) -> None:
    data = (
        "name,email,Phone Number,E-Mail Address,city\n"
        "Ann,ann@example.com,0113 496 0000,ann@work.example,Leeds\n"
    )
    report = _import(sqlite_runtime, data)
    assert [(w.row, w.column, w.problem) for w in report.warnings] == [
        (1, "Phone Number", "imported as an attribute; to match customers by it, map it: phone=Phone Number"),
        (
            1,
            "E-Mail Address",
            "imported as an attribute; to match customers by it, map it: email=E-Mail Address",
        ),
    ]
    mapped = _import(sqlite_runtime, data, mapping={"phone": "Phone Number"})
    assert (mapped.updated, [w.column for w in mapped.warnings]) == (1, ["E-Mail Address"])
    assert "phone:01134960000" in _customer(sqlite_runtime, "email:ann@example.com").identities

"""Consent in the customer file: the consent:<purpose> columns of an import (recorded only where they
change the customer's consent, so a second import records nothing) and of an export, which reads back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, AuditAction, Role
from segone.customers import service as customers
from segone.customers.importer import import_customers
from segone.customers.models import ConsentRecord, Customer
from segone.customers.schemas import ConsentPurpose, ConsentSource, ImportOutcome
from segone.exporting import Format
from segone.importing import ImportRejected
from segone.runtime import Runtime
from segone.views.exports import ExportKind
from tests.conftest import empty_all_tables
from tests.customers.test_export import export_bytes
from tests.factories import make_customer, make_user, record_consent

CONTACT, PROFILING, PERSONALISATION = ConsentPurpose
CONSENTING = (
    "name,email,consent:contact,consent:profiling,consent:personalisation,city\n"
    "Ann Patel,ann@example.com,yes,Granted,TRUE,Leeds\n"
    "Bob Stone,bob@example.com,No,refused,0,York\n"
    "Cy Young,cy@example.com,,1,,Hull\n"
)


def _import(runtime: Runtime, data: str, **options: object):  # type: ignore[no-untyped-def]
    with runtime.session() as db:
        return import_customers(db, actor=SYSTEM, data=data, **options)  # type: ignore[arg-type]


def _consents(runtime: Runtime, identity: str) -> dict[ConsentPurpose, bool]:
    """The customer's recorded consents (purposes without a record left out)."""
    with runtime.session() as db:
        customer = customers.get_by_identity(db, actor=SYSTEM, identity=identity)
        out = customers.consent_of(db, actor=SYSTEM, customer_id=customer.id, default_granted=False)
    return {p.purpose: p.granted for p in out.purposes if p.recorded}


def _counts(runtime: Runtime) -> tuple[int, int, int]:
    """Consent records, audit entries, and the customers' versions added up."""
    with runtime.session() as db:
        return (
            int(db.scalar(select(func.count(ConsentRecord.id))) or 0),
            int(db.scalar(select(func.count(AuditEntry.id))) or 0),
            int(db.scalar(select(func.sum(Customer.version))) or 0),
        )


def test_consent_columns_are_recorded_from_the_import_by_the_importer(runtime: Runtime) -> None:
    analyst = make_user(runtime, Role.ANALYST)
    with runtime.session() as db:
        report = import_customers(db, actor=analyst.actor, data=CONSENTING)
    assert (report.created, report.errors) == (3, [])
    assert _consents(runtime, "email:ann@example.com") == {
        CONTACT: True,
        PROFILING: True,
        PERSONALISATION: True,
    }
    assert _consents(runtime, "email:bob@example.com") == {
        CONTACT: False,
        PROFILING: False,
        PERSONALISATION: False,
    }
    assert _consents(runtime, "email:cy@example.com") == {PROFILING: True}  # empty cells: nothing recorded
    with runtime.session() as db:
        cy = customers.get_by_identity(db, actor=SYSTEM, identity="email:cy@example.com")
        assert cy.attributes == {"city": "Hull"}  # a consent column is no attribute
        out = customers.consent_of(db, actor=SYSTEM, customer_id=cy.id, default_granted=False)
        assert [(r.source, r.recorded_by) for r in out.history] == [(ConsentSource.IMPORT, analyst.email)]
        entries = db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == AuditAction.CONSENT_RECORDED.value)
            .order_by(AuditEntry.customer_id)
        ).all()
    assert [(e.summary, e.details, e.actor_email) for e in entries] == [
        (
            "Consent recorded: contact granted, profiling granted, personalisation granted",
            {"consent": {"contact": True, "profiling": True, "personalisation": True}, "source": "import"},
            analyst.email,
        ),
        (
            "Consent recorded: contact refused, profiling refused, personalisation refused",
            {"consent": {"contact": False, "profiling": False, "personalisation": False}, "source": "import"},
            analyst.email,
        ),
        (
            "Consent recorded: profiling granted",
            {"consent": {"profiling": True}, "source": "import"},
            analyst.email,
        ),
    ]


def test_every_spelling_of_yes_and_no_is_read(sqlite_runtime: Runtime) -> None:
    words = {"yes": True, "Y": True, "true": True, "1": True, "GRANTED": True, " no ": False}
    words |= {"n": False, "False": False, "0": False, "Refused": False}
    rows = "".join(f"P{n},p{n}@example.com,{word}\n" for n, word in enumerate(words))
    assert _import(sqlite_runtime, "name,email,consent:profiling\n" + rows).created == len(words)
    for n, granted in enumerate(words.values()):
        assert _consents(sqlite_runtime, f"email:p{n}@example.com") == {PROFILING: granted}


def test_a_bad_consent_is_a_problem_of_its_row_and_nothing_is_written(runtime: Runtime) -> None:
    ann = make_customer(runtime, name="Ann", identities=["email:ann@example.com"])
    before = _counts(runtime)
    csv = (
        "name,email,consent:profiling,Consent:Contact\n"
        "Ann,ann@example.com,yes,yes\n"  # 2: fine
        "Bob,bob@example.com,maybe,\n"  # 3: bad
        "Cy,cy@example.com,no,opt-in\n"  # 4: bad
    )
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, csv)
    assert [(e.row, e.column, e.problem) for e in caught.value.report.errors] == [
        (
            3,
            "consent:profiling",
            "'maybe' is not a consent; use yes or no (true/false, 1/0, y/n, granted/refused)",
        ),
        (
            4,
            "Consent:Contact",
            "'opt-in' is not a consent; use yes or no (true/false, 1/0, y/n, granted/refused)",
        ),
    ]
    assert "2 of the 3 rows are bad; nothing was imported" in caught.value.message
    assert _counts(runtime) == before
    assert _consents(runtime, "email:ann@example.com") == {}
    with runtime.session() as db:
        assert customers.get(db, actor=SYSTEM, customer_id=ann).name == "Ann"


def test_a_column_naming_no_purpose_is_a_problem_of_the_header(sqlite_runtime: Runtime) -> None:
    with pytest.raises(ImportRejected) as caught:
        _import(sqlite_runtime, "name,email,consent:marketing\nAnn,ann@example.com,yes\n")
    assert "'consent:marketing' names no purpose of consent" in caught.value.message
    with pytest.raises(ImportRejected) as twice:
        _import(
            sqlite_runtime, "name,email,consent:profiling,Consent: Profiling\nAnn,ann@example.com,yes,no\n"
        )
    assert "is twice" in twice.value.message


def test_only_a_consent_that_differs_from_the_record_is_recorded_and_a_reimport_records_nothing(
    runtime: Runtime,
) -> None:
    ann = make_customer(runtime, name="Ann Patel", identities=["email:ann@example.com"])
    record_consent(runtime, ann, default_granted=False, profiling=True, contact=False)
    csv = (
        "name,email,consent:contact,consent:profiling,consent:personalisation\n"
        "Ann Patel,ann@example.com,yes,yes,no\n"
    )
    records, entries, versions = _counts(runtime)
    first = _import(runtime, csv)
    # Only consent changes: an update of the customer, though not of its record (no new version).
    assert (first.created, first.updated, first.unchanged) == (0, 1, 0)
    assert _counts(runtime) == (records + 2, entries + 1, versions)
    with runtime.session() as db:
        trail = customers.history(db, actor=SYSTEM, customer_id=ann)
    assert trail[0].summary == "Consent recorded: contact granted, personalisation refused"
    assert trail[0].details == {"consent": {"contact": True, "personalisation": False}, "source": "import"}
    assert _consents(runtime, "email:ann@example.com") == {
        CONTACT: True,
        PROFILING: True,
        PERSONALISATION: False,
    }

    after = _counts(runtime)
    again = _import(runtime, csv)
    assert (again.updated, again.unchanged) == (0, 1)
    assert _counts(runtime) == after


def test_importing_the_same_file_with_consent_twice_changes_nothing(runtime: Runtime) -> None:
    _import(runtime, CONSENTING)
    before = _counts(runtime)
    again = _import(runtime, CONSENTING)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert _counts(runtime) == before


def test_rows_merged_in_a_file_keep_the_later_non_empty_consent(runtime: Runtime) -> None:
    csv = (
        "name,email,identity:crm,consent:contact,consent:profiling\n"
        "Ann,ann@example.com,,yes,no\n"
        "Ann Patel,,C1,,yes\n"  # no identity of row 2: a customer of its own
        "Ann P,ann@example.com,C1,,\n"  # row 2's and row 3's identities: two customers, bad
        "Ann Patel,ann@example.com,,no,\n"  # merged into row 2: contact now refused, profiling kept
    )
    with pytest.raises(ImportRejected):
        _import(runtime, csv)
    report = _import(runtime, csv, skip_bad_rows=True)
    assert (report.created, report.merged, report.skipped) == (2, 1, 1)
    assert _consents(runtime, "email:ann@example.com") == {CONTACT: False, PROFILING: False}
    assert _consents(runtime, "crm:C1") == {PROFILING: True}


def test_map_reads_consent_from_a_crm_column(runtime: Runtime) -> None:
    csv = "Full Name,E-Mail,GDPR Opt-in,Newsletter\nAnn Patel,ann@example.com,Yes,No\n"
    mapping = {"name": "Full Name", "email": "E-Mail", "consent:profiling": "GDPR Opt-in"}
    mapping["consent:contact"] = "newsletter"  # as the map finds any column: without case
    assert _import(runtime, csv, mapping=mapping).created == 1
    assert _consents(runtime, "email:ann@example.com") == {PROFILING: True, CONTACT: False}
    with runtime.session() as db:
        ann = customers.get_by_identity(db, actor=SYSTEM, identity="email:ann@example.com")
        assert ann.attributes == {}


def test_the_preview_shows_each_rows_consent_and_counts_a_consent_change_as_an_update(
    runtime: Runtime,
) -> None:
    ann = make_customer(runtime, name="Ann Patel", identities=["email:ann@example.com"])
    bob = make_customer(runtime, name="Bob Stone", identities=["email:bob@example.com"])
    record_consent(runtime, bob, default_granted=False, profiling=True)
    before = _counts(runtime)
    csv = (
        "name,email,consent:profiling\n"
        "Ann Patel,ann@example.com,yes\n"  # nothing recorded: a change
        "Bob Stone,bob@example.com,y\n"  # granted already
        "Cy Young,cy@example.com,no\n"
    )
    report = _import(runtime, csv, dry_run=True)
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert [(p.row, p.outcome, p.customer_id, p.consent) for p in report.preview] == [
        (2, ImportOutcome.UPDATE, ann, {PROFILING: True}),
        (3, ImportOutcome.UNCHANGED, bob, {PROFILING: True}),
        (4, ImportOutcome.CREATE, None, {PROFILING: False}),
    ]
    assert report.preview[0].attributes == {}
    assert _counts(runtime) == before


def test_an_export_holds_the_recorded_consent_and_imports_back_unchanged(runtime: Runtime) -> None:
    ann = make_customer(
        runtime, name="Ann", identities=["email:ann@example.com"], attributes={"city": "Leeds"}
    )
    bob = make_customer(runtime, name="Bob", identities=["email:bob@example.com"])
    make_customer(runtime, name="Cy", identities=["email:cy@example.com"])  # nothing recorded
    record_consent(runtime, ann, default_granted=False, contact=True, profiling=False)
    record_consent(runtime, ann, default_granted=False, profiling=True)  # the latest record is the consent
    record_consent(runtime, bob, default_granted=False, personalisation=False)

    data = export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV)
    lines = data.decode().splitlines()
    assert (
        lines[0] == "id,kind,name,identities,consent:contact,consent:profiling,consent:personalisation,city"
    )
    assert [line.split(",", 1)[1] for line in lines[1:]] == [
        "person,Ann,email:ann@example.com,yes,yes,,Leeds",
        "person,Bob,email:bob@example.com,,,no,",
        "person,Cy,email:cy@example.com,,,,",
    ]
    before = _counts(runtime)
    report = _import(runtime, data.decode())
    assert (report.updated, report.unchanged, report.errors) == (0, 3, [])
    assert _counts(runtime) == before

    # Into another store: the same consents, recorded anew; nothing where nothing was recorded.
    empty_all_tables(runtime.engine)
    assert _import(runtime, data.decode()).created == 3
    assert _consents(runtime, "email:ann@example.com") == {CONTACT: True, PROFILING: True}
    assert _consents(runtime, "email:bob@example.com") == {PERSONALISATION: False}
    assert _consents(runtime, "email:cy@example.com") == {}


def test_an_attribute_named_like_a_consent_column_is_exported_as_an_attribute(
    sqlite_runtime: Runtime,
) -> None:
    make_customer(sqlite_runtime, name="Ann", identities=["crm:A1"], attributes={"consent:profiling": "x"})
    header = export_bytes(sqlite_runtime, ExportKind.CUSTOMERS, Format.CSV).decode().splitlines()[0]
    assert header.endswith(",consent:personalisation,attribute:consent:profiling")

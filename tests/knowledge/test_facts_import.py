"""Facts CSV import: customers by id or identity, suggested categories, all or nothing, a report per row."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.customers.schemas import CustomerKind
from segone.errors import Forbidden
from segone.importing import ImportRejected
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts.importer import FactImportReport, import_facts
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from segone.views import merge
from tests.factories import MadeUser, make_customer, make_user


@pytest.fixture(autouse=True)
def _rules_only(runtime: Runtime) -> None:
    shutil.rmtree(runtime.settings.data_dir / "models", ignore_errors=True)


def _import(runtime: Runtime, data: str, actor: MadeUser | None = None, **options: bool) -> FactImportReport:
    with runtime.session() as db:
        return import_facts(
            db,
            actor=actor.actor if actor else SYSTEM,
            data=data,
            categories=categories_in_force(runtime.settings),
            data_dir=runtime.settings.data_dir,
            **options,
        )


def _count(runtime: Runtime) -> tuple[int, int]:
    with runtime.session() as db:
        return (
            int(db.scalar(select(func.count(Differentiator.id))) or 0),
            int(db.scalar(select(func.count(AuditEntry.id))) or 0),
        )


def test_rows_become_facts_with_suggested_categories_and_history(runtime: Runtime) -> None:
    ann = make_customer(runtime, identities=["crm:C001"])
    shop = make_customer(runtime, kind=CustomerKind.BUSINESS, identities=["crm:B002"])
    employee = make_user(runtime)
    analyst = make_user(runtime, Role.ANALYST)
    data = (
        "Customer,Text,Category,Learned By,Learned At,CRM note id\n"
        f"crm:C001,Has two children at home,family,{employee.email.upper()},2024-03-01,n1\n"
        f"{ann},Worried about   the cost of lessons,,,2024-03-02T14:30:00+01:00,n2\n"
        "CRM:B002,Plans to expand into a second site next year,,,,n3\n"
    )
    report = _import(runtime, data, analyst)
    assert (report.rows, report.created, report.unchanged, report.errors) == (3, 3, 0, [])
    assert [(s.row, s.category) for s in report.suggested] == [(3, "worries"), (4, "growth_plans")]
    assert report.ignored_columns == ["CRM note id"]
    with runtime.session() as db:
        facts = db.scalars(select(Differentiator).order_by(Differentiator.id)).all()
        assert [(f.customer_id, f.text, f.category, f.learned_by_id) for f in facts] == [
            (ann, "Has two children at home", "family", employee.id),
            (ann, "Worried about the cost of lessons", "worries", analyst.id),
            (shop, "Plans to expand into a second site next year", "growth_plans", analyst.id),
        ]
        assert facts[0].learned_at == datetime(2024, 3, 1, tzinfo=UTC)
        assert facts[1].learned_at == datetime(2024, 3, 2, 13, 30, tzinfo=UTC)
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "differentiator.added")).all()
        assert len(entries) == 3 and {e.actor_email for e in entries} == {analyst.email}
    # The same file again adds nothing, and writes no history.
    before = _count(runtime)
    again = _import(runtime, data, analyst)
    assert (again.created, again.unchanged, again.suggested) == (0, 3, [])
    assert _count(runtime) == before and before[0] == 3


def test_bad_rows_are_each_named_and_nothing_is_written(runtime: Runtime) -> None:
    make_customer(runtime, identities=["crm:C001"])
    before = _count(runtime)
    data = (
        "customer,text,category,learned_by,learned_at\n"
        "crm:C001,Has two children,family,,\n"  # good
        "crm:NOPE,Likes jazz,,,\n"  # unknown identity
        "crm:C001,,family,,\n"  # no text
        "crm:C001,Opening a second store,growth_plans,,\n"  # business category for a person
        "crm:C001,Sings in a choir,hobbies,,\n"  # unknown category
        "crm:C001,Walks the dog,,nobody@example.com,\n"  # unknown employee
        "crm:C001,Runs marathons,,,next tuesday\n"  # not a date
        "crm:C001,Runs marathons,,,2999-01-01\n"  # the future
        "99999,Collects stamps,,,\n"  # unknown id
        "not an identity,Collects coins,,,\n"
        ",Has a cat,,,\n"
        "crm:C001,too,many,values,here,and,more\n"
    )
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, data)
    report = caught.value.report
    assert "11 of the 12 rows are bad; nothing was imported" in caught.value.message
    assert [(p.row, p.column) for p in report.errors] == [
        (3, "customer"),
        (4, "text"),
        (5, "category"),
        (6, "category"),
        (7, "learned_by"),
        (8, "learned_at"),
        (9, "learned_at"),
        (10, "customer"),
        (11, "customer"),
        (12, "customer"),
        (13, None),
    ]
    problems = {p.row: p.problem for p in report.errors}
    assert "no customer has the identity crm:NOPE" in problems[3]
    assert "business category" in problems[5]
    assert "'hobbies' is not a category" in problems[6]
    assert "in the future" in problems[9]
    assert "there is no customer 99999" in problems[10]
    assert "header has 5 columns" in problems[13]
    assert _count(runtime) == before
    # A dry run names the same rows.
    with pytest.raises(ImportRejected, match=r"dry run"):
        _import(runtime, data, dry_run=True)


def test_a_dry_run_reports_and_writes_nothing(runtime: Runtime) -> None:
    make_customer(runtime, identities=["crm:C001"])
    before = _count(runtime)
    report = _import(runtime, "customer,text\ncrm:C001,Sings in a choir at weekends\n", dry_run=True)
    assert report.dry_run and report.created == 1
    assert [(s.row, s.category) for s in report.suggested] == [(2, "free_time")]
    assert _count(runtime) == before


def test_a_merged_customer_s_facts_go_to_the_survivor(runtime: Runtime) -> None:
    survivor = make_customer(runtime, identities=["crm:A"])
    merged = make_customer(runtime, identities=["crm:B"])
    with runtime.session() as db:
        merge.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
    _import(runtime, f"customer,text,category\n{merged},Has two children,family\n")
    with runtime.session() as db:
        assert db.scalars(select(Differentiator.customer_id)).all() == [survivor]


def test_the_header_needs_customer_and_text(sqlite_runtime: Runtime) -> None:
    with pytest.raises(ImportRejected, match="no 'text' column"):
        _import(sqlite_runtime, "customer,note\n1,x\n")
    with pytest.raises(ImportRejected, match="empty"):
        _import(sqlite_runtime, "")


def test_only_roles_that_may_import_data_can_import(runtime: Runtime) -> None:
    make_customer(runtime, identities=["crm:C001"])
    for role in (Role.FRONTLINE, Role.MANAGER):
        with pytest.raises(Forbidden):
            _import(runtime, "customer,text\ncrm:C001,Likes jazz\n", make_user(runtime, role))


def test_the_report_names_the_encoding_and_formula_looking_cells(sqlite_runtime: Runtime) -> None:
    make_customer(sqlite_runtime, identities=["crm:C001"])
    data = 'customer,text\ncrm:C001,"=HYPERLINK(""https://x.example"",""Zoë\'s café"")"\n'.encode("cp1252")
    with sqlite_runtime.session() as db:
        report = import_facts(
            db,
            actor=SYSTEM,
            data=data,
            categories=categories_in_force(sqlite_runtime.settings),
            data_dir=sqlite_runtime.settings.data_dir,
            dry_run=True,
        )
    assert (report.encoding, report.created) == ("windows-1252", 1)
    assert [(w.row, w.column, w.problem) for w in report.warnings] == [
        (2, "text", "looks like a spreadsheet formula; stored as text")
    ]

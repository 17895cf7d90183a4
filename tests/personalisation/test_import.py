"""The catalogue's CSV import on SQLite and PostgreSQL: upsert by key, a row-by-row report of bad rows
with nothing written, dry runs, and what an empty cell or a missing column means."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Forbidden
from segone.importing import ImportRejected
from segone.personalisation import importer
from segone.personalisation import service as offerings
from segone.personalisation.schemas import ImportOutcome, OfferingCreate, PriceBand
from segone.runtime import Runtime
from tests.factories import make_user

EXAMPLE = Path(__file__).parents[2] / "examples" / "offerings.csv"
CATALOGUE = (
    "key,name,description,price_band,needs,active,lessons\n"
    "guitar-lessons-10,Ten guitar lessons,One a week,$50-200,learn an instrument;Music,yes,10\n"
    "repair-basic,Basic repair,,under $50,repair,,\n"
)


def _import(runtime: Runtime, data: str | bytes, *, dry_run: bool = False) -> importer.OfferingImportReport:
    with runtime.session() as db:
        return importer.import_offerings(db, actor=SYSTEM, data=data, dry_run=dry_run)


def _audit_count(runtime: Runtime) -> int:
    with runtime.session() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_catalogue_imports_and_a_second_import_changes_nothing(runtime: Runtime) -> None:
    report = _import(runtime, CATALOGUE)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert report.attributes == ["lessons"]
    assert [row.outcome for row in report.preview] == [ImportOutcome.CREATE, ImportOutcome.CREATE]
    with runtime.session() as db:
        guitar = offerings.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10")
        repair = offerings.get_by_key(db, actor=SYSTEM, key="repair-basic")
    assert guitar.needs == ["learn an instrument", "music"]
    assert guitar.price_band is PriceBand.FROM_50_TO_200 and guitar.attributes == {"lessons": "10"}
    assert repair.active and repair.attributes == {} and repair.description == ""
    assert _audit_count(runtime) == 2

    again = _import(runtime, CATALOGUE)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert _audit_count(runtime) == 2


def test_a_row_states_the_offering_for_the_columns_the_file_has(runtime: Runtime) -> None:
    _import(runtime, CATALOGUE)
    report = _import(runtime, "key,name,needs,active,lessons\nguitar-lessons-10,Guitar lessons,,no,\n")
    assert (report.created, report.updated) == (0, 1)
    with runtime.session() as db:
        guitar = offerings.get_by_key(db, actor=SYSTEM, key="guitar-lessons-10")
        entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    # Emptied: needs, the attribute; set: name, active; kept (no column): description, price band.
    assert (guitar.name, guitar.needs, guitar.active, guitar.attributes) == ("Guitar lessons", [], False, {})
    assert (guitar.description, guitar.price_band) == ("One a week", PriceBand.FROM_50_TO_200)
    assert entry is not None and entry.action == "offering.updated"
    assert entry.details["source"] == "csv import" and entry.details["active"] == {"from": True, "to": False}


def test_bad_rows_are_each_named_and_nothing_is_written(runtime: Runtime) -> None:
    with runtime.session() as db:
        offerings.create(db, actor=SYSTEM, data=OfferingCreate(key="kept", name="Kept as it was"))
    data = (
        "key,name,price_band,needs,active\n"
        "kept,Changed,,,\n"
        "a/b,,cheap,,maybe\n"
        "new-one,New,,,\n"
        "new-one,New again,,,\n"
        "short,row\n"
    )
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, data)
    problems = [(p.row, p.column) for p in caught.value.problems]
    assert problems == [(3, "key"), (3, "name"), (3, "price_band"), (3, "active"), (5, "key"), (6, None)]
    assert "3 of the 5 rows are bad; nothing was imported" in caught.value.message
    assert "on row 4 too" in caught.value.problems[4].problem
    with runtime.session() as db:
        assert offerings.get_by_key(db, actor=SYSTEM, key="kept").name == "Kept as it was"
        assert offerings.list_offerings(db, actor=SYSTEM).total == 1


def test_a_dry_run_reports_and_writes_nothing(runtime: Runtime) -> None:
    report = _import(runtime, CATALOGUE, dry_run=True)
    assert report.dry_run and report.created == 2
    with runtime.session() as db:
        assert offerings.list_offerings(db, actor=SYSTEM).total == 0
    with pytest.raises(ImportRejected) as caught:
        _import(runtime, "key,name\nx,\n", dry_run=True)
    assert caught.value.report.dry_run and "dry run: nothing was written" in caught.value.message


def test_a_file_without_key_or_name_is_refused_at_its_header(runtime: Runtime) -> None:
    with pytest.raises(ImportRejected, match=r"Header \(line 1\): the header has 2 problems") as caught:
        _import(runtime, "title,price\nGuitar,10\n")
    assert [p.column for p in caught.value.problems] == ["key", "name"]
    with pytest.raises(ImportRejected, match="is twice"):
        _import(runtime, "key,name,Name\na,b,c\n")


def test_only_administrators_import_the_catalogue(runtime: Runtime) -> None:
    analyst = make_user(runtime, Role.ANALYST).actor
    with runtime.session() as db, pytest.raises(Forbidden, match="manage settings"):
        importer.import_offerings(db, actor=analyst, data=CATALOGUE)


def test_the_example_catalogue_imports(runtime: Runtime) -> None:
    report = _import(runtime, EXAMPLE.read_bytes())
    assert report.created == report.rows >= 5 and not report.warnings

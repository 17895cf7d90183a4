"""Customers out and back in: an export imported into an empty store gives the same customers, identities
and attributes (the layout of docs/import.md), in constant memory, recorded in the audit trail."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import SYSTEM, Actor, Role
from segone.customers import service as customers
from segone.customers.importer import import_customers
from segone.customers.models import Customer
from segone.errors import Forbidden
from segone.exporting import Format, encode, stream
from segone.importing import read_sheet
from segone.runtime import Runtime
from segone.views import exports
from segone.views import merge as merging
from segone.views.exports import ExportKind
from tests.conftest import empty_all_tables
from tests.factories import make_customer, make_user

SOURCE = (
    "name,kind,email,phone,identity:crm,identities,city,segment,notes\n"
    "Ann Patel,person,ann@example.com,0113 496 0000,C001,shop:77;web:ann,Leeds,Regular,\n"
    '"=HYPERLINK(""http://evil.example"",""click"")",business,office@hartley.example,,C002,,York,+44 key,\n'
    'Minus Sign,person,minus@example.com,,,,\'-5,@home,"two\nlines, and a comma"\n'
    '"Zoë ""Quotes"" Ünal",person,,,C004,loyalty:L-778,Zürich,,\n'
)
Snapshot = dict[str, tuple[str, list[str], dict[str, Any]]]


def export_bytes(runtime: Runtime, what: ExportKind, fmt: Format, actor: Actor = SYSTEM) -> bytes:
    with runtime.session() as db:
        started = exports.start(db, actor=actor, what=what, fmt=fmt)
    return b"".join(stream(started, fmt, runtime.session))


def snapshot(runtime: Runtime) -> Snapshot:
    """Every customer not merged away, by name: kind, identities in the order added, attributes."""
    with runtime.session() as db:
        ids = db.scalars(select(Customer.id).where(Customer.merged_into_id.is_(None)))
        found = [customers.to_out(customers.get(db, actor=SYSTEM, customer_id=i)) for i in ids]
    return {c.name: (c.kind.value, c.identities, c.attributes) for c in found}


def without_ids(text: str) -> list[list[str]]:
    return [row[1:] for row in csv.reader(io.StringIO(text, newline=""))]


def import_into_empty_store(runtime: Runtime, data: bytes) -> None:
    empty_all_tables(runtime.engine)
    with runtime.session() as db:
        report = import_customers(db, actor=SYSTEM, data=data)
    assert report.errors == [] and report.updated == 0 and report.unchanged == 0, report


def test_an_export_imported_into_an_empty_store_gives_the_same_customers(runtime: Runtime) -> None:
    with runtime.session() as db:
        import_customers(db, actor=SYSTEM, data=SOURCE)
    # Attribute names the import would read as its own columns, or as one column twice.
    make_customer(
        runtime,
        name="Awkward Attributes",
        identities=["email:awkward@example.com", "email:second@example.com", "crm:C005"],
        attributes={
            "email": "not an identity",
            "id": "EXT-1",
            "Kind": "gold",
            "identity:crm": "C999",
            "City": "Bath",
            "city": "bath",
            "=calc": "=1+1",
            " padded ": "kept",
        },
    )
    before = snapshot(runtime)
    assert before['=HYPERLINK("http://evil.example","click")'][2]["segment"] == "+44 key"
    assert before["Minus Sign"][2] == {"city": "-5", "segment": "@home", "notes": "two\nlines, and a comma"}

    data = export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV)
    text = data.decode("utf-8")
    assert text.startswith("id,kind,name,identities,")
    assert '\'=HYPERLINK(""http://evil.example"",""click"")' in text  # quoted and guarded
    assert "'+44 key" in text and "'-5" in text and "'@home" in text
    assert "attribute:email" in text and "attribute:City" in text and "attribute:=calc" not in text

    import_into_empty_store(runtime, data)
    assert snapshot(runtime) == before
    # And the export of the copy is the same file, but for the ids of the new store.
    again = export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV).decode("utf-8")
    assert without_ids(again) == without_ids(text)


def test_importing_the_export_again_into_the_same_store_changes_nothing(runtime: Runtime) -> None:
    with runtime.session() as db:
        import_customers(db, actor=SYSTEM, data=SOURCE)
    data = export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV)
    with runtime.session() as db:
        report = import_customers(db, actor=SYSTEM, data=data)
    assert (report.rows, report.created, report.updated, report.unchanged) == (4, 0, 0, 4)


def test_numbers_and_true_false_come_back_as_text(runtime: Runtime) -> None:
    make_customer(runtime, name="Typed", identities=["crm:T1"], attributes={"since": 2019, "vip": True})
    import_into_empty_store(runtime, export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV))
    assert snapshot(runtime)["Typed"][2] == {"since": "2019", "vip": "true"}


def test_parquet_holds_the_same_cells_unguarded_with_typed_ids(runtime: Runtime) -> None:
    with runtime.session() as db:
        import_customers(db, actor=SYSTEM, data=SOURCE)
    data = export_bytes(runtime, ExportKind.CUSTOMERS, Format.PARQUET)
    table = pq.read_table(pa.BufferReader(data))
    assert table.schema.field("id").type == pa.int64()
    assert {table.schema.field(n).type for n in table.column_names if n != "id"} == {pa.string()}
    assert '=HYPERLINK("http://evil.example","click")' in table.column("name").to_pylist()
    as_csv = read_sheet(export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV), needs="")
    as_parquet = read_sheet(data, needs="", fmt="parquet")
    assert as_parquet.header == as_csv.header
    assert [cells for _, cells in as_parquet.rows] == [cells for _, cells in as_csv.rows]


def test_merged_records_are_left_out_and_their_identities_go_with_the_survivor(runtime: Runtime) -> None:
    survivor = make_customer(runtime, name="Survivor", identities=["crm:S1"])
    merged = make_customer(runtime, name="Duplicate", identities=["email:dup@example.com"])
    make_customer(runtime, name="Nobody Known", identities=[])
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=survivor, merged_id=merged)
    rows = export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV).decode().splitlines()
    assert rows[1:] == [
        f"{survivor},person,Survivor,crm:S1;email:dup@example.com,,,",
        f"{merged + 1},person,Nobody Known,,,,",  # exported; an import asks it for an identity
    ]


def test_pages_of_any_size_give_the_same_file(runtime: Runtime) -> None:
    for n in range(7):
        make_customer(runtime, identities=[f"crm:P{n}", f"email:p{n}@example.com"], attributes={"n": str(n)})
    with runtime.session() as db:
        merging.merge(db, actor=SYSTEM, survivor_id=1, merged_id=4)  # a gap in the ids of the pages
        whole = customers.export_customers(db, actor=SYSTEM)
        paged = customers.export_customers(db, actor=SYSTEM, batch_size=2)
        batches = list(paged.read(db))
        assert [len(b) for b in batches] == [2, 1, 2, 1]  # ids 1-2, 3 (4 was merged), 5-6, 7
        single = customers.export_customers(db, actor=SYSTEM, batch_size=1)
        assert [len(b) for b in single.read(db)] == [1] * 6  # a page of only a merged record gives none
        assert b"".join(encode(Format.CSV, paged.columns, batches)) == b"".join(
            encode(Format.CSV, whole.columns, whole.read(db))
        )
        assert whole.rows == 6


def test_an_export_is_recorded_in_the_audit_trail_and_needs_the_export_permission(runtime: Runtime) -> None:
    make_customer(runtime, identities=["crm:A1"])
    analyst = make_user(runtime, Role.ANALYST)
    export_bytes(runtime, ExportKind.CUSTOMERS, Format.PARQUET, actor=analyst.actor)
    with runtime.session() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()
        assert [(e.actor_id, e.actor_email, e.customer_id, e.details) for e in entries] == [
            (analyst.id, analyst.email, None, {"export": "customers", "format": "parquet", "rows": 1})
        ]
        assert entries[0].summary == "Exported 1 customers as PARQUET"
    for role in (Role.FRONTLINE, Role.MANAGER):
        with pytest.raises(Forbidden, match="may not export data"):
            export_bytes(runtime, ExportKind.CUSTOMERS, Format.CSV, actor=make_user(runtime, role).actor)
    with runtime.session() as db:
        assert len(db.scalars(select(AuditEntry).where(AuditEntry.action == "data.exported")).all()) == 1

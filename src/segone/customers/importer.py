"""Customer import from a CSV file: one row per customer, matched to existing customers by identity.

The mapping of the header (docs/import.md tells users the same):

- ``name`` (required) and ``kind`` (``person`` or ``business``; empty means person for a new customer
  and "leave as it is" for an existing one);
- identity columns: ``email``, ``phone``, ``identity:<system>`` (``identity:crm``), and ``identities``
  holding ``system:id;system:id``;
- every other column is an attribute; an empty cell leaves the attribute as it is.

A row whose identities belong to exactly one customer updates that customer, so importing the same file
twice changes nothing the second time. The import is all or nothing: every row is checked first and one
bad row means nothing is written, with a report that names every bad row. ``dry_run`` only checks.
Writes go in batches (bulk inserts, one identity lookup per few thousand keys) so that a file of 100,000
rows imports in seconds, with the same rows and audit entries the customer service would write.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segone.accounts.models import AuditEntry
from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import repository
from segone.customers.models import Customer, CustomerIdentity
from segone.customers.schemas import ImportProblem, ImportReport, parse_identity
from segone.errors import Conflict, Invalid
from segone.storage import bulk

IDENTITY_PREFIX = "identity:"
KINDS = ("person", "business")
MAX_NAME = 300
BATCH = 2000
WRITE_BATCH = 10_000

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?\d{5,20}$")
_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,59}$")

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while an import runs."""

Key = tuple[str, str]
# Core tables: bulk inserts through them skip the ORM's per-row bookkeeping.
_CUSTOMERS = cast(Table, Customer.__table__)
_IDENTITIES = cast(Table, CustomerIdentity.__table__)
_AUDIT = cast(Table, AuditEntry.__table__)
T = TypeVar("T")


class ImportRejected(Invalid):
    """The file or some of its rows are bad; the report in ``details`` names every problem."""

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, details=report.model_dump(mode="json"))
        self.report = report


@dataclass(frozen=True)
class _Columns:
    width: int
    name: int
    kind: int | None
    identity: list[tuple[int, str, str]]  # (index, header, system): email, phone, identity:<system>
    identities: int | None
    attributes: list[tuple[int, str]]
    unnamed: list[int]


@dataclass
class _Row:
    line: int
    name: str
    kind: str | None
    identities: dict[Key, str]  # identity -> the column it came from
    attributes: dict[str, str]
    customer_id: int | None = None


@dataclass
class _Plan:
    creates: list[_Row] = field(default_factory=list)
    # (row, the customer's new column values, the changes as the audit trail records them)
    updates: list[tuple[_Row, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    new_identities: list[tuple[_Row, list[Key]]] = field(default_factory=list)
    unchanged: int = 0


def import_customers(
    db: Session,
    *,
    actor: Actor,
    data: bytes | str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import customers from CSV text; raises ``ImportRejected`` (an ``Invalid``) when rows are bad.

    With ``skip_bad_rows`` the good rows are imported and the bad ones only reported.
    """
    require(actor, Permission.IMPORT_DATA)
    report = _progress(progress)
    header_line, header, raw_rows = _read(_decode(data))
    columns = _columns(header_line, header)

    parsed: list[_Row] = []
    problems: list[ImportProblem] = []
    for done, (line, values) in enumerate(raw_rows, start=1):
        row, row_problems = _parse_row(line, values, columns)
        problems.extend(row_problems)
        if row is not None:
            parsed.append(row)
        if done % BATCH == 0:
            report("Checking rows", done, len(raw_rows))
    report("Checking rows", len(raw_rows), len(raw_rows))

    # An identity may be on one row only, whether or not that row has other problems too.
    problems.extend(_duplicates(parsed))
    bad_lines = {p.row for p in problems}
    rows = [row for row in parsed if row.line not in bad_lines]
    owners = repository.identity_owners(db, keys=[key for row in rows for key in row.identities])
    rows, match_problems = _matched(rows, owners)
    problems.extend(match_problems)
    problems.sort(key=lambda p: p.row or 0)
    bad_rows = len({p.row for p in problems})

    if problems and not skip_bad_rows and not dry_run:
        raise ImportRejected(
            f"{bad_rows} of the {len(raw_rows)} rows {'is' if bad_rows == 1 else 'are'} bad; nothing was "
            "imported. Fix every row the report names and import the file again.",
            ImportReport(
                dry_run=False, rows=len(raw_rows), created=0, updated=0, unchanged=0, errors=problems
            ),
        )

    plan = _plan(db, rows, owners)
    result = ImportReport(
        dry_run=dry_run,
        rows=len(raw_rows),
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        skipped=bad_rows if skip_bad_rows else 0,
        errors=problems,
    )
    if dry_run:
        if problems and not skip_bad_rows:
            raise ImportRejected(
                f"{bad_rows} of the {len(raw_rows)} rows {'is' if bad_rows == 1 else 'are'} bad "
                "(dry run: nothing was written).",
                result,
            )
        return result
    try:
        _write(db, actor, plan, report)
    except IntegrityError as exc:
        raise Conflict(
            "Another change to the same customers was saved while this file was imported; nothing was "
            "imported. Import the file again."
        ) from exc
    return result


def _progress(callback: Progress | None) -> Progress:
    def report(stage: str, done: int, total: int) -> None:
        if callback is not None:
            callback(stage, done, total)

    return report


def _file_problem(line: int | None, message: str, column: str | None = None) -> ImportRejected:
    problem = ImportProblem(row=line, column=column, problem=message)
    return ImportRejected(
        message,
        ImportReport(dry_run=False, rows=0, created=0, updated=0, unchanged=0, errors=[problem]),
    )


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_problem(None, "The file is UTF-16 text; save it as UTF-8 (in Excel: 'CSV UTF-8').")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _file_problem(
            line, f"Line {line} is not UTF-8 text; save the file as UTF-8 (in Excel: 'CSV UTF-8')."
        ) from exc


def _read(text: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The header's line, the header, and each non-blank data row with the line where it starts."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # The header decides the delimiter: spreadsheets in many locales write ';' (values may hold ';').
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    end = 0
    try:
        for values in reader:
            start, end = end + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue
            if header is None:
                header, header_line = values, start
            else:
                rows.append((start, values))
    except csv.Error as exc:
        raise _file_problem(end + 1, f"Line {end + 1} is not valid CSV ({exc}).") from exc
    if header is None:
        raise _file_problem(None, "The file is empty: it needs a header line with at least a 'name' column.")
    return header_line, header, rows


def _columns(line: int, header: list[str]) -> _Columns:
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    name: int | None = None
    kind: int | None = None
    identities: int | None = None
    identity: list[tuple[int, str, str]] = []
    attributes: list[tuple[int, str]] = []
    unnamed: list[int] = []
    for index, raw in enumerate(header):
        title = raw.strip()
        key = title.lower()
        if not title:
            unnamed.append(index)
            continue
        if key in seen:
            problems.append(ImportProblem(row=line, column=title, problem=f"the column '{title}' is twice"))
            continue
        seen.add(key)
        if key == "name":
            name = index
        elif key == "kind":
            kind = index
        elif key == "identities":
            identities = index
        elif key in ("email", "phone"):
            identity.append((index, title, key))
        elif key.startswith(IDENTITY_PREFIX):
            system = key.removeprefix(IDENTITY_PREFIX).strip()
            if _SYSTEM.match(system):
                identity.append((index, title, system))
            else:
                problems.append(
                    ImportProblem(
                        row=line,
                        column=title,
                        problem=f"'{system}' is not a system name: use a letter, then a-z, 0-9, _ . -",
                    )
                )
        else:
            attributes.append((index, title))
    if name is None:
        found = ", ".join(f"'{h.strip()}'" for h in header if h.strip()) or "nothing"
        problems.insert(
            0,
            ImportProblem(
                row=line,
                column="name",
                problem=f"The file has no 'name' column (the header holds {found}); "
                "every customer needs one.",
            ),
        )
    if problems:
        message = (
            problems[0].problem
            if len(problems) == 1
            else f"The header of the file has {len(problems)} problems."
        )
        raise ImportRejected(
            message if problems[0].column == "name" else f"Header (line {line}): {message}",
            ImportReport(dry_run=False, rows=0, created=0, updated=0, unchanged=0, errors=problems),
        )
    assert name is not None
    return _Columns(len(header), name, kind, identity, identities, attributes, unnamed)


def normalise_identity(raw: str) -> Key:
    """An identity as stored; raises ValueError naming what is wrong."""
    system, value = parse_identity(raw)
    if system == "email" and not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an e-mail address")
    if system == "phone" and not _PHONE.match(value):
        raise ValueError(f"'{raw.partition(':')[2].strip()}' is not a phone number")
    return system, value


def _parse_row(line: int, values: list[str], columns: _Columns) -> tuple[_Row | None, list[ImportProblem]]:
    def problem(column: str | None, message: str) -> ImportProblem:
        return ImportProblem(row=line, column=column, problem=message)

    width = columns.width
    if len(values) < width or any(v.strip() for v in values[width:]):
        return None, [
            problem(
                None,
                f"the row has {len(values)} values but the header has {width} columns; look for a missing "
                "or extra delimiter, or an unclosed quote",
            )
        ]
    problems: list[ImportProblem] = []
    name = values[columns.name].strip()
    if not name:
        problems.append(problem("name", "the name is empty; every customer needs one"))
    elif len(name) > MAX_NAME:
        problems.append(problem("name", f"the name is {len(name)} characters long; at most {MAX_NAME}"))

    kind: str | None = None
    if columns.kind is not None:
        raw_kind = values[columns.kind].strip().lower()
        if raw_kind in KINDS:
            kind = raw_kind
        elif raw_kind:
            problems.append(problem("kind", f"'{raw_kind}' is not a kind; use person or business"))

    identities: dict[Key, str] = {}
    has_identity_problem = False
    candidates = [(title, f"{system}:{values[index].strip()}") for index, title, system in columns.identity]
    candidates = [(title, raw) for title, raw in candidates if raw.partition(":")[2]]
    if columns.identities is not None:
        for part in values[columns.identities].split(";"):
            if part.strip():
                candidates.append(("identities", part.strip()))
    for title, raw in candidates:
        try:
            identities.setdefault(normalise_identity(raw), title)
        except ValueError as exc:
            has_identity_problem = True
            problems.append(problem(title, str(exc)))
    if not identities and not has_identity_problem:
        problems.append(
            problem(
                None,
                "the row has no identity (email, phone, identity:<system> or identities); without one a "
                "second import could not find this customer again",
            )
        )
    for index in columns.unnamed:
        if values[index].strip():
            problems.append(problem(None, f"column {index + 1} holds a value but has no name in the header"))

    attributes = {key: values[index].strip() for index, key in columns.attributes if values[index].strip()}
    return _Row(line, name, kind, identities, attributes), problems


def _duplicates(rows: list[_Row]) -> list[ImportProblem]:
    """Rows that repeat an identity of an earlier row are bad (the earlier row is named)."""
    first: dict[Key, int] = {}
    problems: list[ImportProblem] = []
    for row in rows:
        for (system, value), column in row.identities.items():
            if (system, value) in first:
                problems.append(
                    ImportProblem(
                        row=row.line,
                        column=column,
                        problem=f"the identity {system}:{value} is on row {first[(system, value)]} too",
                    )
                )
        for key in row.identities:
            first.setdefault(key, row.line)
    return problems


def _matched(rows: list[_Row], owners: dict[Key, int]) -> tuple[list[_Row], list[ImportProblem]]:
    """Each row's existing customer, if any; a row may match one customer, and a customer one row."""
    claimed: dict[int, int] = {}
    kept: list[_Row] = []
    problems: list[ImportProblem] = []
    for row in rows:
        found = {owners[key] for key in row.identities if key in owners}
        if len(found) > 1:
            held = ", ".join(
                f"{s}:{v} (customer {owners[(s, v)]})" for s, v in row.identities if (s, v) in owners
            )
            problems.append(
                ImportProblem(
                    row=row.line,
                    column=None,
                    problem=f"the identities belong to different customers: {held}; merge those customers "
                    "first, or fix the row",
                )
            )
            continue
        if found:
            customer_id = found.pop()
            if customer_id in claimed:
                problems.append(
                    ImportProblem(
                        row=row.line,
                        column=None,
                        problem=f"the row is customer {customer_id}, like row {claimed[customer_id]}; "
                        "put each customer on one row",
                    )
                )
                continue
            claimed[customer_id] = row.line
            row.customer_id = customer_id
        kept.append(row)
    return kept, problems


def _same(old: Any, new: str) -> bool:
    """A CSV cell is text: "2019" equals a stored 2019, "true" a stored True."""
    if isinstance(old, str):
        return old == new
    if isinstance(old, bool):
        return str(old).lower() == new.lower()
    return old is not None and str(old) == new


def _chunks(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _plan(db: Session, rows: list[_Row], owners: dict[Key, int]) -> _Plan:
    plan = _Plan()
    matched = [row.customer_id for row in rows if row.customer_id is not None]
    existing = repository.profiles_by_id(db, customer_ids=matched)
    for row in rows:
        if row.customer_id is None:
            plan.creates.append(row)
            continue
        name, kind, attributes = existing[row.customer_id]
        changes: dict[str, Any] = {}
        if row.name != name:
            changes["name"] = {"from": name, "to": row.name}
        if row.kind is not None and row.kind != kind:
            changes["kind"] = {"from": kind, "to": row.kind}
        new_attributes = dict(attributes)
        for key, value in row.attributes.items():
            if not _same(attributes.get(key), value):
                changes[f"attributes.{key}"] = {"from": attributes.get(key), "to": value}
                new_attributes[key] = value
        added = [key for key in row.identities if key not in owners]
        if added:
            changes["identities_added"] = [f"{s}:{v}" for s, v in added]
            plan.new_identities.append((row, added))
        if not changes:
            plan.unchanged += 1
            continue
        values = {
            "id": row.customer_id,
            "name": row.name,
            "kind": row.kind or kind,
            "attributes": new_attributes,
        }
        plan.updates.append((row, values, changes))
    return plan


def _write(db: Session, actor: Actor, plan: _Plan, report: Progress) -> None:
    now = utcnow()
    total = len(plan.creates) + len(plan.updates)
    done = 0
    audit: list[dict[str, Any]] = []

    def audit_row(customer_id: int, action: str, summary: str, details: dict[str, Any]) -> dict[str, Any]:
        return {
            "at": now,
            "actor_id": actor.user_id,
            "actor_email": actor.email,
            "action": action,
            "customer_id": customer_id,
            "summary": summary,
            "details": details,
        }

    connection = db.connection()
    for chunk in _chunks(plan.creates, WRITE_BATCH):
        ids = bulk.insert_returning_ids(
            connection,
            _CUSTOMERS,
            [
                {
                    "kind": row.kind or "person",
                    "name": row.name,
                    "attributes": row.attributes,
                    "created_at": now,
                    "updated_at": now,
                    "merged_into_id": None,
                    "merged_at": None,
                }
                for row in chunk
            ],
        )
        bulk.insert_rows(
            connection,
            _IDENTITIES,
            [
                {"customer_id": cid, "system": system, "value": value, "created_at": now}
                for cid, row in zip(ids, chunk, strict=True)
                for system, value in row.identities
            ],
        )
        audit.extend(
            audit_row(
                cid,
                "customer.created",
                f"Customer {row.name} created",
                {"identities": [f"{s}:{v}" for s, v in row.identities], "source": "csv import"},
            )
            for cid, row in zip(ids, chunk, strict=True)
        )
        done += len(chunk)
        report("Writing customers", done, total)

    for update_chunk in _chunks(plan.updates):
        db.execute(
            update(Customer), [{**values, "updated_at": now} for _row, values, _changes in update_chunk]
        )
        audit.extend(
            audit_row(
                values["id"],
                "customer.updated",
                f"Customer {values['name']} updated: " + ", ".join(changes),
                {**changes, "source": "csv import"},
            )
            for _row, values, changes in update_chunk
        )
        done += len(update_chunk)
        report("Writing customers", done, total)

    new_identities = [
        {"customer_id": row.customer_id, "system": system, "value": value, "created_at": now}
        for row, keys in plan.new_identities
        for system, value in keys
    ]
    for identity_chunk in _chunks(new_identities):
        bulk.insert_rows(connection, _IDENTITIES, identity_chunk)
    for audit_chunk in _chunks(audit, WRITE_BATCH):
        bulk.insert_rows(connection, _AUDIT, audit_chunk)
    db.flush()

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

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Permission
from segone.accounts.service import record_audits, require
from segone.clock import utcnow
from segone.customers import repository
from segone.customers import service as customers
from segone.customers.models import Customer
from segone.customers.schemas import CustomerImportReport, parse_identity
from segone.errors import Conflict
from segone.importing import ImportProblem, ImportRejected, bad_rows_message, read_sheet, reported_as_dry_run
from segone.progress import Progress, silent
from segone.storage.batching import ROWS_PER_STATEMENT, chunks

IDENTITY_PREFIX = "identity:"
KINDS = ("person", "business")
MAX_NAME = 300
BATCH = 2000
WRITE_BATCH = 10_000

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?\d{5,20}$")
_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,59}$")

Key = tuple[str, str]


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
    progress: Progress = silent,
) -> CustomerImportReport:
    """Import customers from CSV text; raises ``ImportRejected`` (an ``Invalid``) when rows are bad.

    With ``skip_bad_rows`` the good rows are imported and the bad ones only reported.
    """
    require(actor, Permission.IMPORT_DATA)
    with reported_as_dry_run(dry_run):
        try:
            sheet = read_sheet(data, needs="at least a 'name' column")
        except ImportRejected as exc:
            raise ImportRejected(exc.message, _empty_report(exc.problems)) from exc
        columns = _columns(sheet.header_line, sheet.header)
    raw_rows = sheet.rows

    parsed: list[_Row] = []
    problems: list[ImportProblem] = []
    for done, (line, values) in enumerate(raw_rows, start=1):
        row, row_problems = _parse_row(line, values, columns)
        problems.extend(row_problems)
        if row is not None:
            parsed.append(row)
        if done % BATCH == 0:
            progress("Checking rows", done, len(raw_rows))
    progress("Checking rows", len(raw_rows), len(raw_rows))

    # An identity may be on one row only, whether or not that row has other problems too.
    problems.extend(_duplicates(parsed))
    bad_lines = {p.row for p in problems}
    rows = [row for row in parsed if row.line not in bad_lines]
    owners = customers.identity_owners(db, keys=[key for row in rows for key in row.identities])
    rows, match_problems = _matched(rows, owners)
    problems.extend(match_problems)
    problems.sort(key=lambda p: p.row or 0)
    bad_rows = len({p.row for p in problems})

    if problems and not skip_bad_rows and not dry_run:
        raise ImportRejected(
            bad_rows_message(bad_rows, len(raw_rows)), _empty_report(problems, rows=len(raw_rows))
        )

    plan = _plan(db, rows, owners)
    result = CustomerImportReport(
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
            raise ImportRejected(bad_rows_message(bad_rows, len(raw_rows), dry_run=True), result)
        return result
    try:
        _write(db, actor, plan, progress)
    except IntegrityError as exc:
        raise Conflict(
            "Another change to the same customers was saved while this file was imported; nothing was "
            "imported. Import the file again."
        ) from exc
    return result


def _empty_report(problems: list[ImportProblem], rows: int = 0) -> CustomerImportReport:
    return CustomerImportReport(rows=rows, created=0, updated=0, unchanged=0, errors=problems)


def _columns(line: int | None, header: list[str]) -> _Columns:
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
        where = f"Header (line {line})" if line else "Header"
        raise ImportRejected(
            message if problems[0].column == "name" else f"{where}: {message}", _empty_report(problems)
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


def _write(db: Session, actor: Actor, plan: _Plan, progress: Progress) -> None:
    now = utcnow()
    total = len(plan.creates) + len(plan.updates)
    done = 0
    audit: list[AuditRecord] = []
    for chunk in chunks(plan.creates, WRITE_BATCH):
        new = [(row.kind or "person", row.name, row.attributes, row.identities) for row in chunk]
        ids = repository.insert_customers(db, new, at=now)
        audit.extend(
            AuditRecord.by(
                actor,
                AuditAction.CUSTOMER_CREATED,
                f"Customer {row.name} created",
                customer_id=customer_id,
                details={"identities": [f"{s}:{v}" for s, v in row.identities], "source": "csv import"},
                at=now,
            )
            for customer_id, row in zip(ids, chunk, strict=True)
        )
        done += len(chunk)
        progress("Writing customers", done, total)

    for update_chunk in chunks(plan.updates, ROWS_PER_STATEMENT):
        db.execute(
            update(Customer), [{**values, "updated_at": now} for _row, values, _changes in update_chunk]
        )
        audit.extend(
            AuditRecord.by(
                actor,
                AuditAction.CUSTOMER_UPDATED,
                f"Customer {values['name']} updated: " + ", ".join(changes),
                customer_id=values["id"],
                details={**changes, "source": "csv import"},
                at=now,
            )
            for _row, values, changes in update_chunk
        )
        done += len(update_chunk)
        progress("Writing customers", done, total)

    new_identities = [
        (row.customer_id, system, value)
        for row, keys in plan.new_identities
        if row.customer_id is not None
        for system, value in keys
    ]
    repository.insert_identities(db, new_identities, at=now)
    record_audits(db, audit)
    db.flush()

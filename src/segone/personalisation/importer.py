"""The catalogue from a CSV file (docs/personalisation.md tells users the same): one row per offering,
matched to the stored catalogue by ``key``.

- ``key`` and ``name`` (required); ``description``; ``price_band`` (``under_50``, ``50_200``,
  ``200_plus``, or in words: ``under $50``, ``$50-200``, ``$200+``); ``needs`` (tags separated by ``;``);
  ``active`` (yes/no, true/false, 1/0; empty means yes);
- every other column is an attribute (``attribute:<name>`` names one whose title is a field's).

A row states the offering for every column the file has: an empty cell empties the field (removes the
attribute); a column the file lacks leaves the field as it is. An offering the file does not name is left
alone. Importing the same file twice changes nothing the second time. All or nothing: every row is checked
first, and one bad row means nothing is written, with a report naming every bad row. ``dry_run`` only
checks. Each offering created or changed has its audit entry, as if changed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Permission
from segone.accounts.service import record_audits, require
from segone.clock import utcnow
from segone.errors import Conflict
from segone.importing import (
    ImportProblem,
    ImportRejected,
    bad_rows_message,
    formula_warnings,
    normalise_header,
    read_sheet,
    reported_as_dry_run,
    row_width_problem,
)
from segone.personalisation.models import Offering
from segone.personalisation.schemas import (
    DESCRIPTION_MAX,
    NAME_MAX,
    ImportOutcome,
    OfferingImportReport,
    OfferingPreviewRow,
    check_attributes,
    check_key,
    clean_needs,
    parse_price_band,
)
from segone.progress import Progress, silent
from segone.storage.batching import chunks, values_per_statement

FIELDS = ("key", "name", "description", "price_band", "needs", "active")
REQUIRED = ("key", "name")
ATTRIBUTE_PREFIX = "attribute:"
NEEDS_SEPARATOR = ";"
PREVIEW_ROWS = 10
BATCH = 1000
_YES = {"", "yes", "y", "true", "1", "active"}
_NO = {"no", "n", "false", "0", "inactive"}


@dataclass(frozen=True)
class _Columns:
    width: int
    fields: dict[str, int]
    attributes: dict[str, int]
    unnamed: list[int]


@dataclass
class _Row:
    line: int
    key: str
    values: dict[str, Any]
    """The fields and attributes the file has, as stored (attributes under ``attributes``)."""
    outcome: ImportOutcome = ImportOutcome.BAD


@dataclass
class _Plan:
    creates: list[_Row] = field(default_factory=list)
    updates: list[tuple[Offering, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0


def import_offerings(
    db: Session,
    *,
    actor: Actor,
    data: bytes | str,
    dry_run: bool = False,
    encoding: str | None = None,
    progress: Progress = silent,
) -> OfferingImportReport:
    """Create and update offerings from CSV text; raises ``ImportRejected`` (an ``Invalid``) when the file
    or rows are bad, naming every problem."""
    require(actor, Permission.MANAGE_SETTINGS)
    with reported_as_dry_run(dry_run):
        try:
            sheet = read_sheet(data, needs="the columns key and name", encoding=encoding)
        except ImportRejected as exc:
            raise ImportRejected(exc.message, OfferingImportReport(errors=exc.problems)) from exc
        columns = _columns(sheet.header_line, sheet.header)
    warnings = formula_warnings(sheet.header, sheet.rows)

    rows: list[_Row] = []
    problems: list[ImportProblem] = []
    first_line: dict[str, int] = {}
    for done, (line, values) in enumerate(sheet.rows, start=1):
        row, row_problems = _parse(line, values, columns)
        if row is not None and row.key:
            earlier = first_line.setdefault(row.key, line)
            if earlier != line:
                row_problems.append(
                    ImportProblem(
                        row=line, column="key", problem=f"the key '{row.key}' is on row {earlier} too"
                    )
                )
        problems.extend(row_problems)
        if row is not None:
            rows.append(row)
        if done % BATCH == 0:
            progress("Checking rows", done, len(sheet.rows))
    progress("Checking rows", len(sheet.rows), len(sheet.rows))

    bad = {p.row for p in problems}
    good = [row for row in rows if row.line not in bad]
    plan = _plan(db, good)
    report = OfferingImportReport(
        dry_run=dry_run,
        rows=len(sheet.rows),
        encoding=sheet.encoding,
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        attributes=list(columns.attributes),
        errors=problems,
        warnings=warnings,
        preview=[
            OfferingPreviewRow(
                row=row.line, key=row.key, name=str(row.values.get("name", "")), outcome=row.outcome
            )
            for row in rows[:PREVIEW_ROWS]
        ],
    )
    if problems:
        raise ImportRejected(bad_rows_message(len(bad), len(sheet.rows), dry_run=dry_run), report)
    if dry_run:
        return report
    try:
        _write(db, actor, plan)
    except IntegrityError as exc:
        raise Conflict(
            "Another change to the catalogue was saved while this file was imported; nothing was imported. "
            "Import the file again."
        ) from exc
    progress(
        "Writing offerings", len(plan.creates) + len(plan.updates), len(plan.creates) + len(plan.updates)
    )
    return report


def _columns(line: int | None, header: list[str]) -> _Columns:
    problems: list[ImportProblem] = []
    fields: dict[str, int] = {}
    attributes: dict[str, int] = {}
    unnamed: list[int] = []
    for index, title in enumerate(header):
        name = normalise_header(title)
        if not name:
            unnamed.append(index)
            continue
        if name in FIELDS:
            target, label = fields, name
        else:
            target, label = attributes, title.strip()
            if label.lower().startswith(ATTRIBUTE_PREFIX):
                label = label[len(ATTRIBUTE_PREFIX) :].strip()
            if not label:
                problems.append(
                    ImportProblem(row=line, column=title.strip(), problem="the column names no attribute")
                )
                continue
        if label in target:
            problems.append(ImportProblem(row=line, column=title.strip(), problem="the column is twice"))
            continue
        target[label] = index
    for name in REQUIRED:
        if name not in fields:
            problems.append(
                ImportProblem(
                    row=line,
                    column=name,
                    problem=f"the file has no '{name}' column; the columns are {', '.join(FIELDS)} (key and "
                    "name required), and any other column is an attribute",
                )
            )
    if problems:
        where = f"Header (line {line})" if line else "Header"
        message = problems[0].problem if len(problems) == 1 else f"the header has {len(problems)} problems."
        raise ImportRejected(f"{where}: {message}", OfferingImportReport(errors=problems))
    return _Columns(len(header), fields, attributes, unnamed)


def _parse(line: int, values: list[str], columns: _Columns) -> tuple[_Row | None, list[ImportProblem]]:
    misfit = row_width_problem(line, values, columns.width)
    if misfit is not None:
        return None, [misfit]
    problems: list[ImportProblem] = []

    def cell(index: int) -> str:
        return values[index].strip()

    def check(column: str, parse: Any, raw: Any) -> Any:
        try:
            return parse(raw)
        except ValueError as exc:
            problems.append(ImportProblem(row=line, column=column, problem=str(exc)))
            return None

    found: dict[str, Any] = {}
    fields = columns.fields
    key = check("key", check_key, cell(fields["key"])) or ""
    name = " ".join(cell(fields["name"]).split())
    if not name:
        problems.append(
            ImportProblem(row=line, column="name", problem="the name is empty; every offering needs one")
        )
    elif len(name) > NAME_MAX:
        problems.append(
            ImportProblem(
                row=line,
                column="name",
                problem=f"the name is {len(name)} characters long; at most {NAME_MAX}",
            )
        )
    found["name"] = name
    if "description" in fields:
        found["description"] = cell(fields["description"])
        if len(found["description"]) > DESCRIPTION_MAX:
            problems.append(
                ImportProblem(
                    row=line,
                    column="description",
                    problem=f"the description is longer than {DESCRIPTION_MAX} characters",
                )
            )
    if "price_band" in fields:
        band = check("price_band", parse_price_band, cell(fields["price_band"]))
        found["price_band"] = band.value if band is not None else None
    if "needs" in fields:
        found["needs"] = check("needs", clean_needs, cell(fields["needs"]).split(NEEDS_SEPARATOR)) or []
    if "active" in fields:
        active = cell(fields["active"]).lower()
        if active not in _YES | _NO:
            problems.append(
                ImportProblem(row=line, column="active", problem=f"'{active}' is neither yes nor no")
            )
        found["active"] = active in _YES
    if columns.attributes:
        attributes = {title: cell(index) for title, index in columns.attributes.items()}
        for title, value in attributes.items():
            check(title, check_attributes, {title: value})
        found["attributes"] = attributes
    for index in columns.unnamed:
        if values[index].strip():
            problems.append(
                ImportProblem(
                    row=line, problem=f"column {index + 1} holds a value but has no name in the header"
                )
            )
    return _Row(line, key, found), problems


def _plan(db: Session, rows: list[_Row]) -> _Plan:
    plan = _Plan()
    stored: dict[str, Offering] = {}
    for chunk in chunks([row.key for row in rows], values_per_statement(db)):
        stored.update((o.key, o) for o in db.scalars(select(Offering).where(Offering.key.in_(chunk))))
    for row in rows:
        offering = stored.get(row.key)
        if offering is None:
            row.outcome = ImportOutcome.CREATE
            plan.creates.append(row)
            continue
        values = dict(row.values)
        if "attributes" in values:
            # An empty cell removes the attribute; attributes without a column stay.
            merged = {**offering.attributes, **values["attributes"]}
            values["attributes"] = {k: v for k, v in merged.items() if v != ""}
        changes = {
            name: {"from": getattr(offering, name), "to": value}
            for name, value in values.items()
            if getattr(offering, name) != value
        }
        if changes:
            row.outcome = ImportOutcome.UPDATE
            plan.updates.append((offering, values, changes))
        else:
            row.outcome = ImportOutcome.UNCHANGED
            plan.unchanged += 1
    return plan


def _write(db: Session, actor: Actor, plan: _Plan) -> None:
    now = utcnow()
    audit: list[AuditRecord] = []
    for row in plan.creates:
        values = dict(row.values)
        values["attributes"] = {k: v for k, v in values.get("attributes", {}).items() if v != ""}
        offering = Offering(key=row.key, created_at=now, updated_at=now, **values)
        db.add(offering)
        audit.append(
            AuditRecord.by(
                actor,
                AuditAction.OFFERING_CREATED,
                f"Offering {offering.name} ({offering.key}) added",
                details={"key": offering.key, "source": "csv import"},
                at=now,
            )
        )
    for offering, values, changes in plan.updates:
        for name, value in values.items():
            setattr(offering, name, value)
        offering.updated_at = now
        audit.append(
            AuditRecord.by(
                actor,
                AuditAction.OFFERING_UPDATED,
                f"Offering {offering.name} ({offering.key}) changed: " + ", ".join(changes),
                details={"key": offering.key, **changes, "source": "csv import"},
                at=now,
            )
        )
    db.flush()
    record_audits(db, audit)

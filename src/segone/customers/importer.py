"""Customer import from a CSV file: one row per customer, matched to existing customers by identity.

The mapping of the header (docs/import.md tells users the same):

- ``name`` (required unless there is a ``company``) and ``kind`` (``person`` or ``business``; empty means
  person for a new customer and "leave as it is" for an existing one);
- ``company``: a row with a name keeps it as the attribute ``company``; a row without one is the
  business itself (named so, kind business);
- identity columns: ``email``, ``phone``, ``identity:<system>`` (``identity:crm``), and ``identities``
  holding ``system:id;system:id``;
- consent columns: ``consent:contact``, ``consent:profiling``, ``consent:personalisation`` holding yes
  or no (``segone.importing.yes_no``'s words, or granted and refused); an empty cell leaves that consent
  as it is. A consent that differs from the customer's latest record of the purpose (or that has none) is
  recorded, from the source ``import``;
- every other column is an attribute; an empty cell leaves the attribute as it is.

A mapping (``--map``) reads any of these from other columns (``name=First Name+Last Name`` joins two);
a preset (``crm_presets``) is a mapping for a CRM's contact export. The encoding is detected unless named.

A row whose identities belong to exactly one customer updates that customer, so importing the same file
twice changes nothing the second time. Within a file, rows import as if one after another: a row sharing
an identity with an earlier row (or matching the same customer) is merged into that row's customer, its
name and non-empty values winning, and named in the warnings. The import is all or nothing: every row is
checked first and one bad row means nothing is written, with a report that names every bad row.
``dry_run`` only checks. Writes go in batches (bulk inserts, one identity lookup per few thousand keys)
so that a file of 100,000 rows imports in seconds, with the same rows and audit entries the customer
service would write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Permission
from segone.accounts.service import record_audits, require
from segone.clock import utcnow
from segone.customers import repository
from segone.customers import service as customers
from segone.customers.crm_presets import preset_mapping
from segone.customers.layout import ATTRIBUTE_PREFIX, CONSENT_PREFIX, ID, IDENTITY_PREFIX
from segone.customers.models import Customer
from segone.customers.schemas import (
    ConsentPurpose,
    ConsentSource,
    CustomerImportReport,
    CustomerKind,
    ImportOutcome,
    ImportPreviewRow,
    parse_identity,
)
from segone.errors import Conflict, Invalid
from segone.importing import (
    ImportProblem,
    ImportRejected,
    Source,
    bad_rows_message,
    formula_warnings,
    mapped_sources,
    normalise_header,
    read_sheet,
    reported_as_dry_run,
    row_width_problem,
)
from segone.importing.yes_no import NO, YES
from segone.progress import Progress, silent
from segone.storage.batching import ROWS_PER_STATEMENT, among, chunks

KINDS = ("person", "business")
MAX_NAME = 300
BATCH = 2000
WRITE_BATCH = 10_000
PREVIEW_ROWS = 10

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?\d{5,20}$")
_SYSTEM = re.compile(r"^[a-z][a-z0-9_.-]{0,59}$")

Key = tuple[str, str]
Consents = dict[ConsentPurpose, bool]

# Yes and no as every import reads them, and what a consent form or a CRM's opt-in field says.
_CONSENT_WORDS = {**dict.fromkeys(YES, True), **dict.fromkeys(NO, False), "granted": True, "refused": False}
_CONSENT_VALUES = "yes or no (true/false, 1/0, y/n, granted/refused)"
_PURPOSES = {purpose.value: purpose for purpose in ConsentPurpose}

# Titles of e-mail and phone columns in exports, which a file without a map reads as attributes.
_LOOKALIKES = {
    **dict.fromkeys(("e_mail", "email_address", "e_mail_address", "mail", "work_email"), "email"),
    **dict.fromkeys(
        ("phone_number", "telephone", "tel", "mobile", "mobile_phone", "mobile_phone_number", "cell"),
        "phone",
    ),
}


@dataclass(frozen=True)
class _Columns:
    width: int
    name: Source | None
    company: Source | None
    kind: Source | None
    identity: list[tuple[Source, str]]  # (source, system): email, phone, identity:<system>
    identities: Source | None
    attributes: list[Source]
    unnamed: list[int]
    consent: list[tuple[Source, ConsentPurpose]]


@dataclass
class _Row:
    line: int
    name: str
    kind: str | None
    identities: dict[Key, str]  # identity -> the column it came from
    attributes: dict[str, str]
    consent: Consents = field(default_factory=dict)
    customer_id: int | None = None


@dataclass
class _Grouping:
    """The good rows as the customers they make."""

    customers: list[_Row] = field(default_factory=list)
    """One per customer, under the line of its first row, holding every row's values merged into it."""
    merged: dict[int, int] = field(default_factory=dict)
    """A later row's line -> the line of the first row of its customer."""
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)


class _Outcome(NamedTuple):
    """What importing a customer's rows does."""

    outcome: ImportOutcome
    kind: str
    """The customer's kind after the import."""
    customer_id: int | None
    """The stored customer it updates."""


@dataclass
class _Plan:
    creates: list[_Row] = field(default_factory=list)
    # (row, the customer's new column values, the changes as the audit trail records them)
    updates: list[tuple[_Row, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    new_identities: list[tuple[_Row, list[Key]]] = field(default_factory=list)
    consents: list[tuple[_Row, Consents]] = field(default_factory=list)
    """The consents to record, of new customers and of stored ones whose consent they change."""
    updated: int = 0
    unchanged: int = 0
    outcomes: dict[int, _Outcome] = field(default_factory=dict)
    """By the line of a customer's first row."""


def import_customers(
    db: Session,
    *,
    actor: Actor,
    data: bytes | str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    mapping: dict[str, str] | None = None,
    preset: str | None = None,
    encoding: str | None = None,
    progress: Progress = silent,
) -> CustomerImportReport:
    """Import customers from CSV text; raises ``ImportRejected`` (an ``Invalid``) when rows are bad.

    ``mapping`` reads fields from other columns (``{"name": "First Name+Last Name"}``) and wins over
    ``preset`` (``hubspot``, ``salesforce``); ``encoding`` names the file's encoding instead of detecting
    it. With ``skip_bad_rows`` the good rows are imported and the bad ones only reported.
    """
    require(actor, Permission.IMPORT_DATA)
    with reported_as_dry_run(dry_run):
        try:
            sheet = read_sheet(data, needs="at least a 'name' column", encoding=encoding)
            if preset:
                mapping = {**preset_mapping(preset, sheet.header), **(mapping or {})}
            sources, shadowed = mapped_sources(sheet.header, mapping)
        except ImportRejected as exc:
            raise ImportRejected(exc.message, _empty_report(exc.problems)) from exc
        except Invalid as exc:
            problem = ImportProblem(row=None, column=None, problem=exc.message)
            raise ImportRejected(exc.message, _empty_report([problem])) from exc
        columns = _columns(sheet.header_line, sheet.header, sources)
    raw_rows = sheet.rows
    warnings = _shadowed(sheet.header_line, sheet.header, shadowed, sources)
    warnings.extend(_identity_lookalikes(sheet.header_line, columns))
    warnings.extend(formula_warnings(sheet.header, raw_rows))

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

    bad_lines = {p.row for p in problems}
    rows = [row for row in parsed if row.line not in bad_lines]
    # As read, before later rows merge into them.
    first_rows = [
        replace(
            row, identities=dict(row.identities), attributes=dict(row.attributes), consent=dict(row.consent)
        )
        for row in parsed[:PREVIEW_ROWS]
    ]
    owners = customers.identity_owners(db, keys=[key for row in rows for key in row.identities])
    grouping = _group(rows, owners)
    problems.extend(grouping.problems)
    warnings.extend(grouping.warnings)
    problems.sort(key=lambda p: p.row or 0)
    warnings.sort(key=lambda p: p.row or 0)
    bad_lines = {p.row for p in problems}
    bad_rows = len(bad_lines)

    if problems and not skip_bad_rows and not dry_run:
        report = _empty_report(problems, rows=len(raw_rows))
        report.encoding, report.warnings = sheet.encoding, warnings
        raise ImportRejected(bad_rows_message(bad_rows, len(raw_rows)), report)

    plan = _plan(db, grouping.customers, owners)
    result = CustomerImportReport(
        dry_run=dry_run,
        rows=len(raw_rows),
        encoding=sheet.encoding,
        created=len(plan.creates),
        updated=plan.updated,
        unchanged=plan.unchanged,
        merged=len(grouping.merged),
        skipped=bad_rows if skip_bad_rows else 0,
        errors=problems,
        warnings=warnings,
        preview=_preview(first_rows, bad_lines, grouping, plan),
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


def _columns(line: int | None, header: list[str], sources: list[Source]) -> _Columns:
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    name: Source | None = None
    company: Source | None = None
    kind: Source | None = None
    identities: Source | None = None
    identity: list[tuple[Source, str]] = []
    attributes: list[Source] = []
    unnamed: list[int] = []
    consent: list[tuple[Source, ConsentPurpose]] = []
    for source in sources:
        title = source.name
        key = title.lower()
        if not title:
            unnamed.extend(source.positions)
            continue
        attribute: str | None = None
        if key.startswith(ATTRIBUTE_PREFIX) and len(source.positions) == 1:
            # Named exactly as the header says after the prefix: how an export keeps any attribute name.
            attribute = header[source.positions[0]].lstrip()[len(ATTRIBUTE_PREFIX) :]
            key = ATTRIBUTE_PREFIX + attribute
            if not attribute.strip():
                problems.append(
                    ImportProblem(row=line, column=title, problem="the column names no attribute")
                )
                continue
        if key.startswith(CONSENT_PREFIX):
            key = CONSENT_PREFIX + key.removeprefix(CONSENT_PREFIX).strip()
        if key in seen:
            problems.append(ImportProblem(row=line, column=title, problem=f"the column '{title}' is twice"))
            continue
        seen.add(key)
        if key == ID:
            continue  # segone's number of the customer, as an export writes it: customers match by identity
        if attribute is not None:
            attributes.append(replace(source, name=attribute))
        elif key == "name":
            name = source
        elif key == "company":
            company = source
        elif key == "kind":
            kind = source
        elif key == "identities":
            identities = source
        elif key in ("email", "phone"):
            identity.append((source, key))
        elif key.startswith(CONSENT_PREFIX):
            purpose = _PURPOSES.get(key.removeprefix(CONSENT_PREFIX))
            if purpose is not None:
                consent.append((source, purpose))
            else:
                problems.append(
                    ImportProblem(
                        row=line,
                        column=title,
                        problem=f"'{title}' names no purpose of consent: use consent:contact, "
                        "consent:profiling or consent:personalisation",
                    )
                )
        elif key.startswith(IDENTITY_PREFIX):
            system = key.removeprefix(IDENTITY_PREFIX).strip()
            if _SYSTEM.match(system):
                identity.append((source, system))
            else:
                problems.append(
                    ImportProblem(
                        row=line,
                        column=title,
                        problem=f"'{system}' is not a system name: use a letter, then a-z, 0-9, _ . -",
                    )
                )
        else:
            attributes.append(source)
    problems.extend(_repeated_attributes(line, header, attributes))
    if name is None and company is None:
        found = ", ".join(f"'{h.strip()}'" for h in header if h.strip()) or "nothing"
        problems.insert(
            0,
            ImportProblem(
                row=line,
                column="name",
                problem=f"The file has no 'name' column (the header holds {found}); every customer needs "
                "one. Map one (name=First Name+Last Name), or use the preset of the CRM that exported "
                "the file (hubspot, salesforce).",
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
    return _Columns(len(header), name, company, kind, identity, identities, attributes, unnamed, consent)


def _shadowed(
    line: int | None, header: list[str], shadowed: list[int], sources: list[Source]
) -> list[ImportProblem]:
    """A warning for each column left out because the mapping reads its field from other columns."""
    by_name = {normalise_header(source.name): source for source in sources}
    warnings = []
    for index in shadowed:
        title = header[index].strip()
        source = by_name[normalise_header(title)]
        warnings.append(
            ImportProblem(
                row=line,
                column=title,
                problem=f"not imported: the mapping reads {source.name} from '{source.label}'",
            )
        )
    return warnings


def _identity_lookalikes(line: int | None, columns: _Columns) -> list[ImportProblem]:
    """A warning for each attribute column whose title says it holds e-mail addresses or phone numbers:
    as attributes they match nothing, and a map makes them identities."""
    warnings = []
    for source in columns.attributes:
        field = _LOOKALIKES.get(normalise_header(source.name))
        if field is not None:
            warnings.append(
                ImportProblem(
                    row=line,
                    column=source.label,
                    problem=f"imported as an attribute; to match customers by it, map it: "
                    f"{field}={source.label}",
                )
            )
    return warnings


def _repeated_attributes(
    line: int | None, header: list[str], attributes: list[Source]
) -> list[ImportProblem]:
    """An attribute named by two columns (``city`` and ``attribute:city``)."""
    first: dict[str, Source] = {}
    problems = []
    for source in attributes:
        if source.name in first:
            earlier = first[source.name].label
            problem = f"the attribute '{source.name}' is in column '{earlier}' too"
            problems.append(ImportProblem(row=line, column=source.label, problem=problem))
        first.setdefault(source.name, source)
    return problems


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

    misfit = row_width_problem(line, values, columns.width)
    if misfit is not None:
        return None, [misfit]
    problems: list[ImportProblem] = []
    kind: str | None = None
    if columns.kind is not None:
        raw_kind = columns.kind.text(values).lower()
        if raw_kind in KINDS:
            kind = raw_kind
        elif raw_kind:
            problems.append(
                problem(columns.kind.label, f"'{raw_kind}' is not a kind; use person or business")
            )

    attributes = {source.name: text for source in columns.attributes if (text := source.text(values))}
    name = columns.name.text(values) if columns.name is not None else ""
    company = columns.company.text(values) if columns.company is not None else ""
    name_column = columns.name.label if columns.name is not None else "name"
    if company and columns.company is not None:
        if name:
            attributes[columns.company.name] = company
        elif kind != "person":
            # A row naming only a company is that company: HubSpot and Salesforce export accounts so.
            name, kind, name_column = company, "business", columns.company.label
    if not name:
        problems.append(problem(name_column, "the name is empty; every customer needs one"))
    elif len(name) > MAX_NAME:
        problems.append(problem(name_column, f"the name is {len(name)} characters long; at most {MAX_NAME}"))

    identities: dict[Key, str] = {}
    has_identity_problem = False
    candidates = [
        (source.label, f"{system}:{cell}")
        for source, system in columns.identity
        for cell in source.cells(values)
    ]
    if columns.identities is not None:
        for cell in columns.identities.cells(values):
            candidates.extend(
                (columns.identities.label, part.strip()) for part in cell.split(";") if part.strip()
            )
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
    consent: Consents = {}
    for source, purpose in columns.consent:
        cell = source.text(values)
        if not cell:
            continue  # leaves that consent as it is
        granted = _CONSENT_WORDS.get(cell.lower())
        if granted is None:
            problems.append(problem(source.label, f"'{cell}' is not a consent; use {_CONSENT_VALUES}"))
        else:
            consent[purpose] = granted
    for index in columns.unnamed:
        if values[index].strip():
            problems.append(problem(None, f"column {index + 1} holds a value but has no name in the header"))
    return _Row(line, name, kind, identities, attributes, consent), problems


def _group(rows: list[_Row], owners: dict[Key, int]) -> _Grouping:
    """Rows as the customers they make, as if imported one after another: a row that shares an
    identity with an earlier row, or matches the customer an earlier row matched, updates that row's
    customer (its name and non-empty values win); a row whose identities lead to two customers is bad."""
    grouping = _Grouping()
    by_key: dict[Key, _Row] = {}
    by_customer: dict[int, _Row] = {}
    by_line: dict[int, _Row] = {}

    def lead(key: Key) -> tuple[str, int] | None:
        """The customer an identity leads to: an earlier row's (by its line) or a stored one."""
        earlier = by_key.get(key)
        if earlier is None and key in owners:
            earlier = by_customer.get(owners[key])
        if earlier is not None:
            return ("row", earlier.line)
        return ("customer", owners[key]) if key in owners else None

    for row in rows:
        leads: dict[tuple[str, int], Key] = {}
        for key in row.identities:
            if (target := lead(key)) is not None:
                leads.setdefault(target, key)
        if len(leads) > 1:
            held = ", ".join(
                f"{s}:{v} (customer {number})"
                if what == "customer"
                else f"{s}:{v} (the customer of row {number})"
                for (what, number), (s, v) in leads.items()
            )
            grouping.problems.append(
                ImportProblem(
                    row=row.line,
                    column=None,
                    problem=f"the identities belong to different customers: {held}; merge those customers "
                    "first, or fix the row",
                )
            )
            continue
        if leads:
            (what, number), (system, value) = next(iter(leads.items()))
        else:
            what, number = "new", 0
        if what == "row":
            customer = by_line[number]
            customer.name = row.name
            customer.kind = row.kind or customer.kind
            customer.attributes.update(row.attributes)
            customer.consent.update(row.consent)
            for key, column in row.identities.items():
                customer.identities.setdefault(key, column)
            grouping.merged[row.line] = number
            grouping.warnings.append(
                ImportProblem(
                    row=row.line,
                    column=None,
                    problem=f"merged with row {number}, the same customer ({system}:{value}): this row's "
                    "name and non-empty values win",
                )
            )
        else:
            customer = row  # the first row of a customer holds what later rows merge into it
            if what == "customer":
                customer.customer_id = number
                by_customer[number] = customer
            by_line[row.line] = customer
            grouping.customers.append(customer)
        for key in row.identities:
            by_key.setdefault(key, customer)
    return grouping


def _preview(
    rows: list[_Row], bad_lines: set[int | None], grouping: _Grouping, plan: _Plan
) -> list[ImportPreviewRow]:
    """These rows as they are imported: each row's own values, its customer's kind, what it does."""
    preview = []
    for row in rows:
        merged_with = grouping.merged.get(row.line)
        done = None if row.line in bad_lines else plan.outcomes.get(merged_with or row.line)
        if done is None:
            outcome, kind, customer_id = ImportOutcome.BAD, row.kind, None
        else:
            outcome = ImportOutcome.MERGE if merged_with is not None else done.outcome
            kind, customer_id = done.kind, done.customer_id
        preview.append(
            ImportPreviewRow(
                row=row.line,
                name=row.name,
                kind=CustomerKind(kind) if kind else None,
                identities=[f"{s}:{v}" for s, v in row.identities],
                attributes=row.attributes,
                consent=row.consent,
                outcome=outcome,
                customer_id=customer_id,
                merged_with=merged_with,
            )
        )
    return preview


def _same(old: Any, new: str) -> bool:
    """A CSV cell is text: "2019" equals a stored 2019, "true" a stored True."""
    if isinstance(old, str):
        return old == new
    if isinstance(old, bool):
        return str(old).lower() == new.lower()
    return old is not None and str(old) == new


def _consent_changes(row: _Row, recorded: dict[tuple[int, str], bool]) -> Consents:
    """The row's consents that differ from the customer's latest records (all of a new customer's): a
    file imported again records nothing."""
    if row.customer_id is None:
        return dict(row.consent)
    return {
        purpose: granted
        for purpose, granted in row.consent.items()
        if recorded.get((row.customer_id, purpose.value)) != granted
    }


def _plan(db: Session, rows: list[_Row], owners: dict[Key, int]) -> _Plan:
    plan = _Plan()
    matched = [row.customer_id for row in rows if row.customer_id is not None]
    existing = repository.profiles_by_id(db, customer_ids=matched)
    with_consent = [row.customer_id for row in rows if row.customer_id is not None and row.consent]
    recorded = repository.latest_consents(db, customer_ids=with_consent)
    for row in rows:
        consent = _consent_changes(row, recorded)
        if consent:
            plan.consents.append((row, consent))
        if row.customer_id is None:
            plan.creates.append(row)
            plan.outcomes[row.line] = _Outcome(ImportOutcome.CREATE, row.kind or "person", None)
            continue
        name, kind, attributes = existing[row.customer_id]
        outcome = _Outcome(ImportOutcome.UPDATE, row.kind or kind, row.customer_id)
        plan.outcomes[row.line] = outcome
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
        if not changes and not consent:
            plan.unchanged += 1
            plan.outcomes[row.line] = outcome._replace(outcome=ImportOutcome.UNCHANGED)
            continue
        plan.updated += 1
        if not changes:
            continue  # only its consent changes: recorded apart, as a person records it
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
        for row, customer_id in zip(chunk, ids, strict=True):
            row.customer_id = customer_id  # for its consents, written below
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
        # An edit opened before the import would undo what the import changed.
        db.execute(
            update(Customer)
            .where(among(db, Customer.id, [values["id"] for _row, values, _changes in update_chunk]))
            .values(version=Customer.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
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
    audit.extend(_write_consents(db, actor, plan.consents, now))
    record_audits(db, audit)
    db.flush()


def _write_consents(
    db: Session, actor: Actor, consents: list[tuple[_Row, Consents]], now: datetime
) -> list[AuditRecord]:
    """Records the consents the import changes, and returns their entries of the customers' histories
    (one per customer, as ``customers.record_consent`` writes it)."""
    # Customers by what changes (a file holds few combinations): their entries, one after another, share
    # the details, which the bulk insert then writes as JSON once rather than once per customer.
    by_changes: dict[tuple[tuple[ConsentPurpose, bool], ...], list[int]] = {}
    for row, changes in consents:
        if row.customer_id is not None:
            by_changes.setdefault(tuple(changes.items()), []).append(row.customer_id)
    repository.insert_consents(
        db,
        [
            (customer_id, purpose.value, granted)
            for key, customer_ids in by_changes.items()
            for customer_id in customer_ids
            for purpose, granted in key
        ],
        source=ConsentSource.IMPORT.value,
        recorded_by_id=actor.user_id,
        recorded_by=actor.email,
        at=now,
    )
    audit: list[AuditRecord] = []
    for key, customer_ids in by_changes.items():
        said = dict(key)
        audit.extend(
            customers.consent_audit(
                actor, customer_id=customer_id, changes=said, source=ConsentSource.IMPORT, at=now
            )
            for customer_id in customer_ids
        )
    return audit

"""Facts import from a CSV file: what the business already knows, such as the notes a CRM export holds.

One row per fact (docs/import.md tells users the same):

- ``customer`` (required): the customer's id (``42``) or any of its identities (``crm:B00042``);
- ``text`` (required): the fact, at most 2,000 characters;
- ``category`` (optional): a category in force that fits the customer; when empty the classifier
  suggests one, and the report names every row whose category was suggested;
- ``learned_by`` (optional): the e-mail of the employee who learned it; empty means the importing user;
- ``learned_at`` (optional): ISO date or date and time (``2024-03-01``, ``2024-03-01T14:30:00+01:00``);
  a time without a zone is UTC; empty means now.

Other columns are ignored (and named in the report). A fact the customer's sheet holds already (same
text, compared without case and punctuation), or that an earlier row of the file holds, is counted as
unchanged: importing the same file twice adds nothing the second time. All or nothing, as the customer
import: every row is checked first, one bad row means nothing is written, and the report names every bad
row (line, column, problem). ``dry_run`` only checks. Facts go in with bulk inserts, written as the
knowledge service writes them: each has the audit entry ``differentiator.added`` as if an employee had
added it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import cast

from pydantic import BaseModel, Field
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, AuditAction, AuditRecord, Permission
from segone.accounts.service import record_audits, require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.customers.schemas import parse_identity
from segone.importing import (
    ImportProblem,
    ImportRejected,
    ImportReport,
    bad_rows_message,
    formula_warnings,
    match_columns,
    read_sheet,
    reported_as_dry_run,
    row_width_problem,
)
from segone.knowledge.categories.classifier import normalise, suggest_category
from segone.knowledge.categories.schemas import CategoryList
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.knowledge.models import Differentiator
from segone.progress import Progress, silent
from segone.storage import bulk
from segone.storage.batching import chunks

COLUMNS = ("customer", "text", "category", "learned_by", "learned_at")
REQUIRED = ("customer", "text")
MAX_TEXT = 2000
BATCH = 1000
WRITE_BATCH = 10_000
_FACTS = cast(Table, Differentiator.__table__)


class SuggestedCategory(BaseModel):
    row: int = Field(description="Line of the file where the row starts.")
    category: str
    confidence: float = Field(description="How sure the classifier was, 0 to 1.")


class FactImportReport(ImportReport):
    """What a facts import did (or, in a dry run or when rows are bad, would do)."""

    created: int = Field(description="Facts added to easel sheets.")
    unchanged: int = Field(description="Rows whose fact the customer's sheet (or an earlier row) holds.")
    suggested: list[SuggestedCategory] = Field(
        default_factory=list, description="Rows without a category, with the category the classifier gave."
    )
    ignored_columns: list[str] = Field(default_factory=list, description="Columns segone does not read.")


@dataclass
class _Row:
    line: int
    customer_ref: str
    text: str
    category: str
    learned_by: str
    learned_at: datetime | None
    customer_id: int | None = None
    customer_kind: str = "person"
    learned_by_id: int | None = None


def _empty_report(problems: list[ImportProblem], rows: int = 0) -> FactImportReport:
    return FactImportReport(rows=rows, created=0, unchanged=0, errors=problems)


def _columns(line: int | None, header: list[str]) -> tuple[dict[str, int], list[str]]:
    match = match_columns(header, COLUMNS)
    found = match.sources
    problems = [
        ImportProblem(row=line, column=title, problem="the column is twice") for title in match.repeated
    ]
    for name in REQUIRED:
        if name not in found:
            problems.append(
                ImportProblem(
                    row=line,
                    column=name,
                    problem=f"the file has no '{name}' column; the columns are {', '.join(COLUMNS)} "
                    f"({' and '.join(REQUIRED)} required)",
                )
            )
    if problems:
        where = f"Header (line {line})" if line else "Header"
        raise ImportRejected(
            f"{where}: {problems[0].problem}"
            if len(problems) == 1
            else f"The header of the file has {len(problems)} problems.",
            _empty_report(problems),
        )
    return found, match.ignored


def parse_when(raw: str) -> datetime:
    """An ISO date (midnight UTC) or date and time (UTC when no zone is given)."""
    raw = raw.strip()
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"'{raw}' is not a date or time; write it like 2024-03-01 or 2024-03-01T14:30:00"
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse(
    line: int, values: list[str], columns: dict[str, int], width: int
) -> tuple[_Row | None, list[ImportProblem]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    misfit = row_width_problem(line, values, width)
    if misfit is not None:
        return None, [misfit]
    problems: list[ImportProblem] = []
    customer = cell("customer")
    if not customer:
        problems.append(ImportProblem(row=line, column="customer", problem="the customer is empty"))
    text = " ".join(cell("text").split())
    if not text:
        problems.append(ImportProblem(row=line, column="text", problem="the text is empty"))
    elif len(text) > MAX_TEXT:
        problems.append(
            ImportProblem(
                row=line, column="text", problem=f"the text is {len(text)} characters; at most {MAX_TEXT}"
            )
        )
    learned_at: datetime | None = None
    if cell("learned_at"):
        try:
            learned_at = parse_when(cell("learned_at"))
        except ValueError as exc:
            problems.append(ImportProblem(row=line, column="learned_at", problem=str(exc)))
        else:
            if learned_at > utcnow():
                problems.append(
                    ImportProblem(
                        row=line, column="learned_at", problem=f"{learned_at:%Y-%m-%d} is in the future"
                    )
                )
    row = _Row(line, customer, text, cell("category").lower(), cell("learned_by").lower(), learned_at)
    return row, problems


def _resolve_customers(db: Session, rows: list[_Row]) -> list[ImportProblem]:
    """Each row's customer (merged records lead to the survivor); problems for those not found."""
    problems: list[ImportProblem] = []
    keys: dict[int, tuple[str, str]] = {}
    wanted_ids: set[int] = set()
    for row in rows:
        ref = row.customer_ref
        if ref.isascii() and ref.isdigit():
            row.customer_id = int(ref)
            wanted_ids.add(row.customer_id)
            continue
        try:
            keys[row.line] = parse_identity(ref)
        except ValueError as exc:
            message = str(exc)
            problems.append(
                ImportProblem(
                    row=row.line,
                    column="customer",
                    problem=f"'{ref}' is neither a customer id nor an identity like crm:B00042 ({message})",
                )
            )
    owners = customers.identity_owners(db, keys=list(keys.values()))
    for row in rows:
        if row.line in keys:
            owner = owners.get(keys[row.line])
            if owner is None:
                problems.append(
                    ImportProblem(
                        row=row.line,
                        column="customer",
                        problem=f"no customer has the identity {row.customer_ref}",
                    )
                )
            else:
                row.customer_id = owner
                wanted_ids.add(owner)
    found = customers.survivors(db, customer_ids=wanted_ids)
    for row in rows:
        if row.customer_id is None:
            continue
        customer = found.get(row.customer_id)
        if customer is None:
            if row.line not in keys:
                problems.append(
                    ImportProblem(
                        row=row.line, column="customer", problem=f"there is no customer {row.customer_ref}"
                    )
                )
            row.customer_id = None
            continue
        row.customer_id, row.customer_kind = customer.id, customer.kind
    return problems


def _resolve_users(db: Session, rows: list[_Row]) -> list[ImportProblem]:
    users = accounts.user_ids_by_email(db, emails={row.learned_by for row in rows if row.learned_by})
    problems = []
    for row in rows:
        if row.learned_by:
            if row.learned_by in users:
                row.learned_by_id = users[row.learned_by]
            else:
                problems.append(
                    ImportProblem(
                        row=row.line, column="learned_by", problem=f"no user has the e-mail {row.learned_by}"
                    )
                )
    return problems


def _check_categories(rows: list[_Row], categories: CategoryList) -> list[ImportProblem]:
    problems = []
    names = {c.name: c for c in categories.all}
    for row in rows:
        if not row.category:
            continue
        category = names.get(row.category)
        if category is None:
            problems.append(
                ImportProblem(
                    row=row.line,
                    column="category",
                    problem=f"'{row.category}' is not a category; use one of {', '.join(sorted(names))}, "
                    "or leave it empty for a suggestion",
                )
            )
        elif row.customer_id is not None and not category.applies_to(row.customer_kind):
            problems.append(
                ImportProblem(
                    row=row.line,
                    column="category",
                    problem=f"'{row.category}' is a {category.kind} category; customer {row.customer_id} is "
                    f"a {row.customer_kind}",
                )
            )
    return problems


def import_facts(
    db: Session,
    *,
    actor: Actor,
    data: bytes | str,
    categories: CategoryList,
    data_dir: Path | None = None,
    dry_run: bool = False,
    progress: Progress = silent,
) -> FactImportReport:
    """Import facts from CSV text; raises ``ImportRejected`` (an ``Invalid``) when rows are bad."""
    require(actor, Permission.IMPORT_DATA)
    require(actor, Permission.ADD_DIFFERENTIATORS)
    with reported_as_dry_run(dry_run):
        try:
            sheet = read_sheet(data, needs="the columns " + ", ".join(REQUIRED))
        except ImportRejected as exc:
            raise ImportRejected(exc.message, _empty_report(exc.problems)) from exc
        columns, ignored = _columns(sheet.header_line, sheet.header)
    header, raw_rows = sheet.header, sheet.rows
    warnings = formula_warnings(header, raw_rows)

    rows: list[_Row] = []
    problems: list[ImportProblem] = []
    for done, (line, values) in enumerate(raw_rows, start=1):
        row, row_problems = _parse(line, values, columns, len(header))
        if row is not None:
            rows.append(row)
        problems.extend(row_problems)
        if done % BATCH == 0:
            progress("Checking rows", done, len(raw_rows))
    progress("Checking rows", len(raw_rows), len(raw_rows))
    with_customer = [row for row in rows if row.customer_ref]
    problems.extend(_resolve_customers(db, with_customer))
    problems.extend(_resolve_users(db, rows))
    problems.extend(_check_categories(rows, categories))
    problems.sort(key=lambda p: p.row or 0)
    bad = {p.row for p in problems}

    if problems:
        raise ImportRejected(
            bad_rows_message(len(bad), len(raw_rows), dry_run=dry_run),
            FactImportReport(
                dry_run=dry_run,
                rows=len(raw_rows),
                encoding=sheet.encoding,
                created=0,
                unchanged=0,
                ignored_columns=ignored,
                errors=problems,
                warnings=warnings,
            ),
        )

    # Facts on the sheets already, and repeats within the file, are not added again.
    known: set[tuple[int, str]] = set()
    customer_ids = sorted({row.customer_id for row in rows if row.customer_id is not None})
    for chunk in chunks(customer_ids, BATCH):
        for customer_id, text in db.execute(
            select(Differentiator.customer_id, Differentiator.text).where(
                Differentiator.customer_id.in_(chunk), Differentiator.status == "current"
            )
        ):
            known.add((customer_id, normalise(text)))
    new: list[_Row] = []
    unchanged = 0
    for row in rows:
        assert row.customer_id is not None
        key = (row.customer_id, normalise(row.text))
        if key in known:
            unchanged += 1
            continue
        known.add(key)
        new.append(row)

    suggested: list[SuggestedCategory] = []
    for kind in ("person", "business"):
        missing = [row for row in new if not row.category and row.customer_kind == kind]
        if not missing:
            continue
        guesses = suggest_category(
            [row.text for row in missing], kind, categories=categories, data_dir=data_dir
        )
        for row, (category, confidence) in zip(missing, guesses, strict=True):
            row.category = category
            suggested.append(SuggestedCategory(row=row.line, category=category, confidence=confidence))
    suggested.sort(key=lambda s: s.row)

    result = FactImportReport(
        dry_run=dry_run,
        rows=len(raw_rows),
        encoding=sheet.encoding,
        created=len(new),
        unchanged=unchanged,
        suggested=suggested,
        ignored_columns=ignored,
        warnings=warnings,
    )
    if dry_run:
        return result
    _write(db, actor, new, categories, progress)
    return result


def _write(db: Session, actor: Actor, rows: list[_Row], categories: CategoryList, progress: Progress) -> None:
    """Bulk inserts of the facts, with the rows and audit entries ``knowledge.add`` would write."""
    now = utcnow()
    labels = {category.name: category.label for category in categories.all}
    audit: list[AuditRecord] = []
    done = 0
    for chunk in chunks(rows, WRITE_BATCH):
        facts = [
            DifferentiatorCreate(text=row.text, category=row.category, learned_at=row.learned_at)
            for row in chunk
        ]
        ids = bulk.insert_returning_ids(
            db.connection(),
            _FACTS,
            [
                {
                    "customer_id": row.customer_id,
                    "text": fact.text,
                    "category": fact.category,
                    "learned_by_id": row.learned_by_id if row.learned_by_id is not None else actor.user_id,
                    "learned_at": fact.learned_at or now,
                    "confidence": fact.confidence,
                    "last_confirmed_at": fact.learned_at or now,
                }
                for row, fact in zip(chunk, facts, strict=True)
            ],
        )
        audit.extend(
            AuditRecord.by(
                actor,
                AuditAction.DIFFERENTIATOR_ADDED,
                f"Learned ({labels[fact.category]}): {fact.text}",
                customer_id=row.customer_id,
                details={"differentiator_id": fact_id},
                at=now,
            )
            for fact_id, row, fact in zip(ids, chunk, facts, strict=True)
        )
        done += len(chunk)
        progress("Writing facts", done, len(rows))
    progress("Writing facts", done, len(rows))
    record_audits(db, audit)

"""Ratings from a CSV file (docs/quality.md tells users the same): one row per rating.

- ``card`` (required): the card's id or name;
- ``period`` (required): ``YYYY-MM`` (``YYYY-Qn`` for quarterly cards), not a future one;
- ``rater`` (required): an internal card's rater by e-mail (a member of its customer team); an external
  card's customer by id or identity (``crm:B00042``; a bare e-mail address is ``email:<address>``);
- ``nps`` (0-10) and ``csat`` (1-5): external cards only; ``comment``;
- every other column is a deliverable, by its name (without case): the row's score of it, 1 to 5; an
  empty cell is not rated. A row may leave every column of deliverables its card does not have empty.

Each row is checked as a rating made by hand is (``service.prepare``): the period, the scores, the
questions, the rater, and that the rater has not rated the card for the period yet (in the store or on an
earlier row). All or nothing by default: one bad row means nothing is written and the report names every
bad row (line, column, problem); with ``skip_bad_rows`` the good rows are written and the bad ones only
reported. ``dry_run`` only checks. Each rating has its audit entry, as if given by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import Actor, Member, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Conflict, Invalid, NotFound
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
from segone.progress import Progress, silent
from segone.quality import service
from segone.quality.models import Deliverable, ReportCard
from segone.quality.schemas import RatingAnswers, RatingImportReport
from segone.quality.service import Given, Prepared, Rater, RaterKey, Refused

FIELDS = ("card", "period", "rater", "nps", "csat", "comment")
REQUIRED = ("card", "period", "rater")
BATCH = 1000


@dataclass(frozen=True)
class _Columns:
    width: int
    fields: dict[str, int]
    deliverables: dict[str, tuple[int, str]]
    """By lower-case name: the column's position and its title."""


def import_ratings(
    db: Session,
    *,
    actor: Actor,
    data: bytes | str,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    encoding: str | None = None,
    progress: Progress = silent,
) -> RatingImportReport:
    """Ratings from CSV text; raises ``ImportRejected`` (an ``Invalid``) when the file or rows are bad
    (with ``skip_bad_rows``: only when the file itself is)."""
    require(actor, Permission.IMPORT_DATA)
    with reported_as_dry_run(dry_run):
        try:
            sheet = read_sheet(data, needs="the columns card, period and rater", encoding=encoding)
        except ImportRejected as exc:
            raise ImportRejected(exc.message, RatingImportReport(errors=exc.problems)) from exc
        columns = _columns(sheet.header_line, sheet.header)
    reader = _Reader(db, actor, columns, utcnow().date())
    if "rater" in columns.fields:
        reader.know_raters(
            [
                values[columns.fields["rater"]]
                for _line, values in sheet.rows
                if len(values) > columns.fields["rater"]
            ]
        )
    good: list[Prepared] = []
    problems: list[ImportProblem] = []
    for done, (line, values) in enumerate(sheet.rows, start=1):
        try:
            good.append(reader.row(line, values))
        except _RowRefused as exc:
            problems.append(exc.problem)
        if done % BATCH == 0:
            progress("Checking rows", done, len(sheet.rows))
    progress("Checking rows", len(sheet.rows), len(sheet.rows))
    bad = len({p.row for p in problems})
    report = RatingImportReport(
        dry_run=dry_run,
        rows=len(sheet.rows),
        encoding=sheet.encoding,
        created=len(good) if (skip_bad_rows or not problems) else 0,
        skipped=bad if skip_bad_rows else 0,
        deliverable_columns=[title for _index, title in columns.deliverables.values()],
        errors=problems,
        warnings=formula_warnings(sheet.header, sheet.rows),
    )
    if problems and not skip_bad_rows:
        raise ImportRejected(bad_rows_message(bad, len(sheet.rows), dry_run=dry_run), report)
    if dry_run or not good:
        return report
    service.store_ratings(db, actor, good, "import", names={c.id: c.name for c in reader.cards.values() if c})
    progress("Writing ratings", len(good), len(good))
    return report


def _columns(line: int | None, header: list[str]) -> _Columns:
    problems: list[ImportProblem] = []
    fields: dict[str, int] = {}
    deliverables: dict[str, tuple[int, str]] = {}
    for index, title in enumerate(header):
        name = normalise_header(title)
        label = " ".join(title.split())
        if not label:
            continue
        if name in FIELDS:
            if name in fields:
                problems.append(ImportProblem(row=line, column=label, problem="the column is twice"))
            fields[name] = index
        elif label.lower() in deliverables:
            problems.append(ImportProblem(row=line, column=label, problem="the column is twice"))
        else:
            deliverables[label.lower()] = (index, label)
    for name in REQUIRED:
        if name not in fields:
            problems.append(
                ImportProblem(
                    row=line,
                    column=name,
                    problem=f"the file has no '{name}' column; the columns are card, period, rater "
                    "(required), nps, csat, comment, and one per deliverable, named as on the card",
                )
            )
    if problems:
        where = f"Header (line {line})" if line else "Header"
        message = problems[0].problem if len(problems) == 1 else f"the header has {len(problems)} problems."
        raise ImportRejected(f"{where}: {message}", RatingImportReport(errors=problems))
    return _Columns(len(header), fields, deliverables)


class _RowRefused(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(problem.problem)
        self.problem = problem


Refuser = Callable[[str | None, str], _RowRefused]


class _Reader:
    """Checks rows one by one, looking each card, user and customer up once."""

    def __init__(self, db: Session, actor: Actor, columns: _Columns, today: date) -> None:
        self.db = db
        self.actor = actor
        self.columns = columns
        self.today = today
        self.cards: dict[str, ReportCard | None] = {}
        self.members: dict[str, Member | None] = {}
        self.customers: dict[str, tuple[int, str] | str] = {}
        self.teams = accounts.teams(db)
        self.seen: dict[tuple[int, str, int | None, int | None], int] = {}
        self.deliverables: dict[int, list[Deliverable]] = {}
        self.given: dict[tuple[int, str], dict[RaterKey, Given]] = {}

    def know_raters(self, emails: list[str]) -> None:
        """Look the users of these e-mail addresses up at once (the rows' raters), in batches."""
        wanted = sorted(
            {e.strip().lower() for e in emails if "@" in e and ":" not in e} - self.members.keys()
        )
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            found = accounts.members_by_email(self.db, emails=chunk)
            self.members.update({email: found.get(email) for email in chunk})

    def row(self, line: int, values: list[str]) -> Prepared:
        def refuse(column: str | None, problem: str) -> _RowRefused:
            return _RowRefused(ImportProblem(row=line, column=column, problem=problem))

        misfit = row_width_problem(line, values, self.columns.width)
        if misfit is not None:
            raise _RowRefused(misfit)
        fields = self.columns.fields

        def cell(name: str) -> str:
            return values[fields[name]].strip() if name in fields else ""

        card = self._card(cell("card"))
        if card is None:
            raise refuse(
                "card", f"there is no report card '{cell('card')}'" if cell("card") else "the card is empty"
            )
        rater = self._rater(card, cell("rater"), refuse)
        scores: dict[str, int] = {}
        if card.id not in self.deliverables:
            self.deliverables[card.id] = service.current_deliverables(self.db, card)
        names = {d.name.lower() for d in self.deliverables[card.id]}
        for key, (index, title) in self.columns.deliverables.items():
            text = values[index].strip()
            if not text:
                continue
            if key not in names:
                raise refuse(title, f"'{card.name}' has no deliverable '{title}'; leave the cell empty")
            scores[title] = self._number(text, title, refuse)
        nps = self._number(cell("nps"), "nps", refuse) if cell("nps") else None
        csat = self._number(cell("csat"), "csat", refuse) if cell("csat") else None
        try:
            answers = RatingAnswers(scores=scores, nps=nps, csat=csat, comment=cell("comment"))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = [str(part) for part in first.get("loc", ())]
            column = where[0] if where and where[0] in ("nps", "csat", "comment") else None
            raise refuse(column, str(first.get("msg", "")).removeprefix("Value error, ")) from exc
        try:
            prepared = service.prepare(
                self.db,
                card,
                cell("period"),
                rater,
                answers,
                self.today,
                deliverables=self.deliverables[card.id],
                given=self._given(card, cell("period")),
            )
        except Refused as exc:
            raise refuse(exc.field if exc.field != "scores" else None, str(exc)) from exc
        except Conflict as exc:  # a rating of the rater's in the store already, or a card no longer in use
            raise refuse("rater" if exc.details else "card", exc.message) from exc
        earlier = self.seen.setdefault((card.id, prepared.period, rater.user_id, rater.customer_id), line)
        if earlier != line:
            raise refuse(
                "rater", f"{rater.name} rates '{card.name}' for {prepared.period} on row {earlier} too"
            )
        return prepared

    def _given(self, card: ReportCard, period: str) -> dict[RaterKey, Given]:
        """The card's ratings of the period as stored, by the period as stored (``2026-1`` is ``2026-01``);
        none for a period the check refuses before it looks at them."""
        try:
            stored = str(service.check_period(card, period, self.today))
        except Refused:
            return {}
        if (card.id, stored) not in self.given:
            self.given[(card.id, stored)] = service.ratings_of_period(self.db, card.id, stored)
        return self.given[(card.id, stored)]

    def _card(self, reference: str) -> ReportCard | None:
        if reference not in self.cards:
            try:
                found = service.resolve(self.db, actor=self.actor, reference=reference) if reference else None
            except NotFound:
                found = None
            self.cards[reference] = self.db.get(ReportCard, found.id) if found is not None else None
        return self.cards[reference]

    def _rater(self, card: ReportCard, text: str, refuse: Refuser) -> Rater:
        if not text:
            raise refuse("rater", "the rater is empty: an e-mail address (internal cards) or a customer")
        kind = service.kind_of(card)
        email, customer = service.rater_reference(kind, text)
        if email is not None:
            key = email.lower()
            if key not in self.members:
                self.members[key] = accounts.members_by_email(self.db, emails=[key]).get(key)
            member = self.members[key]
            if member is None:
                raise refuse("rater", f"there is no user with the e-mail address '{email}'")
            try:
                service.check_rater(card, member, self.teams)
            except Refused as exc:
                raise refuse("rater", str(exc)) from exc
            return Rater(member.id, None, member.name)
        assert customer is not None
        if customer not in self.customers:
            try:
                found = customers.resolve(self.db, actor=self.actor, reference=customer)
                self.customers[customer] = (found.id, found.name)
            except (NotFound, Invalid) as exc:
                self.customers[customer] = exc.message
        resolved = self.customers[customer]
        if isinstance(resolved, str):
            raise refuse("rater", resolved)
        return Rater(None, resolved[0], resolved[1])

    @staticmethod
    def _number(text: str, column: str, refuse: Refuser) -> int:
        try:
            return int(text)
        except ValueError:
            raise refuse(column, f"'{text}' is not a whole number") from None

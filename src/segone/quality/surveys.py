"""The differentiation survey and the perception gap (docs/quality.md, "The perception gap").

One question, agreement 1 to 5, asked of three groups: executives (administrators and managers, or a user
said to be one), front-line staff (every other user) and customers. The gap page shows each group's share
agreeing (4 or 5). Front-line staff also state in words what makes us different; each statement is graded
against the strategy on record (passed in by the caller: the strategy lives in customer_service) by TF-IDF
cosine similarity (the knowledge domain's ``text_similarities``), passing at ``STRATEGY_THRESHOLD``.

Managers and administrators set surveys up; everyone who rates service answers for themselves and sees
the gap; recording someone else's answer (a colleague's, a customer's) needs the import permission.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Actor, Permission, Role
from segone.accounts.service import require
from segone.customers import service as customers
from segone.errors import Conflict, Invalid, NotFound
from segone.importing import (
    ImportProblem,
    ImportRejected,
    bad_rows_message,
    normalise_header,
    read_sheet,
    reported_as_dry_run,
)
from segone.knowledge.distinguishability.service import text_similarities
from segone.quality.models import Survey, SurveyAnswer
from segone.quality.schemas import (
    AGREEING,
    STRATEGY_THRESHOLD,
    AnswerCreate,
    AnswerOut,
    GradedStatement,
    GroupShare,
    PerceptionGap,
    StrategyCheck,
    SurveyCreate,
    SurveyGroup,
    SurveyImportReport,
    SurveyOut,
)

READ = Permission.RATE_SERVICE
MANAGE = Permission.MANAGE_REPORT_CARDS
ON_BEHALF = Permission.IMPORT_DATA
EXECUTIVE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})


def _out(survey: Survey) -> SurveyOut:
    return SurveyOut(id=survey.id, name=survey.name, question=survey.question, created_at=survey.created_at)


def create_survey(db: Session, *, actor: Actor, data: SurveyCreate) -> SurveyOut:
    require(actor, MANAGE)
    name = " ".join(data.name.split())
    if db.scalar(select(Survey.id).where(func.lower(Survey.name) == name.lower())) is not None:
        raise Conflict(f"There is a survey '{name}' already.")
    survey = Survey(name=name, question=" ".join(data.question.split()), created_by_id=actor.user_id)
    db.add(survey)
    db.flush()
    return _out(survey)


def list_surveys(db: Session, *, actor: Actor) -> list[SurveyOut]:
    require(actor, READ)
    return [_out(s) for s in db.scalars(select(Survey).order_by(Survey.id.desc()))]


def resolve_survey(db: Session, *, actor: Actor, reference: str) -> SurveyOut:
    """A survey named by its id or its name (without case)."""
    require(actor, READ)
    reference = " ".join(reference.split())
    survey: Survey | None
    if reference.isascii() and reference.isdigit() and len(reference) < 10:
        survey = db.get(Survey, int(reference))
    else:
        survey = db.scalars(select(Survey).where(func.lower(Survey.name) == reference.lower())).first()
    if survey is None:
        raise NotFound(f"There is no survey '{reference}'.")
    return _out(survey)


def _survey(db: Session, survey_id: int) -> Survey:
    survey = db.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"There is no survey {survey_id}.")
    return survey


def answer_survey(db: Session, *, actor: Actor, survey_id: int, data: AnswerCreate) -> AnswerOut:
    """One answer: the caller's, a colleague's (``user``) or a customer's (``customer``); once per survey."""
    require(actor, READ)
    survey = _survey(db, survey_id)
    user_id: int | None = None
    customer_id: int | None = None
    if data.customer:
        require(actor, ON_BEHALF)
        if data.user:
            raise Invalid.of_field("customer", "An answer is a user's or a customer's, not both.")
        if data.group not in (None, SurveyGroup.CUSTOMERS):
            raise Invalid.of_field("group", "A customer's answer is in the group 'customers'.")
        try:
            customer_id = customers.resolve(db, actor=actor, reference=data.customer).id
        except NotFound as exc:
            raise Invalid.of_field("customer", exc.message) from exc
        group = SurveyGroup.CUSTOMERS
    else:
        if data.group == SurveyGroup.CUSTOMERS:
            raise Invalid.of_field(
                "group", "Name the customer who answered; users are executives or frontline."
            )
        if data.user:
            try:
                member = accounts.member_by_email(db, email=data.user)
            except NotFound as exc:
                raise Invalid.of_field("user", exc.message) from exc
            if member.id != actor.user_id:
                require(actor, ON_BEHALF)
            user_id = member.id
        else:
            if actor.user_id is None:
                raise Invalid.of_field("user", "Name the user who answered (an e-mail).")
            user_id = actor.user_id
        role = Role(accounts.get(db, actor=SYSTEM, user_id=user_id).role)
        group = data.group or (SurveyGroup.EXECUTIVES if role in EXECUTIVE_ROLES else SurveyGroup.FRONTLINE)
    row = SurveyAnswer(
        survey_id=survey.id,
        group=group.value,
        user_id=user_id,
        customer_id=customer_id,
        agreement=data.agreement,
        statement=" ".join(data.statement.split()),
        recorded_by_id=actor.user_id,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError as exc:
        who = "This customer" if customer_id is not None else "This user"
        raise Conflict(f"{who} has answered '{survey.name}' already.") from exc
    return _answer_out(row)


def _answer_out(row: SurveyAnswer) -> AnswerOut:
    return AnswerOut(
        id=row.id,
        survey_id=row.survey_id,
        group=SurveyGroup(row.group),
        user_id=row.user_id,
        customer_id=row.customer_id,
        agreement=row.agreement,
        statement=row.statement,
    )


def record_answers(db: Session, *, actor: Actor, survey_id: int, answers: Sequence[AnswerCreate]) -> int:
    """Many answers at once (an import, the demo): all or none; returns how many."""
    for data in answers:
        answer_survey(db, actor=actor, survey_id=survey_id, data=data)
    return len(answers)


def grade(statements: Sequence[str], strategy: Sequence[str]) -> list[tuple[float, str | None]]:
    """Each statement's highest TF-IDF cosine similarity to a statement of the strategy, and which."""
    if not statements:
        return []
    if not strategy:
        return [(0.0, None) for _ in statements]
    matrix = text_similarities(list(statements), list(strategy)).toarray()
    graded: list[tuple[float, str | None]] = []
    for row in matrix:
        best = int(row.argmax())
        graded.append((round(float(row[best]), 4), strategy[best] if row[best] > 0 else None))
    return graded


def gap(db: Session, *, actor: Actor, survey_id: int, strategy: Sequence[str]) -> PerceptionGap:
    """Each group's share agreeing (4 or 5) side by side, and the strategy check of the front line's
    statements against ``strategy`` (the core service and service experience statements on record)."""
    require(actor, READ)
    survey = _survey(db, survey_id)
    rows = list(db.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == survey.id)))
    groups: list[GroupShare] = []
    for group in SurveyGroup:
        mine = [r for r in rows if r.group == group.value]
        agreeing = sum(1 for r in mine if r.agreement >= AGREEING)
        groups.append(
            GroupShare(
                group=group,
                label=group.label,
                answers=len(mine),
                agreeing=agreeing,
                share=agreeing / len(mine) if mine else None,
            )
        )
    stated = [r for r in rows if r.group == SurveyGroup.FRONTLINE.value and r.statement]
    graded = grade([r.statement for r in stated], strategy)
    statements = [
        GradedStatement(
            answer_id=r.id,
            statement=r.statement,
            similarity=similarity,
            closest=closest,
            passed=similarity >= STRATEGY_THRESHOLD,
        )
        for r, (similarity, closest) in zip(stated, graded, strict=True)
    ]
    passed = sum(1 for s in statements if s.passed)
    return PerceptionGap(
        survey=_out(survey),
        groups=groups,
        strategy_check=StrategyCheck(
            strategy_statements=len(strategy),
            checked=len(statements),
            passed=passed,
            pass_rate=passed / len(statements) if statements else None,
        ),
        statements=statements,
    )


# --- customers' answers from a CSV file --------------------------------------------------------------------


def import_answers(
    db: Session,
    *,
    actor: Actor,
    survey_id: int,
    data: bytes | str,
    dry_run: bool = False,
    encoding: str | None = None,
) -> SurveyImportReport:
    """Customers' answers from a CSV file, a row per customer: ``customer`` (id or identity) and
    ``agreement`` (1-5). All or nothing: one bad row (an unknown customer, an agreement out of 1-5, a
    customer who answered already, in the store or on an earlier row) writes nothing and the report
    names every bad row; ``dry_run`` only checks."""
    require(actor, ON_BEHALF)
    survey = _survey(db, survey_id)
    with reported_as_dry_run(dry_run):
        try:
            sheet = read_sheet(data, needs="the columns customer and agreement", encoding=encoding)
        except ImportRejected as exc:
            raise ImportRejected(exc.message, SurveyImportReport(errors=exc.problems)) from exc
        positions = {normalise_header(title): i for i, title in enumerate(sheet.header)}
        missing = [name for name in ("customer", "agreement") if name not in positions]
        if missing:
            problem = ImportProblem(
                row=sheet.header_line, problem=f"The file has no column {', '.join(missing)}."
            )
            raise ImportRejected(problem.problem, SurveyImportReport(errors=[problem], dry_run=dry_run))
    answered = set(
        db.scalars(
            select(SurveyAnswer.customer_id).where(
                SurveyAnswer.survey_id == survey.id, SurveyAnswer.customer_id.is_not(None)
            )
        )
    )
    good: list[tuple[int, int]] = []
    problems: list[ImportProblem] = []
    for line, values in sheet.rows:
        cells = {name: values[i].strip() if i < len(values) else "" for name, i in positions.items()}
        raw = cells["agreement"]
        if raw not in {"1", "2", "3", "4", "5"}:
            problems.append(
                ImportProblem(row=line, column="agreement", problem=f"'{raw}' is not an agreement of 1 to 5.")
            )
            continue
        try:
            customer_id = customers.resolve(db, actor=actor, reference=cells["customer"]).id
        except NotFound as exc:
            problems.append(ImportProblem(row=line, column="customer", problem=exc.message))
            continue
        if customer_id in answered:
            problems.append(
                ImportProblem(
                    row=line,
                    column="customer",
                    problem=f"This customer has answered '{survey.name}' already.",
                )
            )
            continue
        answered.add(customer_id)
        good.append((customer_id, int(raw)))
    bad = len({p.row for p in problems})
    report = SurveyImportReport(
        dry_run=dry_run,
        rows=len(sheet.rows),
        encoding=sheet.encoding,
        created=0 if problems else len(good),
        errors=problems,
    )
    if problems:
        raise ImportRejected(bad_rows_message(bad, len(sheet.rows), dry_run=dry_run), report)
    if not dry_run:
        db.add_all(
            SurveyAnswer(
                survey_id=survey.id,
                group=SurveyGroup.CUSTOMERS.value,
                customer_id=customer_id,
                agreement=agreement,
                statement="",
                recorded_by_id=actor.user_id,
            )
            for customer_id, agreement in good
        )
        db.flush()
    return report

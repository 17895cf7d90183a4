"""Report cards in the browser: the list (and setting one up), the rater's form, a period's review with its
plots, shortfalls and action plans, the bonus-plan download, and the public form of a rating link.

Reached from the dashboard and the home page, not from the top menu. Every page shows what the quality
service returns; plots are drawn on the server (``web.charts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from segone import formatting
from segone.accounts import service as accounts
from segone.accounts.schemas import Permission
from segone.errors import Conflict, Invalid, NotFound
from segone.exporting import Format
from segone.quality import service as quality
from segone.quality.measures import shown
from segone.quality.periods import PeriodLength, of_day, parse
from segone.quality.schemas import (
    COMPANY,
    EXTERNAL,
    ActionPlanCreate,
    ActionPlanUpdate,
    CardCreate,
    CardReview,
    CardUpdate,
    PlanStatus,
    RatingAnswers,
    RatingCreate,
    RatingLink,
)
from segone.runtime import Runtime
from segone.views import exports, perception
from segone.web import session as web_session
from segone.web.charts import (
    BarChart,
    LineChart,
    Matrix,
    diverging_bars,
    heat_matrix,
    horizontal_bars,
    line_chart,
)
from segone.web.deps import (
    Form,
    FormFields,
    RuntimeDep,
    Viewer,
    check_csrf,
    field_errors,
    requires,
    see_other,
    web_router,
)
from segone.web.exports import streamed
from segone.web.render import percent, render

router = web_router()
Rater = Annotated[Viewer, Depends(requires(Permission.RATE_SERVICE))]
Reader = Annotated[Viewer, Depends(requires(Permission.READ_CUSTOMERS))]
CardManager = Annotated[Viewer, Depends(requires(Permission.MANAGE_REPORT_CARDS))]
Exporter = Annotated[Viewer, Depends(requires(Permission.EXPORT_DATA))]
SCORE_FIELD = "score-"
CHART_WIDTH, CHART_HEIGHT = 320, 170
X_TICK_EVERY = 6  # of the twelve periods of a trend: the first, the seventh and the last are named


def _one_decimal(value: float) -> str:
    return formatting.decimal(value, 1)


def _lines(text: str) -> list[str]:
    """Deliverables one per line (or separated by ';')."""
    return [part for line in text.splitlines() for part in line.split(";") if part.strip()]


# --- the list -------------------------------------------------------------------------------------------


def _list_page(
    request: Request,
    runtime: Runtime,
    viewer: Viewer,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with runtime.session() as db:
        found = quality.list_cards(db, actor=viewer.actor)
        teams = list(accounts.teams(db).values())
    mine = found.team_id
    rates = [c for c in found.items if mine is not None and c.customer_team_id == mine]
    delivers = [c for c in found.items if mine is not None and c.supplier_team_id == mine]
    others = [c for c in found.items if c not in rates and c not in delivers]
    today = of_day(date.today())
    return render(
        request,
        "cards/list.html",
        status=status,
        cards=found,
        rates=rates,
        delivers=delivers,
        others=others,
        teams=teams,
        company=COMPANY,
        external=EXTERNAL,
        errors=errors or {},
        values=values or {"target": "4.0"},
        periods=[str(p) for p in reversed(today.last(12))],
    )


@router.get("/cards")
def card_list(request: Request, viewer: Rater, runtime: RuntimeDep) -> Response:
    return _list_page(request, runtime, viewer)


@router.post("/cards")
def create_card(request: Request, viewer: CardManager, form: Form, runtime: RuntimeDep) -> Response:
    try:
        data = CardCreate(
            supplier_team=quality.team_or_word(form.get("supplier"), supplier=True),
            customer_team=quality.team_or_word(form.get("customer"), supplier=False),
            touch_point=form.get("touch_point") or None,
            deliverables=_lines(form.raw("deliverables")),
            target=float(form.get("target") or 4.0),
            name=form.get("name") or None,
            period_length=PeriodLength(form.get("periods") or "month"),
        )
    except ValidationError as exc:
        errors = field_errors(exc, {"supplier_team": "supplier", "customer_team": "customer"})
        return _list_page(request, runtime, viewer, status=422, errors=errors, values=form.values())
    except ValueError:
        errors = {"target": "Write the target as a number, e.g. 4.0."}
        return _list_page(request, runtime, viewer, status=422, errors=errors, values=form.values())
    try:
        with runtime.session() as db:
            made = quality.create(db, actor=viewer.actor, data=data)
    except Invalid as exc:
        field = {"supplier_team": "supplier", "customer_team": "customer"}.get(exc.field or "", "form")
        return _list_page(
            request, runtime, viewer, status=422, errors={field: exc.message}, values=form.values()
        )
    except Conflict as exc:
        return _list_page(
            request, runtime, viewer, status=409, errors={"form": exc.message}, values=form.values()
        )
    web_session.load(request).flash(f"'{made.name}' is set up: {len(made.deliverables)} deliverables.")
    return see_other(f"/cards/{made.id}/review")


@router.get("/cards/empathy")
def empathy_page(request: Request, viewer: Rater, runtime: RuntimeDep, team: str = "") -> Response:
    """Think customer: the ratings employees predicted after their encounters against the customers' own."""
    with runtime.session() as db:
        report = quality.empathy(db, actor=viewer.actor, team=team or None)
        teams = list(accounts.teams(db).values()) if quality.sees_all(viewer.actor) else []
    months = sorted({r.month for r in report.teams}, reverse=True)
    return render(
        request,
        "cards/empathy.html",
        report=report,
        teams=teams,
        team=team,
        months=months,
        by_team={m: [r for r in report.teams if r.month == m] for m in months},
        by_employee={m: [r for r in report.employees if r.month == m] for m in months},
    )


@router.get("/cards/advocates")
def advocates_page(
    request: Request, viewer: Reader, runtime: RuntimeDep, days: int = 365, at_least: int = 2
) -> Response:
    """Advocacy: the customers who refer others to us and review us, from the events."""
    settings = runtime.settings
    with runtime.session() as db:
        found = quality.advocates(
            db,
            actor=viewer.actor,
            data_dir=settings.data_dir,
            analytics_url=settings.analytics_url,
            days=days,
            at_least=at_least,
        )
    return render(request, "cards/advocates.html", found=found, days=days)


@router.get("/cards/gap")
def gap_page(request: Request, viewer: Rater, runtime: RuntimeDep, survey: int = 0) -> Response:
    """The perception gap: the differentiation survey's groups side by side and the strategy check."""
    with runtime.session() as db:
        surveys = quality.list_surveys(db, actor=viewer.actor)
        chosen = survey or (surveys[0].id if surveys else 0)
        found = perception.gap(db, actor=viewer.actor, survey_id=chosen) if chosen else None
    chart = (
        horizontal_bars(
            [
                (g.label, g.share or 0.0, f"{percent(g.share)} of {formatting.plural(g.answers, 'answer')}")
                for g in found.groups
            ],
            top=1.0,
            shown=lambda v: f"{round(v * 100)}%",
            x_title="% agreeing (4 or 5 of 5)",
        )
        if found
        else None
    )
    return render(request, "cards/gap.html", found=found, surveys=surveys, chart=chart)


@router.get("/cards/export")
def export_scores(
    viewer: Exporter, runtime: RuntimeDep, period: str = "", team: str = "", format: Format = Format.CSV
) -> Response:
    """The download for the bonus plan: a month's scores (default: this month's so far)."""
    period = period or str(of_day(date.today()))
    with runtime.session() as db:  # the audit entry is committed before the download starts
        started = exports.start_card_scores(
            db, actor=viewer.actor, period=period, team=team or None, fmt=format
        )
    return streamed(started, format, runtime)


# --- the rater's form -----------------------------------------------------------------------------------


def _rate_page(
    request: Request,
    runtime: Runtime,
    viewer: Viewer,
    card_id: int,
    period: str | None,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
    link: RatingLink | None = None,
) -> Response:
    with runtime.session() as db:
        form = quality.rate_form(db, actor=viewer.actor, card_id=card_id, period=period)
    return render(
        request,
        "cards/rate.html",
        status=status,
        form=form,
        card=form.card,
        error=error,
        values=values or {},
        link=link,
        link_url=str(request.base_url).rstrip("/") + link.path if link else None,
        score_field=SCORE_FIELD,
    )


@router.get("/cards/{card_id}/rate")
def rate_form(
    request: Request, card_id: int, viewer: Rater, runtime: RuntimeDep, period: str = ""
) -> Response:
    return _rate_page(request, runtime, viewer, card_id, period or None)


def _scores(form: FormFields, names: dict[int, str]) -> dict[str, int]:
    scores: dict[str, int] = {}
    for deliverable_id, name in names.items():
        value = form.get(f"{SCORE_FIELD}{deliverable_id}")
        if value:
            scores[name] = int(value) if value.isdigit() and len(value) < 3 else -1
    return scores


@router.post("/cards/{card_id}/rate")
def rate(request: Request, card_id: int, viewer: Rater, form: Form, runtime: RuntimeDep) -> Response:
    period = form.get("period")
    with runtime.session() as db:
        card = quality.get(db, actor=viewer.actor, card_id=card_id)
    names = {d.id: d.name for d in card.current_deliverables}
    try:
        data = RatingCreate(period=period, scores=_scores(form, names), comment=form.raw("comment"))
        with runtime.session() as db:
            made = quality.rate(db, actor=viewer.actor, card_id=card_id, data=data, source="form")
    except ValidationError as exc:
        message = " ".join(field_errors(exc).values())
        return _rate_page(
            request, runtime, viewer, card_id, period, status=422, error=message, values=form.values()
        )
    except (Invalid, Conflict) as exc:
        # A period refused (one in the future) is not shown again: the form opens on the current one.
        shown_period = None if isinstance(exc, Invalid) and exc.field == "period" else period
        return _rate_page(
            request,
            runtime,
            viewer,
            card_id,
            shown_period,
            status=exc.http_status,
            error=exc.message,
            values=form.values(),
        )
    web_session.load(request).flash(f"Thank you: your rating of {card.name} for {made.period} is in.")
    return see_other(f"/cards/{card_id}/review?period={made.period}")


@router.post("/cards/{card_id}/links")
def make_link(
    request: Request, card_id: int, viewer: CardManager, form: Form, runtime: RuntimeDep
) -> Response:
    period = form.get("period")
    try:
        with runtime.session() as db:
            made = quality.make_link(
                db,
                actor=viewer.actor,
                card_id=card_id,
                customer=form.get("customer"),
                period=period,
                secret=runtime.settings.resolved_secret_key(),
            )
    except (Invalid, Conflict) as exc:
        return _rate_page(request, runtime, viewer, card_id, None, status=exc.http_status, error=exc.message)
    return _rate_page(request, runtime, viewer, card_id, made.period, link=made)


# --- the review -----------------------------------------------------------------------------------------


@dataclass
class TrendChart:
    name: str
    mean: str
    count: int
    shortfall: str | None
    drawing: LineChart


def _review_charts(found: CardReview) -> dict[str, Any]:
    length = found.card.period_length
    labels = [parse(period, length).short_label for period in found.periods]
    target = found.card.target
    trends = [
        TrendChart(
            name=d.name,
            mean=shown(d.mean) if d.mean is not None else formatting.NO_VALUE,
            count=d.count,
            shortfall=d.shortfall.why if d.shortfall else None,
            drawing=line_chart(
                labels,
                [("", "", d.trend)],
                shown=_one_decimal,
                y_title="mean score, 1 to 5",
                x_title="period",
                width=CHART_WIDTH,
                height=CHART_HEIGHT,
                top=5.0,
                y_tick_count=5,
                x_tick_every=X_TICK_EVERY,
                levels=[(target, f"target {shown(target)}")],
            ),
        )
        for d in found.deliverables
    ]
    spread: Matrix | None = None
    if found.deliverables:
        spread = heat_matrix(
            [(d.name, d.name) for d in found.deliverables],
            [(str(score), f"score {score}") for score in range(1, 6)],
            {
                (i, score - 1): d.distribution[str(score)]
                for i, d in enumerate(found.deliverables)
                for score in range(1, 6)
                if d.distribution[str(score)]
            },
            same=set(),
            row_title="deliverable",
            column_title="raters who gave each score, this period",
            shown=formatting.count,
            width=560,
        )
    nps: BarChart | None = None
    csat: LineChart | None = None
    if found.nps is not None and found.csat is not None:
        rated = [(p, v) for p, v in zip(found.periods, found.nps.trend, strict=True) if v is not None]
        if rated:
            nps = diverging_bars(
                [(parse(p, length).short_label, v, f"{v:+.0f}") for p, v in rated],
                shown=lambda v: f"{v:+.0f}" if v else "0",
                x_title="NPS: % promoters less % detractors",
            )
        csat = line_chart(
            labels,
            [("", "", found.csat.trend)],
            shown=lambda v: formatting.decimal(v, 2),
            y_title="mean CSAT, 1 to 5",
            x_title="period",
            width=CHART_WIDTH,
            height=CHART_HEIGHT,
            top=5.0,
            y_tick_count=5,
            x_tick_every=X_TICK_EVERY,
        )
    return {"trends": trends, "spread": spread, "nps_chart": nps, "csat_chart": csat}


def _review_page(
    request: Request,
    runtime: Runtime,
    viewer: Viewer,
    card_id: int,
    period: str | None,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with runtime.session() as db:
        found = quality.review(db, actor=viewer.actor, card_id=card_id, period=period)
    return render(
        request,
        "cards/review.html",
        status=status,
        review=found,
        card=found.card,
        statuses=list(PlanStatus),
        errors=errors or {},
        values=values or {},
        shown=shown,
        today=date.today().isoformat(),
        **_review_charts(found),
    )


@router.get("/cards/{card_id}/review")
def review(request: Request, card_id: int, viewer: Rater, runtime: RuntimeDep, period: str = "") -> Response:
    return _review_page(request, runtime, viewer, card_id, period or None)


@router.post("/cards/{card_id}/plans")
def add_plan(
    request: Request, card_id: int, viewer: CardManager, form: Form, runtime: RuntimeDep
) -> Response:
    period = form.get("period")
    try:
        data = ActionPlanCreate.model_validate(
            {
                "deliverable": form.get("deliverable"),
                "period": period,
                "owner": form.get("owner"),
                "due": form.get("due"),
                "notes": form.raw("notes"),
            }
        )
        with runtime.session() as db:
            made = quality.add_plan(db, actor=viewer.actor, card_id=card_id, data=data)
    except ValidationError as exc:
        errors = {f"plan-{key}": message for key, message in field_errors(exc).items()}
        return _review_page(
            request, runtime, viewer, card_id, period, status=422, errors=errors, values=form.values()
        )
    except Invalid as exc:
        errors = {f"plan-{exc.field or 'form'}": exc.message}
        return _review_page(
            request, runtime, viewer, card_id, period, status=422, errors=errors, values=form.values()
        )
    web_session.load(request).flash(
        f"Action plan for {made.deliverable}: {made.owner.name}, due {made.due:%d %b %Y}."
    )
    return see_other(f"/cards/{card_id}/review?period={made.period}#plans")


@router.post("/cards/{card_id}/plans/{plan_id}")
def update_plan(
    request: Request, card_id: int, plan_id: int, viewer: Rater, form: Form, runtime: RuntimeDep
) -> Response:
    """A plan's status (and notes): its owner may, and the card's managers (the service says who)."""
    status = form.get("status")
    try:
        data = ActionPlanUpdate(
            status=PlanStatus(status) if status else None, notes=form.raw("notes") or None
        )
    except ValueError:
        raise Invalid.of_field("status", f"'{status}' is not a status: open, in_progress or done.") from None
    with runtime.session() as db:
        changed = quality.update_plan(db, actor=viewer.actor, card_id=card_id, plan_id=plan_id, data=data)
    web_session.load(request).flash(f"Action plan for {changed.deliverable}: {changed.status.label}.")
    back = form.get("back")
    return see_other(back if back.startswith(f"/cards/{card_id}/review") else f"/cards/{card_id}/review")


@router.post("/cards/{card_id}/edit")
def edit_card(
    request: Request, card_id: int, viewer: CardManager, form: Form, runtime: RuntimeDep
) -> Response:
    period = form.get("period") or None
    try:
        data = CardUpdate(
            target=float(form.get("target")) if form.get("target") else None,
            deliverables=_lines(form.raw("deliverables")) if form.raw("deliverables").strip() else None,
        )
        with runtime.session() as db:
            changed = quality.update(db, actor=viewer.actor, card_id=card_id, data=data)
    except ValidationError as exc:
        errors = {f"card-{key}": message for key, message in field_errors(exc).items()}
        return _review_page(
            request, runtime, viewer, card_id, period, status=422, errors=errors, values=form.values()
        )
    except ValueError:
        errors = {"card-target": "Write the target as a number, e.g. 4.0."}
        return _review_page(
            request, runtime, viewer, card_id, period, status=422, errors=errors, values=form.values()
        )
    web_session.load(request).flash(f"Saved '{changed.name}': target {shown(changed.target)}.")
    return see_other(f"/cards/{card_id}/review" + (f"?period={period}" if period else ""))


# --- the public form of a rating link -------------------------------------------------------------------


def _link_page(
    request: Request,
    runtime: Runtime,
    token: str,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    try:
        with runtime.session() as db:
            form = quality.link_form(db, token=token, secret=runtime.settings.resolved_secret_key())
    except (NotFound, Conflict) as exc:
        return render(request, "cards/link_closed.html", status=exc.http_status, message=exc.message)
    return render(
        request,
        "cards/link.html",
        status=status,
        form=form,
        token=token,
        error=error,
        values=values or {},
        nps_answers=range(11),
    )


@router.get("/r/{token}")
def link_form(request: Request, token: str, runtime: RuntimeDep) -> Response:
    """No sign-in: the signed token says which customer rates which card for which period."""
    return _link_page(request, runtime, token)


@router.post("/r/{token}", dependencies=[Depends(check_csrf)])
def rate_by_link(request: Request, token: str, form: Form, runtime: RuntimeDep) -> Response:
    secret = runtime.settings.resolved_secret_key()
    try:
        with runtime.session() as db:
            found = quality.link_form(db, token=token, secret=secret)
    except (NotFound, Conflict):
        return _link_page(request, runtime, token)
    scores = {}
    for position, name in enumerate(found.deliverables):
        value = form.get(f"{SCORE_FIELD}{position}")
        if value:
            scores[name] = int(value) if value.isdigit() and len(value) < 3 else -1

    def answer(name: str) -> int | None:
        value = form.get(name)
        return int(value) if value.isdigit() and len(value) < 3 else None

    try:
        answers = RatingAnswers(
            scores=scores, nps=answer("nps"), csat=answer("csat"), comment=form.raw("comment")
        )
        with runtime.session() as db:
            quality.rate_by_link(db, token=token, secret=secret, answers=answers)
    except ValidationError as exc:
        message = " ".join(field_errors(exc).values())
        return _link_page(request, runtime, token, status=422, error=message, values=form.values())
    except (Invalid, Conflict) as exc:
        return _link_page(
            request, runtime, token, status=exc.http_status, error=exc.message, values=form.values()
        )
    return see_other(f"/r/{token}")

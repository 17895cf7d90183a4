"""Managers' pages: the self-assessment dashboard ("Do we know a lot about our customers?") and the
top-10 exercise (our most valuable customers side by side: what makes each unique, what each knows we know).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from segone.accounts.schemas import Permission
from segone.knowledge.assessment.schemas import Month
from segone.views.schemas import CustomerSheet
from segone.views.self_assessment import self_assessment
from segone.views.top_customers import TOP, Ranking, top_customers
from segone.web.deps import Categories, RuntimeDep, Viewer, requires, web_router
from segone.web.render import render

router = web_router()
Manager = Annotated[Viewer, Depends(requires(Permission.VIEW_TEAM_DASHBOARDS))]
WIDTH, HEIGHT, PAD = 300, 110, 18
# Customers count from their first activity, not from when their record was made: a purchase history
# imported today would otherwise make thousands of customers new this month, and the share drop.
KNOWN_SHARE_NOTE = (
    "Of the customers active by the month's end \u2014 counted from their first activity: first purchase, "
    "first encounter or when they were added \u2014 the share we know at least one fact about."
)
RANKINGS: dict[Ranking, str] = {
    "clv": "Value of the next year (CLV)",
    "value": "Spent so far",
    "facts": "Most known about",
}


@dataclass
class Chart:
    title: str
    points: str
    dots: list[tuple[str, str, str]]  # x, y, title
    first: str
    last: str
    latest: str
    note: str = ""
    width: int = WIDTH
    height: int = HEIGHT


@router.get("/dashboards/knowledge")
def knowledge_dashboard(request: Request, viewer: Manager, runtime: RuntimeDep) -> Response:
    months = runtime.settings.freshness_months
    with runtime.session() as db:
        found = self_assessment(db, actor=viewer.actor, freshness_months=months)
    rows = found.months
    charts = [
        _chart(
            "Customers we know anything about",
            [m.known_share for m in rows],
            rows,
            percent=True,
            note=KNOWN_SHARE_NOTE,
        ),
        _chart("Facts per customer", [m.facts_per_customer for m in rows], rows),
        _chart("Categories known, per known customer", [m.categories_per_customer for m in rows], rows),
        _chart(
            "Recognition ratio: they know we know", [m.recognition_ratio for m in rows], rows, percent=True
        ),
        _chart("Employees who recorded a fact", [m.contributors_share for m in rows], rows, percent=True),
        _chart("Listening share in encounters", [m.listening_share for m in rows], rows, percent=True),
    ]
    latest = found.refreshes[-1] if found.refreshes else None
    spread = []
    if latest is not None:
        top = max(latest.distribution.values(), default=0) or 1
        spread = [
            {"size": size, "count": count, "width": round(100 * count / top, 1)}
            for size, count in latest.distribution.items()
        ]
    return render(
        request,
        "dashboards/knowledge.html",
        charts=charts,
        found=found,
        latest=latest,
        spread=spread,
        segments=_chart(
            "Segments of one, by knowledge refresh",
            [float(r.segments_of_one) for r in found.refreshes],
            None,
            labels=[r.at.strftime("%Y-%m-%d") for r in found.refreshes],
        )
        if len(found.refreshes) > 1
        else None,
    )


@router.get("/dashboards/top")
def top_ten(
    request: Request,
    viewer: Manager,
    runtime: RuntimeDep,
    categories: Categories,
    by: str = "clv",
    ids: str = "",
) -> Response:
    """The top customers side by side: by CLV, by value, by facts known, or the ones chosen (``ids``)."""
    chosen = [int(part) for part in ids.replace(" ", "").split(",") if part.isdigit() and len(part) < 10][
        :TOP
    ]
    ranking: Ranking = next((key for key in RANKINGS if key == by), "clv")
    with runtime.session() as db:
        sheets = top_customers(
            db,
            actor=viewer.actor,
            by=ranking,
            chosen=chosen,
            categories=categories,
            freshness_months=runtime.settings.freshness_months,
        )
    return render(
        request,
        "dashboards/top.html",
        sheets=[_side(sheet) for sheet in sheets],
        by=ranking,
        rankings=RANKINGS,
        chosen=",".join(map(str, chosen)),
    )


def _side(sheet: CustomerSheet) -> dict[str, Any]:
    """One customer's column of the exercise: what is theirs alone, what is rare, what they know we know."""
    facts = sheet.facts()
    scores, profile = sheet.behaviour.scores, sheet.behaviour.profile
    return {
        "id": sheet.customer.id,
        "name": sheet.customer.name,
        "kind": sheet.customer.kind.value,
        "distinguishability": sheet.knowledge.distinguishability,
        "unique": [f for f in facts if f.holders == 1],
        "rare": [f for f in facts if f.rare and f.holders != 1],
        "acknowledged": [f for f in facts if f.acknowledgement is not None],
        "facts": len(facts),
        "recognition": sheet.recognition.ratio,
        "next_question": sheet.knowledge.next_question,
        "clv": None if scores is None else scores.clv,
        "spent": None if profile is None else profile.total_value,
    }


def _chart(
    title: str,
    values: list[float | None],
    months: list[Month] | None,
    *,
    percent: bool = False,
    labels: list[str] | None = None,
    note: str = "",
) -> Chart:
    names = labels if labels is not None else [m.month for m in months or []]
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    top = max((v for _, v in known), default=0.0) or 1.0
    n = max(len(values) - 1, 1)

    def x(i: int) -> float:
        return PAD + i * (WIDTH - 2 * PAD) / n

    def y(v: float) -> float:
        return HEIGHT - PAD - v / top * (HEIGHT - 2 * PAD)

    def shown(value: float) -> str:
        return f"{value:.0%}" if percent else f"{value:,.2f}"

    return Chart(
        title=title,
        points=" ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in known),
        dots=[(f"{x(i):.1f}", f"{y(v):.1f}", f"{names[i]}: {shown(v)}") for i, v in known],
        first=names[0] if names else "",
        last=names[-1] if names else "",
        latest=shown(known[-1][1]) if known else "\u2013",
        note=note,
    )

"""Managers' pages: the self-assessment dashboard ("Do we know a lot about our customers?") and the
top-10 exercise (our most valuable customers side by side: what makes each unique, what each knows we know).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from segone import formatting
from segone.accounts.schemas import Permission
from segone.views.customer_sheet import badge
from segone.views.schemas import CustomerSheet
from segone.views.self_assessment import self_assessment
from segone.views.top_customers import TOP, Ranking, top_customers
from segone.web.charts import LineChart, horizontal_bars, line_chart
from segone.web.deps import Categories, RuntimeDep, Viewer, requires, web_router
from segone.web.render import percent, render

router = web_router()
Manager = Annotated[Viewer, Depends(requires(Permission.VIEW_TEAM_DASHBOARDS))]
WIDTH, HEIGHT = 320, 170
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
    drawing: LineChart
    latest: str
    note: str = ""


def _share(value: float) -> str:
    return f"{round(value * 100)}%"


def _ratio(value: float) -> str:
    return formatting.decimal(value, 2)


@router.get("/dashboards/knowledge")
def knowledge_dashboard(request: Request, viewer: Manager, runtime: RuntimeDep) -> Response:
    months = runtime.settings.freshness_months
    with runtime.session() as db:
        found = self_assessment(db, actor=viewer.actor, freshness_months=months)
    rows = found.months
    names = [m.month for m in rows]
    charts = [
        _chart(
            "Customers we know anything about",
            [m.known_share for m in rows],
            names,
            unit="% of active customers",
            percent=True,
            note=KNOWN_SHARE_NOTE,
        ),
        _chart("Facts per customer", [m.facts_per_customer for m in rows], names, unit="facts per customer"),
        _chart(
            "Categories known, per known customer",
            [m.categories_per_customer for m in rows],
            names,
            unit="categories per known customer",
        ),
        _chart(
            "Recognition ratio: they know we know",
            [m.recognition_ratio for m in rows],
            names,
            unit="% of current facts",
            percent=True,
        ),
        _chart(
            "Employees who recorded a fact",
            [m.contributors_share for m in rows],
            names,
            unit="% of active employees",
            percent=True,
        ),
        _chart(
            "Listening share in encounters",
            [m.listening_share for m in rows],
            names,
            unit="% of an encounter spent listening",
            percent=True,
        ),
    ]
    latest = found.refreshes[-1] if found.refreshes else None
    spread = None
    if latest is not None:
        spread = horizontal_bars(
            [(size, float(n), formatting.plural(n, "customer")) for size, n in latest.distribution.items()],
            top=float(max(latest.distribution.values(), default=0)),
            shown=formatting.count,
            x_title="customers, by how many customers look like them (themselves included)",
        )
    teams = (
        horizontal_bars(
            [
                (
                    t.team,
                    t.ratio or 0.0,
                    f"{percent(t.ratio)} of {formatting.plural(t.facts, 'fact')}",
                )
                for t in found.teams
            ],
            top=1.0,
            shown=_share,
            x_title="% of the team's current facts the customer has been shown we know",
        )
        if found.teams
        else None
    )
    return render(
        request,
        "dashboards/knowledge.html",
        charts=charts,
        found=found,
        latest=latest,
        spread=spread,
        teams=teams,
        segments=_chart(
            "Segments of one, by knowledge refresh",
            [float(r.segments_of_one) for r in found.refreshes],
            [r.at.strftime("%Y-%m-%d") for r in found.refreshes],
            unit="customers",
            shown=formatting.count,
            x_title="knowledge refresh",
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
            currency=runtime.settings.currency,
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
        "rare": [(f, badge(f)) for f in facts if f.rare and f.holders != 1],
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
    names: list[str],
    *,
    unit: str,
    percent: bool = False,
    shown: Callable[[float], str] | None = None,
    x_title: str = "end of month",
    note: str = "",
) -> Chart:
    """A line over months (or refreshes): 0 to 100% for shares, round ticks otherwise; the last value
    written at its point and above the chart."""
    write = shown or (_share if percent else _ratio)
    known = [v for v in values if v is not None]
    return Chart(
        title=title,
        drawing=line_chart(
            names,
            [("", "", values)],
            shown=write,
            y_title=unit,
            x_title=x_title,
            width=WIDTH,
            height=HEIGHT,
            top=1.0 if percent else None,
        ),
        latest=write(known[-1]) if known else "\u2013",
        note=note,
    )

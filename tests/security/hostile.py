"""Hostile text in everything a user can set, and every route of the app with its path filled in.

The security tests seed with :func:`seed` and walk :func:`get_routes`: a page, an export or a search box
added later is requested by construction, and a path parameter nobody knows yet fails loudly
(:func:`concrete`) rather than being skipped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from segone.accounts import service as accounts
from segone.accounts.schemas import SYSTEM, Role, UserCreate
from segone.channels import Channel
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseOpen
from segone.customer_service.strategy import service as strategy
from segone.customer_service.strategy.schemas import StrategyIn
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.personalisation import service as offerings
from segone.personalisation.messages import service as messages
from segone.personalisation.messages.schemas import Purpose, TemplateIn
from segone.personalisation.schemas import OfferingCreate
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import ActionPlanCreate, AnswerCreate, CardCreate, SurveyCreate
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from segone.views.exports import ExportKind
from tests.factories import MadeUser, make_customer, make_user

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
MARKUP = (SCRIPT, ATTRIBUTE)
"""What must never reach a page as it is: a script element, and a way out of an attribute into a tag."""
HTML = f"{SCRIPT}{ATTRIBUTE}"

FORMULAS = ('=HYPERLINK("http://x")', "+1+1", "@SUM(A1)", "-2+3", "\t=1+2", "\r=1+2")
"""Text a spreadsheet would run as a formula if it started a cell as it is."""


DELIVERABLE = f"@SUM(A1) {SCRIPT}"
"""A report card's deliverable may not hold ``=`` (it separates scores in imports)."""


def hostile(n: int = 0) -> str:
    """Text that starts with a formula and holds the markup: one value tests both kinds of export."""
    return f"{FORMULAS[n % len(FORMULAS)]} {HTML}"


@dataclass(frozen=True)
class Seeded:
    admin: MadeUser
    ids: dict[str, list[int | str]]
    """Values for every path parameter of the app, by name (several where each must be requested)."""


def seed(runtime: Runtime) -> Seeded:
    """Hostile text in every text field a user sets, through the services, with one row of each kind."""
    settings = runtime.settings
    admin = make_user(runtime, Role.ADMIN, team=hostile(1))
    actor = admin.actor
    colleague = make_user(runtime, Role.FRONTLINE, team=hostile(1))
    with runtime.session() as db:
        accounts.create(
            db,
            actor=SYSTEM,
            data=UserCreate(email="hostile@example.com", name=hostile(3), role=Role.MANAGER, team=hostile(1)),
        )
    customer_ids = [
        make_customer(
            runtime,
            name=hostile(n),
            identities=[f"crm:{n}{HTML}"],
            attributes={"plan": hostile(n + 1), hostile(n + 2): "gold" if n % 2 else "silver"},
        )
        for n in range(len(FORMULAS))
    ]
    customer_id = customer_ids[0]
    categories = categories_in_force(settings)
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=actor,
            customer_id=customer_id,
            data=EncounterCreate(
                channel=Channel.STORE,
                notes=f"{hostile(2)}. She said {HTML} twice.",
                cares_about=hostile(3),
                worries_about=hostile(4),
            ),
            categories=categories,
        )
        facts = [
            knowledge.add(
                db,
                actor=actor,
                customer_id=customer_id,
                data=DifferentiatorCreate(text=hostile(n), category="free_time", encounter_id=encounter.id),
                categories=categories,
            )
            for n in range(len(FORMULAS))
        ]
        token = accounts.create_token(db, actor=actor, user_id=admin.id, name=hostile(5))
        offering = offerings.create(
            db,
            actor=actor,
            data=OfferingCreate(
                key="lessons-x",
                name=hostile(0),
                description=hostile(1),
                attributes={"level": hostile(2)},
                needs=[hostile(3)],
            ),
        )
        for n, purpose in enumerate(Purpose):
            messages.set_template(db, actor=actor, purpose=purpose, data=TemplateIn(template=hostile(n)))
        case = recovery.open_case(db, actor=actor, data=CaseOpen(customer_id=customer_id, summary=hostile(0)))
        promise = promises.make(
            db,
            actor=actor,
            data=PromiseCreate(customer_id=customer_id, text=hostile(1), due_on=utcnow().date()),
        )
        strategy.set_strategy(
            db,
            actor=actor,
            data=StrategyIn(core_service=[hostile(2)], service_experience=[hostile(3)], note=hostile(4)),
        )
        survey = quality.create_survey(
            db, actor=actor, data=SurveyCreate(name=hostile(4), question=hostile(5))
        )
        quality.answer_survey(
            db, actor=actor, survey_id=survey.id, data=AnswerCreate(agreement=2, statement=hostile(0))
        )
    version = segmentation.build(runtime.sessions, settings, actor=actor, variables=["attribute:plan"])
    with runtime.session() as db:
        audience = segmentation.save_audience(
            db, settings, actor=actor, name=hostile(3), version_id=version.id, node_id=1
        )
    make_user(runtime, Role.FRONTLINE, team=hostile(4))
    this_month = str(of_day(date.today()))
    with runtime.session() as db:
        card = quality.create(
            db,
            actor=actor,
            data=CardCreate(supplier_team=hostile(4), customer_team=hostile(1), deliverables=[DELIVERABLE]),
        )
        plan = quality.add_plan(
            db,
            actor=actor,
            card_id=card.id,
            data=ActionPlanCreate(
                deliverable=DELIVERABLE,
                period=this_month,
                owner=colleague.email,
                due=date.today() + timedelta(days=7),
                notes=hostile(0),
            ),
        )
        external = quality.create(
            db,
            actor=actor,
            data=CardCreate(supplier_team=hostile(1), touch_point="web", deliverables=[DELIVERABLE]),
        )
        link = quality.make_link(
            db,
            actor=actor,
            card_id=external.id,
            customer=str(customer_id),
            period=this_month,
            secret=settings.resolved_secret_key(),
        )
    ids: dict[str, list[int | str]] = {
        "customer_id": [customer_id],
        "differentiator_id": [facts[0].id],
        "encounter_id": [encounter.id],
        "token_id": [token.id],
        "user_id": [colleague.id],
        "what": [kind.value for kind in ExportKind],
        "key": [offering.key],
        "purpose": [purpose.value for purpose in Purpose],
        "case_id": [case.id],
        "promise_id": [promise.id],
        "version_id": [version.id],
        "node_id": [1],
        "audience_id": [audience.id],
        "card_id": [card.id, external.id],
        "plan_id": [plan.id],
        "token": [link.token],
        "survey_id": [survey.id],
        "identity": [f"crm:0{HTML}"],
        "job_id": ["no-such-job"],  # no such job in the store; a 404 is still an answer
    }
    return Seeded(admin=admin, ids=ids)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """The full path, prefix included (``/api/v1/customers``)."""
    route: APIRoute

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def query(self) -> list[str]:
        return [param.name for param in self.route.dependant.query_params]

    @property
    def text_query(self) -> list[str]:
        """The query parameters that take free text (a search box, a filter)."""
        return [
            param.alias
            for param in self.route.dependant.query_params
            if param.field_info.annotation in (str, str | None)
        ]


def get_routes(app: FastAPI) -> list[Route]:
    """Every GET route of the app, web and API, however deeply its router is included, sorted by path."""
    found = {
        context.path: context.original_route
        for context in iter_route_contexts(app.routes)
        if context.path and context.methods and "GET" in context.methods
    }
    return [Route("GET", path, route) for path, route in sorted(found.items()) if isinstance(route, APIRoute)]


def concrete(path: str, ids: dict[str, list[int | str]]) -> list[str]:
    """The path with each parameter filled in, once for every combination of the values seeded."""
    names = [name for name in ids if "{" + name + "}" in path]
    paths = []
    for values in itertools.product(*(ids[name] for name in names)):
        filled = path
        for name, value in zip(names, values, strict=True):
            filled = filled.replace("{" + name + "}", str(value))
        assert "{" not in filled, f"{path}: a path parameter the security seed has no value for"
        paths.append(filled)
    return paths

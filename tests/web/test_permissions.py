"""Every web page by every role: anonymous → sign in, lacking the role → 403 that says why, allowed → in.

The routes are read from the application itself, so a page added without a line in ``EXPECTED`` fails.
POST routes are sent without the form token: an allowed role gets past the permission check and is
stopped by the CSRF check (a different 403 page), so the matrix changes nothing and proves both checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from segone.accounts import service as accounts
from segone.accounts.schemas import ROLE_PERMISSIONS, Permission, Role
from segone.channels import Channel
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseOpen
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.personalisation import service as offerings
from segone.personalisation.schemas import OfferingCreate
from segone.quality import service as quality
from segone.quality.periods import of_day
from segone.quality.schemas import ActionPlanCreate, CardCreate
from segone.segmentation import service as segmentation
from segone.server import create_app
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import client_for, sign_in, signed_in

PUBLIC = "public"
SIGNED_IN = "signed in"
P = Permission

# (method, path) -> what it needs: PUBLIC, SIGNED_IN (any role), or a permission.
EXPECTED: dict[tuple[str, str], str | Permission] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    # The API's reference pages show only the public OpenAPI document (/openapi.json).
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/"): P.READ_CUSTOMERS,
    ("GET", "/customers"): P.READ_CUSTOMERS,
    ("GET", "/customers/new"): P.WRITE_CUSTOMERS,
    ("GET", "/customers/import"): P.IMPORT_DATA,
    ("POST", "/customers/import/check"): P.IMPORT_DATA,
    ("POST", "/customers/import"): P.IMPORT_DATA,
    ("POST", "/customers"): P.WRITE_CUSTOMERS,
    ("GET", "/customers/{customer_id}"): P.READ_CUSTOMERS,
    ("GET", "/customers/{customer_id}/edit"): P.WRITE_CUSTOMERS,
    ("POST", "/customers/{customer_id}/edit"): P.WRITE_CUSTOMERS,
    ("POST", "/customers/{customer_id}/consent"): P.WRITE_CUSTOMERS,
    ("GET", "/customers/{customer_id}/history"): P.READ_CUSTOMERS,
    ("GET", "/customers/{customer_id}/forecast"): P.READ_CUSTOMERS,
    ("GET", "/customers/{customer_id}/alive-history"): P.READ_CUSTOMERS,
    # Everything held about a customer, and who read or changed it: administrators only.
    ("GET", "/customers/{customer_id}/data-export"): P.MANAGE_USERS,
    ("GET", "/customers/{customer_id}/erase"): P.MANAGE_USERS,
    ("POST", "/customers/{customer_id}/erase"): P.MANAGE_USERS,
    ("GET", "/customers/{customer_id}/briefing"): P.READ_CUSTOMERS,
    ("GET", "/briefing"): P.READ_CUSTOMERS,
    ("GET", "/customers/{customer_id}/merge"): P.MERGE_CUSTOMERS,
    ("POST", "/customers/{customer_id}/merge"): P.MERGE_CUSTOMERS,
    ("POST", "/customers/{customer_id}/differentiators"): P.ADD_DIFFERENTIATORS,
    ("POST", "/differentiators/{differentiator_id}/acknowledge"): P.ACKNOWLEDGE,
    ("POST", "/differentiators/{differentiator_id}/edit"): P.ADD_DIFFERENTIATORS,
    ("POST", "/differentiators/{differentiator_id}/outdate"): P.ADD_DIFFERENTIATORS,
    ("GET", "/customers/{customer_id}/encounters"): P.READ_CUSTOMERS,
    ("GET", "/customers/{customer_id}/encounters/new"): P.ADD_ENCOUNTERS,
    ("POST", "/customers/{customer_id}/encounters"): P.ADD_ENCOUNTERS,
    ("GET", "/encounters/{encounter_id}"): P.READ_CUSTOMERS,
    ("POST", "/encounters/{encounter_id}/suggestions/confirm"): P.ADD_DIFFERENTIATORS,
    ("POST", "/encounters/{encounter_id}/suggestions/reject"): P.ADD_DIFFERENTIATORS,
    ("GET", "/search"): P.READ_CUSTOMERS,
    ("GET", "/analytics/models"): P.RUN_ANALYTICS,
    ("GET", "/dashboards/knowledge"): P.VIEW_TEAM_DASHBOARDS,
    ("GET", "/dashboards/top"): P.VIEW_TEAM_DASHBOARDS,
    # The segment explorer reads what segmentation.service lets managers read; building is analysts'.
    ("GET", "/segments"): P.VIEW_TEAM_DASHBOARDS,
    ("POST", "/segments/build"): P.RUN_ANALYTICS,
    ("GET", "/segments/compare"): P.VIEW_TEAM_DASHBOARDS,
    ("GET", "/segments/{version_id}"): P.VIEW_TEAM_DASHBOARDS,
    ("GET", "/segments/{version_id}/models"): P.RUN_ANALYTICS,
    ("GET", "/segments/{version_id}/{node_id}"): P.VIEW_TEAM_DASHBOARDS,
    ("GET", "/segments/{version_id}/{node_id}/export"): P.EXPORT_DATA,
    ("POST", "/segments/{version_id}/{node_id}/audience"): P.RUN_ANALYTICS,
    # Audiences as the service lets them: managers read, analysts change, those who may export download.
    ("GET", "/audiences"): P.VIEW_TEAM_DASHBOARDS,
    ("GET", "/audiences/{audience_id}"): P.VIEW_TEAM_DASHBOARDS,
    ("POST", "/audiences/{audience_id}/members"): P.RUN_ANALYTICS,
    ("POST", "/audiences/{audience_id}/members/{customer_id}/remove"): P.RUN_ANALYTICS,
    ("POST", "/audiences/{audience_id}/refresh"): P.RUN_ANALYTICS,
    ("POST", "/audiences/{audience_id}/delete"): P.RUN_ANALYTICS,
    ("GET", "/audiences/{audience_id}/export"): P.EXPORT_DATA,
    ("GET", "/account"): P.MANAGE_OWN_TOKENS,
    ("POST", "/account/tokens"): P.MANAGE_OWN_TOKENS,
    ("POST", "/account/tokens/{token_id}/revoke"): P.MANAGE_OWN_TOKENS,
    ("GET", "/exports/{what}"): P.EXPORT_DATA,
    ("GET", "/admin/users"): P.MANAGE_USERS,
    ("POST", "/admin/users"): P.MANAGE_USERS,
    ("GET", "/admin/users/{user_id}"): P.MANAGE_USERS,
    ("POST", "/admin/users/{user_id}"): P.MANAGE_USERS,
    ("POST", "/admin/users/{user_id}/deactivate"): P.MANAGE_USERS,
    ("POST", "/admin/users/{user_id}/activate"): P.MANAGE_USERS,
    ("GET", "/admin/audit"): P.MANAGE_USERS,
    ("GET", "/admin/audit/export"): P.MANAGE_USERS,
    # The catalogue of offerings is changed by those who may change settings (administrators).
    ("GET", "/admin/offerings"): P.MANAGE_SETTINGS,
    ("POST", "/admin/offerings"): P.MANAGE_SETTINGS,
    ("GET", "/admin/offerings/{key}/edit"): P.MANAGE_SETTINGS,
    ("POST", "/admin/offerings/{key}/edit"): P.MANAGE_SETTINGS,
    ("POST", "/admin/offerings/{key}/deactivate"): P.MANAGE_SETTINGS,
    ("POST", "/admin/offerings/{key}/activate"): P.MANAGE_SETTINGS,
    ("POST", "/admin/offerings/import/check"): P.MANAGE_SETTINGS,
    ("POST", "/admin/offerings/import"): P.MANAGE_SETTINGS,
    # Messages: drafted and marked sent by whoever may mark what a customer knows we know; the templates
    # are changed by those who may change settings.
    ("GET", "/customers/{customer_id}/messages/draft"): P.ACKNOWLEDGE,
    ("POST", "/customers/{customer_id}/messages/draft"): P.ACKNOWLEDGE,
    ("POST", "/customers/{customer_id}/messages"): P.ACKNOWLEDGE,
    ("GET", "/customers/{customer_id}/messages"): P.READ_CUSTOMERS,
    ("GET", "/customers/{customer_id}/advise"): P.READ_CUSTOMERS,
    ("GET", "/admin/message-templates"): P.MANAGE_SETTINGS,
    ("GET", "/admin/message-templates/{purpose}"): P.MANAGE_SETTINGS,
    ("POST", "/admin/message-templates/{purpose}"): P.MANAGE_SETTINGS,
    ("POST", "/admin/message-templates/{purpose}/reset"): P.MANAGE_SETTINGS,
    # Recovery and promises: every role reads them and acts on them (front-line staff first of all); the
    # service strategy is set by those who may change settings, read by everyone on the home page.
    ("GET", "/recovery"): P.READ_CUSTOMERS,
    ("GET", "/recovery/{case_id}"): P.READ_CUSTOMERS,
    ("POST", "/customers/{customer_id}/recovery"): P.ADD_ENCOUNTERS,
    ("POST", "/recovery/{case_id}/actions"): P.ADD_ENCOUNTERS,
    ("POST", "/recovery/{case_id}/close"): P.ADD_ENCOUNTERS,
    ("POST", "/recovery/{case_id}/change"): P.ADD_ENCOUNTERS,
    ("POST", "/customers/{customer_id}/promises"): P.ADD_ENCOUNTERS,
    ("POST", "/promises/{promise_id}/keep"): P.ADD_ENCOUNTERS,
    ("POST", "/promises/{promise_id}/break"): P.ADD_ENCOUNTERS,
    ("GET", "/admin/strategy"): P.MANAGE_SETTINGS,
    ("POST", "/admin/strategy"): P.MANAGE_SETTINGS,
    # Report cards: every role sees and rates its team's cards; managers set them up and add action plans;
    # a plan's status is changed by its owner or the card's managers (the service says which).
    ("GET", "/cards"): P.RATE_SERVICE,
    ("POST", "/cards"): P.MANAGE_REPORT_CARDS,
    ("GET", "/cards/export"): P.EXPORT_DATA,
    ("GET", "/cards/empathy"): P.RATE_SERVICE,
    ("GET", "/cards/advocates"): P.READ_CUSTOMERS,
    ("GET", "/cards/gap"): P.RATE_SERVICE,
    ("GET", "/cards/{card_id}/rate"): P.RATE_SERVICE,
    ("POST", "/cards/{card_id}/rate"): P.RATE_SERVICE,
    ("POST", "/cards/{card_id}/links"): P.MANAGE_REPORT_CARDS,
    ("GET", "/cards/{card_id}/review"): P.RATE_SERVICE,
    ("POST", "/cards/{card_id}/plans"): P.MANAGE_REPORT_CARDS,
    ("POST", "/cards/{card_id}/plans/{plan_id}"): P.RATE_SERVICE,
    ("POST", "/cards/{card_id}/edit"): P.MANAGE_REPORT_CARDS,
    # A rating link's form: the signed token is the permission (an external customer does not sign in).
    ("GET", "/r/{token}"): PUBLIC,
    ("POST", "/r/{token}"): PUBLIC,
}


def _walk(routes: Iterable[Any]) -> Iterable[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def web_routes(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in _walk(app.routes)
        if route.endpoint.__module__.startswith("segone.web.")
        for method in route.methods
    }


def test_every_web_route_is_in_the_expected_table(live_server: LiveServer) -> None:
    found = web_routes(create_app(runtime=live_server.runtime))
    assert found, "no web routes found: did the app stop including the web router?"
    missing = sorted(found - EXPECTED.keys())
    gone = sorted(EXPECTED.keys() - found)
    assert not missing, f"web routes without a line in EXPECTED: {missing}"
    assert not gone, f"EXPECTED names routes the app does not have: {gone}"


def test_web_pages_stay_out_of_the_api_document(live_server: LiveServer) -> None:
    with client_for(live_server) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/api/")]


def _concrete(path: str, ids: dict[str, int | str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", str(value))
    assert "{" not in path, path
    return path


def _allowed(need: str | Permission, role: Role) -> bool:
    if need in (PUBLIC, SIGNED_IN):
        return True
    assert isinstance(need, Permission)
    return need in ROLE_PERMISSIONS[role]


def test_page_role_matrix(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    users = {role: make_user(runtime, role) for role in Role}
    target = make_user(runtime, Role.FRONTLINE)
    customer_id = make_customer(runtime, name="Matrix Customer")
    admin = users[Role.ADMIN].actor
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=admin,
            customer_id=customer_id,
            data=DifferentiatorCreate(text="Collects vintage maps", category="free_time"),
            categories=categories_in_force(runtime.settings),
        )
        encounter = encounters.record(
            db,
            actor=admin,
            customer_id=customer_id,
            data=EncounterCreate(channel=Channel.STORE),
            categories=categories_in_force(runtime.settings),
        )
        token = accounts.create_token(db, actor=admin, user_id=users[Role.ADMIN].id, name="matrix")
        offering = offerings.create(
            db, actor=admin, data=OfferingCreate(key="matrix-lessons", name="Lessons")
        )
        case = recovery.open_case(
            db, actor=admin, data=CaseOpen(customer_id=customer_id, summary="Parcel never came")
        )
        promise = promises.make(
            db,
            actor=admin,
            data=PromiseCreate(customer_id=customer_id, text="Call back", due_on=utcnow().date()),
        )
        ids: dict[str, int | str] = {
            "case_id": case.id,
            "promise_id": promise.id,
            "customer_id": customer_id,
            "differentiator_id": fact.id,
            "encounter_id": encounter.id,
            "token_id": token.id,
            "user_id": target.id,
            "what": "encounters",
            "key": offering.key,
            "purpose": "follow-up",
        }
    # Matrix Customer has no plan, Matrix Gold one: a tree of a root and two segments.
    make_customer(runtime, name="Matrix Gold", attributes={"plan": "gold"})
    version = segmentation.build(
        runtime.sessions, runtime.settings, actor=admin, variables=["attribute:plan"]
    )
    with runtime.session() as db:
        audience = segmentation.save_audience(
            db, runtime.settings, actor=admin, name="Matrix", version_id=version.id, node_id=1
        )
    ids.update(version_id=version.id, node_id=1, audience_id=audience.id)
    # Every user of the matrix is in Store 1 (make_user's team): Store 1 rates the card of another team.
    make_user(runtime, Role.FRONTLINE, team="Matrix Supplier")
    this_month = str(of_day(date.today()))
    with runtime.session() as db:
        card = quality.create(
            db,
            actor=admin,
            data=CardCreate(
                supplier_team="Matrix Supplier", customer_team="Store 1", deliverables=["Welcome"]
            ),
        )
        plan = quality.add_plan(
            db,
            actor=admin,
            card_id=card.id,
            data=ActionPlanCreate(
                deliverable="Welcome", period=this_month, owner=target.email, due=date.today()
            ),
        )
        external = quality.create(
            db,
            actor=admin,
            data=CardCreate(supplier_team="Store 1", touch_point="web", deliverables=["Welcome"]),
        )
        link = quality.make_link(
            db,
            actor=admin,
            card_id=external.id,
            customer=str(customer_id),
            period=this_month,
            secret=runtime.settings.resolved_secret_key(),
        )
    ids.update(card_id=card.id, plan_id=plan.id, token=link.token)

    problems: list[str] = []
    anonymous = client_for(live_server)
    clients = {role: sign_in(live_server, user) for role, user in users.items()}
    for (method, template), need in sorted(EXPECTED.items()):
        path = _concrete(template, ids)
        response = anonymous.request(method, path, data={} if method == "POST" else None)
        if need == PUBLIC:
            wanted = 200 if method == "GET" else 403  # POST /login without a token: the CSRF page
            if response.status_code != wanted:
                problems.append(f"anonymous {method} {path}: {response.status_code}, wanted {wanted}")
        elif response.status_code != 303 or not response.headers["location"].startswith("/login?next="):
            problems.append(f"anonymous {method} {path}: {response.status_code}, wanted 303 to /login")
        elif method == "GET" and response.headers["location"] != "/login?next=" + quote(path, safe="/"):
            problems.append(f"anonymous GET {path}: does not come back here after sign-in")

        for role, client in clients.items():
            response = client.request(method, path, data={} if method == "POST" else None)
            body = response.text
            if not _allowed(need, role):
                if response.status_code != 403 or "This needs another role" not in body:
                    problems.append(
                        f"{role} {method} {path}: {response.status_code}, wanted the 403 role page"
                    )
                elif isinstance(need, Permission) and role.value not in body and "signed in as" not in body:
                    problems.append(f"{role} {method} {path}: the 403 page does not say who is signed in")
            elif method == "GET":
                wanted = 303 if template == "/login" else 200  # signed in already: on to the page
                if response.status_code != wanted:
                    problems.append(f"{role} GET {path}: {response.status_code}, wanted {wanted}")
            elif response.status_code != 403 or "This form has expired" not in body:
                problems.append(
                    f"{role} POST {path} without a form token: {response.status_code}, wanted 403"
                )
    for client in [anonymous, *clients.values()]:
        client.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("role", "path", "says"),
    [
        (Role.FRONTLINE, "/customers/{customer_id}/merge", "merge duplicate customer records"),
        (Role.MANAGER, "/admin/users", "manage users"),
    ],
)
def test_the_403_page_says_what_is_missing(live_server: LiveServer, role: Role, path: str, says: str) -> None:
    user = make_user(live_server.runtime, role)
    customer_id = make_customer(live_server.runtime)
    with signed_in(live_server, user) as client:
        response = client.get(path.format(customer_id=customer_id))
    assert response.status_code == 403
    assert says in response.text
    assert user.email in response.text
    assert "administrator" in response.text  # who can help, or who may


def test_the_segments_are_in_the_menu_of_managers_and_analysts_only(live_server: LiveServer) -> None:
    """Front-line staff see a customer's segment on the sheet, not the explorer: no menu entry, a 403."""
    for role in Role:
        with signed_in(live_server, make_user(live_server.runtime, role)) as client:
            home = client.get("/").text
            listed = 'href="/segments"' in home
            assert listed is (Permission.VIEW_TEAM_DASHBOARDS in ROLE_PERMISSIONS[role]), role
            if not listed:
                refused = client.get("/segments")
                assert refused.status_code == 403 and "see team dashboards" in refused.text

"""The route-by-role matrix: every route of the API, called anonymously and with each role's token.

Each route names the permission it needs (the table in accounts/schemas.py); a role without it gets a 403,
anonymous callers a 401 (except /health), and a role with it anything but 401 and 403. A new route fails
``test_every_route_is_in_the_matrix`` until it is added to ``ROUTES`` below.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pytest

from segone.accounts import service as accounts
from segone.accounts.schemas import ROLE_PERMISSIONS, SYSTEM, Permission, Role, UserUpdate
from segone.behaviour.dataset import EventDataset
from segone.behaviour.events import validate_events
from segone.channels import Channel
from segone.clock import utcnow
from segone.customer_service.promises import service as promises
from segone.customer_service.promises.schemas import PromiseCreate
from segone.customer_service.recovery import service as recovery
from segone.customer_service.recovery.schemas import CaseOpen
from segone.encounters import service as encounters
from segone.encounters import suggestions
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.personalisation import service as offerings
from segone.personalisation.schemas import OfferingCreate
from segone.quality import service as quality
from segone.quality.schemas import ActionPlanCreate, CardCreate, SurveyCreate
from segone.runtime import Runtime
from segone.segmentation import service as segmentation
from segone.server import create_app
from segone.settings import Settings
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_routes, api_user, error_of
from tests.factories import MadeUser, make_customer

PUBLIC = "public"  # no token needed
SIGNED_IN = "signed in"  # any valid token
Requirement = Permission | str

_unique = itertools.count(1)


@dataclass
class World:
    """What the calls refer to: made once per route, before it is called by every role."""

    runtime: Runtime
    customer: int
    fact: int
    encounter: int
    target_user: int
    analyst: httpx.Client
    job: str = ""
    version: int = 0
    audience: int = 0


@dataclass
class Call:
    method: str
    path: str
    json: Any = None
    csv: bytes | None = None


Builder = Callable[[World, MadeUser | None], Call]


def _fresh_customer(world: World) -> int:
    return make_customer(world.runtime)


def _fresh_fact(world: World) -> int:
    with world.runtime.session() as db:
        return knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=world.customer,
            data=DifferentiatorCreate(text=f"Fact {next(_unique)}", category="family"),
            categories=categories_in_force(world.runtime.settings),
        ).id


def _fresh_suggestion(world: World) -> tuple[int, str]:
    """An encounter whose notes hold one sentence never heard before, and that sentence's suggestion id."""
    text = f"Collects {next(_unique)} vintage maps of Yorkshire"
    with world.runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=SYSTEM,
            customer_id=world.customer,
            data=EncounterCreate(channel=Channel.CALL, notes=f"Mentioned: {text}."),
            categories=categories_in_force(world.runtime.settings),
        ).id
    return encounter, suggestions.sentence_id(text)


def _own_encounter(world: World, user: MadeUser | None) -> int:
    """An encounter the user had (the world's, held by nobody, for the anonymous call)."""
    if user is None:
        return world.encounter
    with world.runtime.session() as db:
        return encounters.record(
            db,
            actor=SYSTEM,
            customer_id=world.customer,
            data=EncounterCreate(channel=Channel.STORE),
            categories=categories_in_force(world.runtime.settings),
            employee_id=user.id,
        ).id


def _fresh_survey(world: World) -> int:
    with world.runtime.session() as db:
        return quality.create_survey(db, actor=SYSTEM, data=SurveyCreate(name=f"Survey {next(_unique)}")).id


def _suggestion_call(world: World, action: str) -> Call:
    encounter, suggestion = _fresh_suggestion(world)
    return Call("POST", f"/encounters/{encounter}/suggestions/{action}", {"id": suggestion})


def _version(world: World) -> int:
    """A finished segmentation version over the world's customer and two more, built once per route."""
    if not world.version:
        for plan in ("gold", "basic"):
            make_customer(world.runtime, attributes={"plan": plan})
        world.version = segmentation.build(world.runtime.sessions, world.runtime.settings, actor=SYSTEM).id
    return world.version


def _version_with_purchases(world: World) -> int:
    """The world's version, its customers with a year of purchases in the events dataset."""
    version = _version(world)
    with world.runtime.session() as db:
        placed, _segments = segmentation.segments_at_depth(db, actor=SYSTEM, version_id=version, depth=0)
    start = date(2025, 1, 1)
    rows = [
        {
            "event_id": f"perm-{customer}-{day}",
            "customer": f"perm:{customer}",
            "type": "purchase",
            "timestamp": (start + timedelta(days=day + 3 * n)).isoformat(),
            "value": 10.0,
        }
        for n, customer in enumerate(sorted(placed))
        for day in (0, 30, 75, 140, 200, 290, 350)
    ]
    table = validate_events(pa.Table.from_pylist(rows)).table
    assert table is not None
    ids = pa.array([int(c.split(":")[1]) for c in table.column("customer").to_pylist()], pa.int64())
    EventDataset(world.runtime.settings.data_dir / "events").write_batch(
        table.set_column(table.schema.get_field_index("customer_id"), "customer_id", ids)
    )
    return version


def _fresh_audience(world: World) -> int:
    """An audience of everyone in the world's version, under a name of its own."""
    version = _version(world)
    with world.runtime.session() as db:
        return segmentation.save_audience(
            db,
            world.runtime.settings,
            actor=SYSTEM,
            name=f"Audience {next(_unique)}",
            version_id=version,
            node_id=0,
        ).id


def _audience(world: World) -> int:
    if not world.audience:
        world.audience = _fresh_audience(world)
    return world.audience


def _fresh_offering(world: World) -> str:
    key = f"offering-{next(_unique)}"
    with world.runtime.session() as db:
        return offerings.create(db, actor=SYSTEM, data=OfferingCreate(key=key, name="Lessons")).key


def _fresh_case(world: World) -> int:
    """An open recovery case of the world's customer that nobody has taken."""
    with world.runtime.session() as db:
        data = CaseOpen(customer_id=world.customer, summary=f"Parcel {next(_unique)} never came")
        return recovery.open_case(db, actor=SYSTEM, data=data).id


def _fresh_promise(world: World) -> int:
    with world.runtime.session() as db:
        data = PromiseCreate(customer_id=world.customer, text="Call back", due_on=utcnow().date())
        return promises.make(db, actor=SYSTEM, data=data).id


def _teams(world: World, user: MadeUser | None) -> tuple[str, str]:
    """Two new teams: the caller's (they are moved into it) and another, each with a member."""
    mine, other = f"Team {next(_unique)}", f"Team {next(_unique)}"
    api_user(world.runtime, team=other)
    if user is None:
        api_user(world.runtime, team=mine)
    else:
        with world.runtime.session() as db:
            accounts.update(db, actor=SYSTEM, user_id=user.id, data=UserUpdate(team=mine))
    return mine, other


def _card(world: World, user: MadeUser | None, *, external: bool = False) -> int:
    """A report card the caller sees: their team rates it (internal) or delivers it (external)."""
    mine, other = _teams(world, user)
    with world.runtime.session() as db:
        data = (
            CardCreate(supplier_team=mine, touch_point="store", deliverables=["Welcome"])
            if external
            else CardCreate(supplier_team=other, customer_team=mine, deliverables=["Welcome"])
        )
        return quality.create(db, actor=SYSTEM, data=data).id


def _plan(world: World, user: MadeUser | None) -> tuple[int, int]:
    """A card the caller sees and an action plan of it that somebody else owns."""
    card = _card(world, user)
    with world.runtime.session() as db:
        owner = accounts.get(db, actor=SYSTEM, user_id=world.target_user).email
        plan = quality.add_plan(
            db,
            actor=SYSTEM,
            card_id=card,
            data=ActionPlanCreate(deliverable="Welcome", period=_month(), owner=owner, due=_in_a_month()),
        )
    return card, plan.id


def _month() -> str:
    return f"{date.today():%Y-%m}"


def _in_a_month() -> date:
    return date.today() + timedelta(days=30)


def _ratings_file(world: World) -> bytes:
    """A rating of a new card by a member of its customer team, as a CSV file."""
    rater = api_user(world.runtime, team=f"Team {next(_unique)}")
    supplier = api_user(world.runtime, team=f"Team {next(_unique)}")
    with world.runtime.session() as db:
        rater_team = accounts.get(db, actor=SYSTEM, user_id=rater.id).team
        supplier_team = accounts.get(db, actor=SYSTEM, user_id=supplier.id).team
        assert rater_team is not None and supplier_team is not None
        card = quality.create(
            db,
            actor=SYSTEM,
            data=CardCreate(
                supplier_team=supplier_team.name, customer_team=rater_team.name, deliverables=["Welcome"]
            ),
        ).id
    return f"card,period,rater,Welcome\n{card},{_month()},{rater.email},4\n".encode()


def _own_token(world: World, user: MadeUser | None) -> int:
    if user is None:
        return 1
    with world.runtime.session() as db:
        return accounts.create_token(db, actor=SYSTEM, user_id=user.id, name="to revoke").id


ROUTES: dict[tuple[str, str], tuple[Requirement, Builder]] = {
    ("GET", "/api/v1/customers"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/customers")),
    ("POST", "/api/v1/customers"): (
        Permission.WRITE_CUSTOMERS,
        lambda w, u: Call("POST", "/customers", {"name": "New customer"}),
    ),
    ("GET", "/api/v1/customers/by-identity/{identity}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", "/customers/by-identity/crm:matrix"),
    ),
    ("GET", "/api/v1/customers/{customer_id}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}"),
    ),
    ("PATCH", "/api/v1/customers/{customer_id}"): (
        Permission.WRITE_CUSTOMERS,
        lambda w, u: Call("PATCH", f"/customers/{w.customer}", {"attributes": {"tier": "gold"}}),
    ),
    ("GET", "/api/v1/customers/{customer_id}/consent"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/consent"),
    ),
    ("PUT", "/api/v1/customers/{customer_id}/consent"): (
        Permission.WRITE_CUSTOMERS,
        lambda w, u: Call("PUT", f"/customers/{w.customer}/consent", {"contact": True}),
    ),
    ("POST", "/api/v1/customers/{customer_id}/merge"): (
        Permission.MERGE_CUSTOMERS,
        lambda w, u: Call("POST", f"/customers/{w.customer}/merge", {"merged_id": _fresh_customer(w)}),
    ),
    ("GET", "/api/v1/customers/{customer_id}/sheet"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/sheet"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/briefing"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/briefing"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/behaviour"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/behaviour"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/knowledge"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/knowledge"),
    ),
    ("GET", "/api/v1/behaviour/refreshes/latest"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", "/behaviour/refreshes/latest"),
    ),
    ("GET", "/api/v1/behaviour/evaluation"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("GET", _with_purchases(w, "/behaviour/evaluation?model=bgnbd")),
    ),
    ("GET", "/api/v1/customers/{customer_id}/history"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/history"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/data-export"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/data-export"),
    ),
    # Each call erases a customer of its own: an allowed role's call must not leave the next one nothing.
    ("DELETE", "/api/v1/customers/{customer_id}/personal-data"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("DELETE", f"/customers/{make_customer(w.runtime)}/personal-data"),
    ),
    ("GET", "/api/v1/audit"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("GET", f"/audit?customer={w.customer}&action=customer.viewed"),
    ),
    ("GET", "/api/v1/audit/export"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("GET", f"/audit/export?customer={w.customer}"),
    ),
    ("POST", "/api/v1/events"): (
        Permission.IMPORT_DATA,
        lambda w, u: Call(
            "POST",
            "/events",
            json={
                "events": [
                    {
                        "customer": f"perm:{next(_unique)}",
                        "type": "visit",
                        "timestamp": "2024-05-01T10:00:00Z",
                    }
                ]
            },
        ),
    ),
    ("POST", "/api/v1/customers/import"): (
        Permission.IMPORT_DATA,
        lambda w, u: Call(
            "POST", "/customers/import", csv=f"name,email\nAnn,ann{next(_unique)}@x.com\n".encode()
        ),
    ),
    ("GET", "/api/v1/exports/{what}"): (
        Permission.EXPORT_DATA,
        lambda w, u: Call("GET", "/exports/customers?format=parquet"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/differentiators"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/differentiators"),
    ),
    ("POST", "/api/v1/customers/{customer_id}/differentiators"): (
        Permission.ADD_DIFFERENTIATORS,
        lambda w, u: Call(
            "POST", f"/customers/{w.customer}/differentiators", {"text": "Two kids", "category": "family"}
        ),
    ),
    ("GET", "/api/v1/differentiators/{differentiator_id}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/differentiators/{w.fact}"),
    ),
    ("PATCH", "/api/v1/differentiators/{differentiator_id}"): (
        Permission.ADD_DIFFERENTIATORS,
        lambda w, u: Call("PATCH", f"/differentiators/{w.fact}", {"confirmed": True}),
    ),
    ("POST", "/api/v1/differentiators/{differentiator_id}/outdate"): (
        Permission.ADD_DIFFERENTIATORS,
        lambda w, u: Call(
            "POST", f"/differentiators/{_fresh_fact(w)}/outdate", {"replacement": "Three kids"}
        ),
    ),
    ("POST", "/api/v1/differentiators/{differentiator_id}/acknowledge"): (
        Permission.ACKNOWLEDGE,
        lambda w, u: Call("POST", f"/differentiators/{w.fact}/acknowledge", {"how": "asked about them"}),
    ),
    ("GET", "/api/v1/customers/{customer_id}/recognition"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/recognition"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/encounters"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/encounters"),
    ),
    ("POST", "/api/v1/customers/{customer_id}/encounters"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call("POST", f"/customers/{w.customer}/encounters", {"channel": "call"}),
    ),
    ("GET", "/api/v1/encounters/{encounter_id}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/encounters/{w.encounter}"),
    ),
    ("POST", "/api/v1/facts/import"): (
        Permission.IMPORT_DATA,
        lambda w, u: Call(
            "POST",
            "/facts/import",
            csv=f"customer,text,category\n{w.customer},Fact {next(_unique)},family\n".encode(),
        ),
    ),
    ("GET", "/api/v1/encounters/{encounter_id}/suggestions"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/encounters/{w.encounter}/suggestions"),
    ),
    ("POST", "/api/v1/encounters/{encounter_id}/suggestions/confirm"): (
        Permission.ADD_DIFFERENTIATORS,
        lambda w, u: _suggestion_call(w, "confirm"),
    ),
    ("POST", "/api/v1/encounters/{encounter_id}/suggestions/reject"): (
        Permission.ADD_DIFFERENTIATORS,
        lambda w, u: _suggestion_call(w, "reject"),
    ),
    ("POST", "/api/v1/encounters/{encounter_id}/predicted-rating"): (
        Permission.RATE_SERVICE,
        lambda w, u: Call("POST", f"/encounters/{_own_encounter(w, u)}/predicted-rating", {"rating": 4}),
    ),
    ("GET", "/api/v1/me"): (SIGNED_IN, lambda w, u: Call("GET", "/me")),
    ("GET", "/api/v1/me/tokens"): (Permission.MANAGE_OWN_TOKENS, lambda w, u: Call("GET", "/me/tokens")),
    ("POST", "/api/v1/me/tokens"): (
        Permission.MANAGE_OWN_TOKENS,
        lambda w, u: Call("POST", "/me/tokens", {"name": "laptop"}),
    ),
    ("DELETE", "/api/v1/me/tokens/{token_id}"): (
        Permission.MANAGE_OWN_TOKENS,
        lambda w, u: Call("DELETE", f"/me/tokens/{_own_token(w, u)}"),
    ),
    ("GET", "/api/v1/users"): (Permission.MANAGE_USERS, lambda w, u: Call("GET", "/users")),
    ("POST", "/api/v1/users"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call(
            "POST", "/users", {"email": f"new{next(_unique)}@example.com", "role": "frontline"}
        ),
    ),
    ("GET", "/api/v1/users/{user_id}"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("GET", f"/users/{w.target_user}"),
    ),
    ("PATCH", "/api/v1/users/{user_id}"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("PATCH", f"/users/{w.target_user}", {"team": "Store 2"}),
    ),
    ("POST", "/api/v1/users/{user_id}/tokens"): (
        Permission.MANAGE_USERS,
        lambda w, u: Call("POST", f"/users/{w.target_user}/tokens", {"name": "feed"}),
    ),
    ("GET", "/api/v1/categories"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/categories")),
    ("GET", "/api/v1/search"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/search?q=fact")),
    ("POST", "/api/v1/jobs/knowledge-refresh"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("POST", "/jobs/knowledge-refresh"),
    ),
    ("POST", "/api/v1/jobs/behaviour-refresh"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("POST", "/jobs/behaviour-refresh", {}),
    ),
    ("GET", "/api/v1/jobs/{job_id}"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("GET", f"/jobs/{_finished_job(w)}"),
    ),
    ("GET", "/api/v1/segmentations"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", "/segmentations"),
    ),
    ("POST", "/api/v1/segmentations"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: _version(w) and Call("POST", "/segmentations", {"variables": "all", "max_depth": 1}),
    ),
    ("GET", "/api/v1/segmentations/variables"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", "/segmentations/variables"),
    ),
    ("GET", "/api/v1/segmentations/diff"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/segmentations/diff?before={_version(w)}&after={_version(w)}&depth=1"),
    ),
    ("GET", "/api/v1/segmentations/{version_id}"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/segmentations/{_version(w)}"),
    ),
    ("GET", "/api/v1/segmentations/{version_id}/purchase-models"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call(
            "GET", f"/segmentations/{_version_with_purchases(w)}/purchase-models?depth=1&min_customers=1"
        ),
    ),
    ("GET", "/api/v1/segmentations/{version_id}/segments"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/segmentations/{_version(w)}/segments?max_depth=1"),
    ),
    ("GET", "/api/v1/segmentations/{version_id}/segments/{node_id}"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/segmentations/{_version(w)}/segments/0"),
    ),
    ("GET", "/api/v1/segmentations/{version_id}/segments/{node_id}/members"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/segmentations/{_version(w)}/segments/0/members?limit=2"),
    ),
    ("GET", "/api/v1/segmentations/{version_id}/segments/{node_id}/export"): (
        Permission.EXPORT_DATA,
        lambda w, u: Call("GET", f"/segmentations/{_version(w)}/segments/0/export?format=parquet"),
    ),
    ("GET", "/api/v1/audiences"): (Permission.VIEW_TEAM_DASHBOARDS, lambda w, u: Call("GET", "/audiences")),
    ("POST", "/api/v1/audiences"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call(
            "POST",
            "/audiences",
            {"name": f"Audience {next(_unique)}", "version_id": _version(w), "node_id": 0},
        ),
    ),
    ("GET", "/api/v1/audiences/{audience_id}"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/audiences/{_audience(w)}"),
    ),
    ("GET", "/api/v1/audiences/{audience_id}/members"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", f"/audiences/{_audience(w)}/members"),
    ),
    ("PUT", "/api/v1/audiences/{audience_id}/members/{customer_id}"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("PUT", f"/audiences/{_audience(w)}/members/{w.customer}"),
    ),
    ("DELETE", "/api/v1/audiences/{audience_id}/members/{customer_id}"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("DELETE", f"/audiences/{_audience(w)}/members/{w.customer}"),
    ),
    ("POST", "/api/v1/audiences/{audience_id}/refresh"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("POST", f"/audiences/{_audience(w)}/refresh"),
    ),
    ("GET", "/api/v1/audiences/{audience_id}/export"): (
        Permission.EXPORT_DATA,
        lambda w, u: Call("GET", f"/audiences/{_audience(w)}/export?format=parquet"),
    ),
    ("DELETE", "/api/v1/audiences/{audience_id}"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("DELETE", f"/audiences/{_fresh_audience(w)}"),
    ),
    ("POST", "/api/v1/segmentations/{version_id}/assign"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("POST", f"/segmentations/{_version(w)}/assign", {"customer_ids": [w.customer]}),
    ),
    ("GET", "/api/v1/customers/{customer_id}/segments"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/segments?version={_version(w)}"),
    ),
    ("GET", "/api/v1/offerings"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/offerings")),
    ("POST", "/api/v1/offerings"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call("POST", "/offerings", {"key": f"new-{next(_unique)}", "name": "New"}),
    ),
    ("GET", "/api/v1/offerings/{key}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/offerings/{_fresh_offering(w)}"),
    ),
    ("PATCH", "/api/v1/offerings/{key}"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call("PATCH", f"/offerings/{_fresh_offering(w)}", {"needs": ["repair"]}),
    ),
    ("DELETE", "/api/v1/offerings/{key}"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call("DELETE", f"/offerings/{_fresh_offering(w)}"),
    ),
    ("POST", "/api/v1/offerings/import"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call("POST", "/offerings/import", csv=f"key,name\nk{next(_unique)},Lessons\n".encode()),
    ),
    # Messages: whoever may mark what a customer knows we know drafts and sends; administrators write the
    # templates.
    ("GET", "/api/v1/message-templates"): (
        Permission.ACKNOWLEDGE,
        lambda w, u: Call("GET", "/message-templates"),
    ),
    ("GET", "/api/v1/message-templates/{purpose}"): (
        Permission.ACKNOWLEDGE,
        lambda w, u: Call("GET", "/message-templates/offer"),
    ),
    ("PUT", "/api/v1/message-templates/{purpose}"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call(
            "PUT", "/message-templates/check-in", {"template": "Dear {{ customer.first_name }},"}
        ),
    ),
    ("DELETE", "/api/v1/message-templates/{purpose}"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call("DELETE", "/message-templates/check-in"),
    ),
    ("POST", "/api/v1/customers/{customer_id}/messages/draft"): (
        Permission.ACKNOWLEDGE,
        lambda w, u: Call("POST", f"/customers/{w.customer}/messages/draft", {"purpose": "follow-up"}),
    ),
    ("POST", "/api/v1/customers/{customer_id}/messages/check"): (
        Permission.ACKNOWLEDGE,
        lambda w, u: Call(
            "POST",
            f"/customers/{w.customer}/messages/check",
            {"text": "Hello.", "revealed_fact_ids": [w.fact]},
        ),
    ),
    ("POST", "/api/v1/customers/{customer_id}/messages"): (
        Permission.ACKNOWLEDGE,
        lambda w, u: Call(
            "POST",
            f"/customers/{w.customer}/messages",
            {
                "purpose": "thank-you",
                "text": "Thank you.",
                "channel": "letter",
                "revealed_fact_ids": [w.fact],
            },
        ),
    ),
    ("GET", "/api/v1/customers/{customer_id}/messages"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/messages"),
    ),
    ("GET", "/api/v1/strategy"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/strategy")),
    ("PUT", "/api/v1/strategy"): (
        Permission.MANAGE_SETTINGS,
        lambda w, u: Call("PUT", "/strategy", {"service_experience": [f"We care {next(_unique)}."]}),
    ),
    ("GET", "/api/v1/strategy/versions"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", "/strategy/versions"),
    ),
    ("GET", "/api/v1/recovery-cases"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", "/recovery-cases"),
    ),
    ("POST", "/api/v1/recovery-cases"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call("POST", "/recovery-cases", {"customer_id": w.customer, "summary": "Late delivery"}),
    ),
    ("POST", "/api/v1/recovery-cases/sync"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("POST", "/recovery-cases/sync"),
    ),
    ("GET", "/api/v1/recovery-cases/measures"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", "/recovery-cases/measures"),
    ),
    ("GET", "/api/v1/recovery-cases/{case_id}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/recovery-cases/{_fresh_case(w)}"),
    ),
    ("PATCH", "/api/v1/recovery-cases/{case_id}"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call("PATCH", f"/recovery-cases/{_fresh_case(w)}", {"priority": "high"}),
    ),
    ("POST", "/api/v1/recovery-cases/{case_id}/actions"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call("POST", f"/recovery-cases/{_fresh_case(w)}/actions", {"text": "Called them"}),
    ),
    ("POST", "/api/v1/recovery-cases/{case_id}/close"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call(
            "POST",
            f"/recovery-cases/{_fresh_case(w)}/close",
            {"resolution": "Replaced", "verdict": "satisfied"},
        ),
    ),
    ("GET", "/api/v1/promises"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/promises")),
    ("POST", "/api/v1/promises"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call(
            "POST",
            "/promises",
            {"customer_id": w.customer, "text": "Call back", "due_on": utcnow().date().isoformat()},
        ),
    ),
    ("GET", "/api/v1/promises/rates"): (
        Permission.VIEW_TEAM_DASHBOARDS,
        lambda w, u: Call("GET", "/promises/rates?by=employee"),
    ),
    ("GET", "/api/v1/promises/{promise_id}"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/promises/{_fresh_promise(w)}"),
    ),
    ("POST", "/api/v1/promises/{promise_id}/keep"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call("POST", f"/promises/{_fresh_promise(w)}/keep"),
    ),
    ("POST", "/api/v1/promises/{promise_id}/break"): (
        Permission.ADD_ENCOUNTERS,
        lambda w, u: Call("POST", f"/promises/{_fresh_promise(w)}/break", {"note": "Forgot"}),
    ),
    ("POST", "/api/v1/offers/refresh"): (
        Permission.RUN_ANALYTICS,
        lambda w, u: Call("POST", "/offers/refresh"),
    ),
    ("GET", "/api/v1/customers/{customer_id}/offers"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("GET", f"/customers/{w.customer}/offers"),
    ),
    ("POST", "/api/v1/customers/{customer_id}/advise"): (
        Permission.READ_CUSTOMERS,
        lambda w, u: Call("POST", f"/customers/{w.customer}/advise", {"question": "Which lessons suit me?"}),
    ),
    ("GET", "/api/v1/health"): (PUBLIC, lambda w, u: Call("GET", "/health")),
    # Report cards: a team sees and rates its own cards; managers set them up and act on shortfalls.
    ("GET", "/api/v1/cards"): (Permission.RATE_SERVICE, lambda w, u: Call("GET", "/cards")),
    ("POST", "/api/v1/cards"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call(
            "POST",
            "/cards",
            dict(
                zip(("customer_team", "supplier_team"), _teams(w, u), strict=True), deliverables=["Welcome"]
            ),
        ),
    ),
    ("GET", "/api/v1/surveys"): (Permission.RATE_SERVICE, lambda w, u: Call("GET", "/surveys")),
    ("POST", "/api/v1/surveys"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call("POST", "/surveys", {"name": f"Survey {next(_unique)}"}),
    ),
    ("POST", "/api/v1/surveys/{survey_id}/answers"): (
        Permission.RATE_SERVICE,
        lambda w, u: Call("POST", f"/surveys/{_fresh_survey(w)}/answers", {"agreement": 4}),
    ),
    ("POST", "/api/v1/surveys/{survey_id}/import"): (
        Permission.IMPORT_DATA,
        lambda w, u: Call(
            "POST",
            f"/surveys/{_fresh_survey(w)}/import",
            csv=f"customer,agreement\n{w.customer},4\n".encode(),
        ),
    ),
    ("GET", "/api/v1/surveys/{survey_id}/gap"): (
        Permission.RATE_SERVICE,
        lambda w, u: Call("GET", f"/surveys/{_fresh_survey(w)}/gap"),
    ),
    ("GET", "/api/v1/advocates"): (Permission.READ_CUSTOMERS, lambda w, u: Call("GET", "/advocates")),
    ("GET", "/api/v1/cards/empathy"): (Permission.RATE_SERVICE, lambda w, u: Call("GET", "/cards/empathy")),
    ("GET", "/api/v1/cards/export"): (
        Permission.EXPORT_DATA,
        lambda w, u: Call("GET", f"/cards/export?period={_month()}&format=csv"),
    ),
    ("POST", "/api/v1/cards/import"): (
        Permission.IMPORT_DATA,
        lambda w, u: Call("POST", "/cards/import", csv=_ratings_file(w)),
    ),
    ("GET", "/api/v1/cards/{card_id}"): (
        Permission.RATE_SERVICE,
        lambda w, u: Call("GET", f"/cards/{_card(w, u)}"),
    ),
    ("PATCH", "/api/v1/cards/{card_id}"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call("PATCH", f"/cards/{_card(w, u)}", {"target": 3.5}),
    ),
    ("DELETE", "/api/v1/cards/{card_id}"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call("DELETE", f"/cards/{_card(w, u)}"),
    ),
    ("POST", "/api/v1/cards/{card_id}/ratings"): (
        Permission.RATE_SERVICE,
        lambda w, u: Call(
            "POST", f"/cards/{_card(w, u)}/ratings", {"period": _month(), "scores": {"Welcome": 4}}
        ),
    ),
    ("GET", "/api/v1/cards/{card_id}/review"): (
        Permission.RATE_SERVICE,
        lambda w, u: Call("GET", f"/cards/{_card(w, u)}/review?period={_month()}"),
    ),
    ("POST", "/api/v1/cards/{card_id}/plans"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call(
            "POST",
            f"/cards/{_card(w, u)}/plans",
            {
                "deliverable": "Welcome",
                "period": _month(),
                "owner": u.email if u else "nobody@example.com",
                "due": _in_a_month().isoformat(),
            },
        ),
    ),
    ("PATCH", "/api/v1/cards/{card_id}/plans/{plan_id}"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call("PATCH", "/cards/{}/plans/{}".format(*_plan(w, u)), {"status": "done"}),
    ),
    ("POST", "/api/v1/cards/{card_id}/links"): (
        Permission.MANAGE_REPORT_CARDS,
        lambda w, u: Call(
            "POST",
            f"/cards/{_card(w, u, external=True)}/links",
            {"customer": str(w.customer), "period": _month()},
        ),
    ),
}


def test_every_route_is_in_the_matrix(tmp_path: Path) -> None:
    routes = api_routes(create_app(Settings(data_dir=tmp_path, secret_key="test-secret-key")))
    missing = sorted(routes - set(ROUTES))
    assert not missing, f"add these routes to ROUTES in {__name__} with the permission each needs: {missing}"
    stale = sorted(set(ROUTES) - routes)
    assert not stale, f"these routes are gone; remove them from ROUTES: {stale}"


def _allowed(requirement: Requirement, role: Role) -> bool:
    return requirement in (PUBLIC, SIGNED_IN) or requirement in ROLE_PERMISSIONS[role]


def _send(client: httpx.Client, call: Call) -> httpx.Response:
    if call.csv is not None:
        return client.request(call.method, call.path, content=call.csv, headers={"content-type": "text/csv"})
    response = client.request(call.method, call.path, json=call.json)
    if response.status_code == 202:
        _wait_for_job(client, response.json())  # the next call must not meet this job still writing
    return response


def _wait_for_job(client: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def _with_purchases(world: World, path: str) -> str:
    """``path``, once the store's events dataset holds the purchases of 200 customers of the CDNOW sample."""
    directory = world.runtime.settings.data_dir / "events"
    if not directory.exists():
        import pyarrow.compute as pc

        from segone.behaviour.dataset import EventDataset
        from segone.behaviour.events import read_cdnow_sample

        sample = read_cdnow_sample()
        few = pc.is_in(
            sample.column("customer"), value_set=pc.unique(sample.column("customer")).slice(0, 200)
        )
        EventDataset(directory).write_batch(sample.filter(few))
    return path


def _finished_job(world: World) -> str:
    if not world.job:
        world.job = _wait_for_job(world.analyst, world.analyst.post("/jobs/knowledge-refresh").json())["id"]
    return world.job


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1].removeprefix('/api/v1')}")
def test_route_by_role(route: tuple[str, str], sqlite_runtime: Runtime, sqlite_api: ClientFactory) -> None:
    requirement, build = ROUTES[route]
    runtime = sqlite_runtime
    customer = make_customer(runtime, identities=["crm:matrix"])
    target = api_user(runtime)
    with runtime.session() as db:
        encounter = encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.CALL),
            categories=categories_in_force(runtime.settings),
        ).id
    world = World(
        runtime, customer, 0, encounter, target.id, sqlite_api(api_user(runtime, Role.ANALYST).token)
    )
    world.fact = _fresh_fact(world)

    response = _send(sqlite_api(None), build(world, None))
    if requirement == PUBLIC:
        assert response.status_code == 200, response.text
    else:
        error_of(response, 401, "unauthenticated")

    for role in Role:
        user = api_user(runtime, role)
        response = _send(sqlite_api(user.token), build(world, user))
        where = f"{route[0]} {route[1]} as {role.value}: {response.status_code} {response.text[:300]}"
        if _allowed(requirement, role):
            assert response.status_code < 400, where
        else:
            error = error_of(response, 403, "forbidden")
            assert error["details"] == {"permission": str(requirement), "role": role.value}, where

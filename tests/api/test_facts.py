"""The facts API over real HTTP: importing facts from CSV, and an encounter's fact suggestions."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from segone.accounts.schemas import SYSTEM, Role
from segone.channels import Channel
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.models import Differentiator
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.factories import make_customer

NOTES = (
    "Rang about the PA quote. Mentioned: daughter plays drums in a band. "
    "Worried about noise for the neighbours."
)


@pytest.fixture(autouse=True)
def _rules_only(runtime: Runtime) -> None:
    shutil.rmtree(runtime.settings.data_dir / "models", ignore_errors=True)


def _facts(runtime: Runtime) -> int:
    with runtime.session() as db:
        return int(db.scalar(select(func.count(Differentiator.id))) or 0)


def _encounter(runtime: Runtime, customer: int) -> int:
    with runtime.session() as db:
        return encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.CALL, notes=NOTES),
            categories=categories_in_force(runtime.settings),
        ).id


def test_a_facts_file_refused_under_a_dry_run_says_it_was_one(runtime: Runtime, api: ClientFactory) -> None:
    make_customer(runtime, identities=["crm:C9"])
    analyst = api_user(runtime, Role.ANALYST)
    headers = {"content-type": "text/csv"}
    with api(analyst.token) as client:
        for csv in ("customer,words\ncrm:C9,Has two children\n", "", "customer,text\ncrm:NOPE,Has a dog\n"):
            checked = client.post("/facts/import?dry_run=true", content=csv, headers=headers)
            assert checked.status_code == 422, csv
            assert checked.json()["error"]["details"]["dry_run"] is True, csv
            imported = client.post("/facts/import", content=csv, headers=headers)
            assert imported.json()["error"]["details"]["dry_run"] is False, csv
    assert _facts(runtime) == 0


def test_import_facts_from_a_csv_body(runtime: Runtime, api: ClientFactory) -> None:
    customer = make_customer(runtime, identities=["crm:C9"])
    analyst = api_user(runtime, Role.ANALYST)
    csv = "customer,text,category\ncrm:C9,Has two children,family\ncrm:C9,Sings in a choir on Tuesdays,\n"
    headers = {"content-type": "text/csv"}
    with api(analyst.token) as client:
        checked = client.post("/facts/import?dry_run=true", content=csv, headers=headers)
        assert checked.status_code == 200, checked.text
        assert checked.json()["dry_run"] is True and _facts(runtime) == 0
        done = client.post("/facts/import", content=csv, headers=headers)
        assert done.status_code == 200, done.text
        body = done.json()
        assert (body["created"], body["unchanged"]) == (2, 0)
        assert body["suggested"] == [
            {"row": 3, "category": "free_time", "confidence": body["suggested"][0]["confidence"]}
        ]
        with client.stream("GET", f"/customers/{customer}/differentiators") as listed:
            listed.read()
        assert {f["text"] for f in listed.json()} == {"Has two children", "Sings in a choir on Tuesdays"}
        files = {"file": ("facts.csv", csv.encode(), "text/csv")}
        again = client.post("/facts/import", files=files)
        assert again.status_code == 200 and again.json()["unchanged"] == 2


def test_bad_rows_are_a_422_naming_each_row_and_nothing_is_written(
    runtime: Runtime, api: ClientFactory
) -> None:
    make_customer(runtime, identities=["crm:C9"])
    analyst = api_user(runtime, Role.ANALYST)
    csv = "customer,text,category\ncrm:C9,Has two children,family\ncrm:NONE,Likes jazz,\ncrm:C9,,family\n"
    with api(analyst.token) as client:
        response = client.post("/facts/import", content=csv, headers={"content-type": "text/csv"})
    error = error_of(response, 422, "invalid")
    assert [(e["row"], e["column"]) for e in error["details"]["errors"]] == [(3, "customer"), (4, "text")]
    assert _facts(runtime) == 0


def test_only_importers_may_import_facts(runtime: Runtime, api: ClientFactory) -> None:
    manager = api_user(runtime, Role.MANAGER)
    with api(manager.token) as client:
        response = client.post(
            "/facts/import", content="customer,text\n1,x\n", headers={"content-type": "text/csv"}
        )
    error_of(response, 403, "forbidden")


def test_suggestions_are_listed_confirmed_and_rejected(runtime: Runtime, api: ClientFactory) -> None:
    customer = make_customer(runtime)
    encounter = _encounter(runtime, customer)
    frontline = api_user(runtime)
    with api(frontline.token) as client:
        listed = client.get(f"/encounters/{encounter}/suggestions")
        assert listed.status_code == 200, listed.text
        found = listed.json()
        assert [(s["text"], s["category"]) for s in found] == [
            ("Daughter plays drums in a band", "family"),
            ("Worried about noise for the neighbours", "worries"),
        ]
        confirmed = client.post(
            f"/encounters/{encounter}/suggestions/confirm",
            json={"id": found[0]["id"], "text": "Daughter plays drums in a punk band"},
        )
        assert confirmed.status_code == 201, confirmed.text
        fact = confirmed.json()
        assert (fact["text"], fact["category"], fact["encounter_id"], fact["learned_by"]) == (
            "Daughter plays drums in a punk band",
            "family",
            encounter,
            frontline.email,
        )
        rejected = client.post(f"/encounters/{encounter}/suggestions/reject", json={"id": found[1]["id"]})
        assert rejected.status_code == 204, rejected.text
        assert client.get(f"/encounters/{encounter}/suggestions").json() == []
        # Confirming what is no longer open is a 404; a malformed id a 422.
        error_of(
            client.post(f"/encounters/{encounter}/suggestions/confirm", json={"id": found[1]["id"]}),
            404,
            "not_found",
        )
        error_of(
            client.post(f"/encounters/{encounter}/suggestions/reject", json={"id": "short"}), 422, "invalid"
        )
        error_of(client.get("/encounters/999999/suggestions"), 404, "not_found")
    assert _facts(runtime) == 1

"""GET /customers/{id}/sheet over real HTTP: the same sheet the web page shows and `customers show --json`
prints."""

from __future__ import annotations

import json
from html import unescape

from typer.testing import CliRunner

from segone.accounts.schemas import Role
from segone.cli.main import app as cli
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.web.conftest import signed_in


def _cli_sheet(runtime: Runtime, customer: str) -> str:
    """``segone customers show CUSTOMER --json`` on the live server's own store."""
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url or "",
        "SEGONE_FACT_CATEGORIES": "",
    }
    result = CliRunner().invoke(cli, ["customers", "show", customer, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_sheet_is_one_call_and_the_same_everywhere(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    cid = make_customer(runtime, name="Gail Granger", identities=["email:gail@example.com"])
    twin = make_customer(runtime, name="Gail Granger", identities=["crm:G7"])
    client = api(api_user(runtime).token)
    met = client.post(f"/customers/{cid}/encounters", json={"channel": "meeting", "notes": "Tea"}).json()
    bees = client.post(
        f"/customers/{cid}/differentiators",
        json={"text": "Keeps bees", "category": "free_time", "encounter_id": met["id"]},
    ).json()
    client.post(f"/customers/{cid}/differentiators", json={"text": "Twins aged 4", "category": "family"})
    client.post(f"/differentiators/{bees['id']}/acknowledge", json={"encounter_id": met["id"]})
    manager = api(api_user(runtime, Role.MANAGER).token)
    assert manager.post(f"/customers/{cid}/merge", json={"merged_id": twin}).status_code == 200

    error_of(api(None).get(f"/customers/{cid}/sheet"), 401, "unauthenticated")
    error_of(client.get("/customers/987654/sheet"), 404, "not_found")
    response = client.get(f"/customers/{twin}/sheet")  # a merged record's id gives the survivor's sheet
    assert response.status_code == 200, response.text
    sheet = response.json()
    assert sheet["customer"]["id"] == cid
    assert sheet["customer"]["identities"] == ["email:gail@example.com", "crm:G7"]
    assert sheet["recognition"] == {"current": 2, "acknowledged": 1, "ratio": 0.5}
    groups = {g["category"]["name"]: [f["text"] for f in g["facts"]] for g in sheet["groups"]}
    assert groups == {"family": ["Twins aged 4"], "free_time": ["Keeps bees"]}
    known = sheet["groups"][[g["category"]["name"] for g in sheet["groups"]].index("free_time")]["facts"][0]
    assert known["acknowledgement"]["encounter_id"] == met["id"] and known["encounter_id"] == met["id"]
    assert [e["id"] for e in sheet["encounters"]] == [met["id"]]
    assert [m["id"] for m in sheet["merged_from"]] == [twin]
    assert sheet["behaviour"]["profile"] is None and sheet["knowledge"]["distinguishability"] is None
    # The four calls the sheet brings together say the same.
    assert client.get(f"/customers/{cid}").json() == sheet["customer"]
    assert client.get(f"/customers/{cid}/recognition").json() == sheet["recognition"]
    assert client.get(f"/customers/{cid}/behaviour").json() == sheet["behaviour"]
    assert client.get(f"/customers/{cid}/encounters").json() == sheet["encounters"]

    assert json.loads(_cli_sheet(runtime, "crm:G7")) == sheet

    user = make_user(runtime)
    with signed_in(live_server, user) as browser:
        page = unescape(browser.get(f"/customers/{cid}").text)
    for group in sheet["groups"]:
        assert f'<h3 id="cat-{group["category"]["name"]}">{group["category"]["label"]}</h3>' in page
        for fact in group["facts"]:
            assert f'id="fact-{fact["id"]}"' in page and fact["text"] in page
    for gap in sheet["gaps"]:
        assert gap["label"] in page
    assert "Knows we know 1 of 2 differentiators" in page
    assert f'href="/encounters/{met["id"]}"' in page
    assert f"No. {twin} Gail Granger" in page

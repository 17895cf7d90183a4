"""The briefing over real HTTP, at the terminal and on the web page: one result, the same everywhere."""

from __future__ import annotations

import json
from html import unescape

import pytest
from typer.testing import CliRunner, Result

from segone.cli.main import app as cli
from segone.runtime import Runtime
from segone.views.briefing import EMPTY, TITLES, briefing_lines
from segone.views.schemas import Briefing
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.views.test_briefing import two_customers
from tests.web.conftest import signed_in

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def _cli(runtime: Runtime, *args: str) -> Result:
    """``segone briefing ...`` on the live server's own store."""
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url or "",
        "SEGONE_FACT_CATEGORIES": "",
    }
    return CliRunner().invoke(cli, ["briefing", *args], env=env)


def test_the_briefing_is_the_same_in_the_api_the_cli_and_the_page(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    world = two_customers(runtime)
    client = api(api_user(runtime).token)
    error_of(api(None).get(f"/customers/{world.ann}/briefing"), 401, "unauthenticated")
    error_of(client.get("/customers/987654/briefing"), 404, "not_found")

    response = client.get(f"/customers/{world.ann}/briefing")
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["customer"]["name"] == "Ann Archer"
    assert found["unique"][0]["text"] == "Keeps bees on the roof"
    assert {c["kind"] for c in found["changes"]} == {"cadence", "trend", "p_alive", "complaint"}
    assert found["offers"] == {"available": False, "note": "No offers matched yet.", "items": []}
    assert found["service"]["items"] == [] and found["service"]["available"] is True

    by_identity = _cli(runtime, "email:ann@example.com", "--format", "json")
    assert by_identity.exit_code == 0, by_identity.output
    assert json.loads(by_identity.stdout) == found
    assert json.loads(_cli(runtime, str(world.ann), "--json").stdout) == found

    lines = briefing_lines(Briefing.model_validate(found))
    text = _cli(runtime, "email:ann@example.com")
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("Ann Archer  (customer")
    for section, shown in lines.items():
        assert TITLES[section] in text.stdout
        for line in shown or [EMPTY[section]]:
            assert line in text.stdout

    with signed_in(live_server, make_user(runtime)) as browser:
        page = unescape(browser.get(f"/customers/{world.ann}/briefing").text)
        printed = unescape(browser.get(f"/customers/{world.ann}/briefing?print=1").text)
        sheet = browser.get(f"/customers/{world.ann}").text
    for section, shown in lines.items():
        assert TITLES[section] in page
        for line in shown or [EMPTY[section]]:
            assert line in page and line in printed
    assert 'class="topbar"' in page and 'class="topbar"' not in printed
    assert "Print view" in page
    assert f'href="/customers/{world.ann}/briefing"' in sheet


def test_the_cli_refuses_an_unknown_customer_or_format(runtime: Runtime, live_server: LiveServer) -> None:
    make_customer(runtime, name="Someone", identities=["crm:S1"])
    unknown = _cli(runtime, "crm:nobody")
    assert unknown.exit_code == 2 and "crm:nobody" in unknown.output
    wrong = _cli(runtime, "crm:S1", "--format", "pdf")
    assert wrong.exit_code == 2
    blank = _cli(runtime, "crm:S1")
    assert blank.exit_code == 0 and EMPTY["offers"] in blank.stdout and EMPTY["changes"] in blank.stdout


def test_the_home_page_leads_to_the_briefing(runtime: Runtime, live_server: LiveServer) -> None:
    one = make_customer(runtime, name="Quentin Quill", identities=["crm:Q1"])
    make_customer(runtime, name="Mara Moss")
    make_customer(runtime, name="Mara Mint")
    with signed_in(live_server, make_user(runtime)) as browser:
        home = browser.get("/").text
        assert 'action="/briefing"' in home and "Who are you about to meet?" in home
        moved = browser.get("/briefing", params={"q": "quill"}, follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (303, f"/customers/{one}/briefing")
        several = unescape(browser.get("/briefing", params={"q": "mara"}).text)
        assert "2 customers match “mara”" in several and several.count('/briefing">') >= 2
        assert "Nobody matches" in browser.get("/briefing", params={"q": "zzz"}).text

"""Advocacy over the API, the CLI and the page, on the hand-built events of tests/quality/test_advocacy.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from segone.accounts.schemas import Role
from segone.cli.main import app
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.quality.test_advocacy import plant
from tests.web.conftest import signed_in

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def test_advocates_over_the_api_the_cli_and_the_page(
    sqlite_live_server: LiveServer, sqlite_api: ClientFactory, tmp_path: Path
) -> None:
    runtime = sqlite_live_server.runtime
    ids = plant(runtime)
    client = sqlite_api(api_user(runtime, Role.FRONTLINE).token)
    listed = client.get("/advocates", params={"at_least": 3}).json()
    assert [(a["customer_id"], a["referrals"], a["reviews"]) for a in listed["items"]] == [(ids["Ann"], 2, 1)]
    error_of(client.get("/advocates", params={"days": 0}), 422, "invalid")

    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.database_url,
    }
    result = CliRunner().invoke(app, ["cards", "advocates", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"name": "Bob"' in result.stdout and '"name": "Dee"' not in result.stdout

    with signed_in(sqlite_live_server, make_user(runtime, Role.FRONTLINE)) as browser:
        assert 'href="/cards/advocates"' in browser.get("/cards").text
        page = browser.get("/cards/advocates").text
    assert "4 customers referred us or reviewed us: 3 referrals, 5 reviews." in page
    rows = page.split('id="advocates"')[1]
    assert rows.index(">Ann<") < rows.index(">Bob<") < rows.index(">Cy<") and ">Dee<" not in rows

"""The perception gap over the API, the CLI and the page: the planted 80% of executives vs 10% of customers
(tests/quality/test_surveys.py) shown as such; bad answers are 4xx naming what is wrong."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from segone.accounts.schemas import Role
from segone.cli.main import app
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.quality.test_surveys import plant
from tests.web.conftest import signed_in


def test_the_gap_over_the_api_the_cli_and_the_page(
    live_server: LiveServer, api: ClientFactory, tmp_path: Path
) -> None:
    runtime = live_server.runtime
    survey = plant(runtime)
    clerk = api(api_user(runtime, Role.FRONTLINE).token)
    bad = clerk.post(f"/surveys/{survey}/answers", json={"agreement": 7})
    assert bad.status_code == 422 and fields_at_fault(bad) == {"agreement"}
    error_of(
        clerk.post(f"/surveys/{survey}/answers", json={"agreement": 4, "customer": "1"}), 403, "forbidden"
    )
    made = clerk.post(f"/surveys/{survey}/answers", json={"agreement": 4, "statement": "Same-day repairs"})
    assert made.status_code == 201 and made.json()["group"] == "frontline"
    error_of(clerk.post(f"/surveys/{survey}/answers", json={"agreement": 5}), 409, "conflict")
    error_of(clerk.post("/surveys", json={"name": "Another"}), 403, "forbidden")

    found = clerk.get(f"/surveys/{survey}/gap").json()
    # The clerk's answer makes the front line 3 of 5 agreeing and 3 of 4 statements passing.
    assert [(g["group"], g["answers"], g["agreeing"], g["share"]) for g in found["groups"]] == [
        ("executives", 10, 8, 0.8),
        ("frontline", 5, 3, 0.6),
        ("customers", 10, 1, 0.1),
    ]
    assert (found["strategy_check"]["checked"], found["strategy_check"]["passed"]) == (4, 3)

    settings = runtime.settings
    env = {"SEGONE_DATA_DIR": str(settings.data_dir), "SEGONE_DATABASE_URL": settings.database_url}
    shown = CliRunner().invoke(app, ["surveys", "gap", "Differentiation 2026"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "80%" in shown.stdout and "10%" in shown.stdout
    assert "Strategy check: 3 of 4 front-line statements" in shown.stdout
    refused = CliRunner().invoke(app, ["surveys", "answer", str(survey), "--agreement", "0"], env=env)
    assert refused.exit_code == 2
    file = tmp_path / "answers.csv"
    file.write_text("customer,agreement\n999999,4\n")
    rejected = CliRunner().invoke(app, ["surveys", "import", str(survey), str(file)], env=env)
    assert rejected.exit_code == 2 and "1 of the 1 rows is bad" in rejected.output
    analyst = api(api_user(runtime, Role.ANALYST).token)
    checked = analyst.post(
        f"/surveys/{survey}/import?dry_run=true",
        content=f"customer,agreement\n{make_customer(runtime)},4\n".encode(),
        headers={"content-type": "text/csv"},
    )
    assert checked.status_code == 200 and checked.json()["rows"] == 1, checked.text

    with signed_in(live_server, make_user(runtime, Role.FRONTLINE)) as browser:
        assert 'href="/cards/gap"' in browser.get("/cards").text
        page = browser.get("/cards/gap").text
    table = page.split('id="gap-groups"')[1]
    assert 'Executives</th><td class="number">10</td><td class="number">8</td><td class="number">80%' in table
    assert 'Customers</th><td class="number">10</td><td class="number">1</td><td class="number">10%' in table
    assert "80% of 10 answers" in page and "10% of 10 answers" in page  # on the bars
    assert "3 of 4 statements match the strategy on record (75%)" in page

"""A purchase model per segment, end to end on a real store: customers of two plans who buy very differently,
a segmentation built on the plan, their purchases in the events dataset; then the same comparison from the
CLI, the API and the page."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from segone.accounts.schemas import SYSTEM, Role
from segone.behaviour.dataset import EventDataset
from segone.cli.main import app
from segone.segmentation import service as segmentation
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.planted_purchases import HEAVY, LIGHT, planted_purchases
from tests.web.conftest import signed_in


def test_the_segments_of_a_version_each_get_a_model_and_beat_one_for_everyone(
    sqlite_live_server: LiveServer, sqlite_api: ClientFactory
) -> None:
    runtime = sqlite_live_server.runtime
    gold = [make_customer(runtime, attributes={"plan": "gold"}) for _ in range(300)]
    basic = [make_customer(runtime, attributes={"plan": "basic"}) for _ in range(300)]
    version = segmentation.build(
        runtime.sessions, runtime.settings, actor=SYSTEM, variables=["attribute:plan"], min_size=50
    ).id
    events = runtime.settings.data_dir / "events"
    shutil.rmtree(events, ignore_errors=True)
    EventDataset(events).write_batch(planted_purchases([(basic, LIGHT), (gold, HEAVY)]))

    runner = CliRunner()
    env = {
        "SEGONE_DATA_DIR": str(runtime.settings.data_dir),
        "SEGONE_DATABASE_URL": runtime.settings.resolved_database_url(),
    }
    done = runner.invoke(
        app, ["models", "by-segment", "--depth", "1", "--min-customers", "50", "--json"], env=env
    )
    assert done.exit_code == 0, done.output
    cli = json.loads(done.stdout)
    assert (cli["version_id"], cli["depth"], cli["segments"], cli["fitted"]) == (version, 1, 2, 2)
    assert cli["customers"] == 600 and cli["left_out"] == 0
    assert cli["by_segment"]["mean_absolute_error"] < cli["pooled"]["mean_absolute_error"]
    assert cli["by_segment"]["bic"] < cli["pooled"]["bic"]
    assert cli["verdict"].startswith("A model per segment predicts the holdout better")
    by_plan = {" ".join(g["conditions"]): g for g in cli["groups"]}
    assert sorted(by_plan) == ["plan: basic", "plan: gold"]
    heavy, light = by_plan["plan: gold"], by_plan["plan: basic"]
    assert heavy["customers"] == light["customers"] == 300
    assert (
        heavy["parameters"]["r"] / heavy["parameters"]["alpha"]
        > light["parameters"]["r"] / light["parameters"]["alpha"]
    )

    text = runner.invoke(app, ["models", "by-segment", "--depth", "1", "--min-customers", "50"], env=env)
    assert text.exit_code == 0, text.output
    assert "2 segments, 2 fitted, 600 customers" in text.stdout and "plan: gold" in text.stdout
    refused = runner.invoke(app, ["models", "by-segment", "--version", "999"], env=env)
    assert refused.exit_code == 2 and "There is no segmentation version 999" in refused.stderr

    analyst = sqlite_api(api_user(runtime, Role.ANALYST).token)
    path = f"/segmentations/{version}/purchase-models?depth=1&min_customers=50"
    answer = analyst.get(path)
    assert answer.status_code == 200, answer.text
    api = answer.json()
    for key in ("pooled", "by_segment", "verdict", "calibration_end", "holdout_end"):
        assert api[key] == cli[key]
    assert [g["parameters"] for g in api["groups"]] == [g["parameters"] for g in cli["groups"]]
    # Everyone in one model: too few to fit alone, each segment keeps the pooled parameters.
    small = analyst.get(f"/segmentations/{version}/purchase-models?depth=1&min_customers=400").json()
    assert small["fitted"] == 0 and all(not g["own_fit"] for g in small["groups"])
    assert all(g["note"] == "300 customers: fewer than 400" for g in small["groups"])
    error_of(analyst.get(f"/segmentations/{version}/purchase-models?model=gamma"), 422, "invalid")
    error_of(analyst.get("/segmentations/999/purchase-models"), 404, "not_found")

    with signed_in(sqlite_live_server, make_user(runtime, Role.ANALYST)) as browser:
        page = browser.get(f"/segments/{version}/models?depth=1&min_customers=50")
        assert page.status_code == 200, page.text
        html = page.text
        assert "A model per segment predicts the holdout better" in html
        assert 'id="segment-fits"' in html and "plan: gold" in html and "plan: basic" in html
        assert "<svg" in html and "repeat purchases in the holdout" in html
        assert f"{api['by_segment']['mean_absolute_error']:.4f}" in html
        bad = browser.get(f"/segments/{version}/models?depth=deep")
        assert bad.status_code == 422 and "The depth is a whole number" in bad.text

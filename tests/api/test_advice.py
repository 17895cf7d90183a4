""" "It depends" over real HTTP, at the terminal and on the page the briefing's box leads to."""

from __future__ import annotations

import json
from html import unescape

import pytest

from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user
from tests.api.test_offers import _cli
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.personalisation.test_advice import _shop
from tests.web.conftest import signed_in

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def test_advice_over_http_at_the_terminal_and_on_the_briefings_page(
    runtime: Runtime, api: ClientFactory, live_server: LiveServer
) -> None:
    ids = _shop(runtime)
    reader = api(api_user(runtime).token)
    answered = reader.post(f"/customers/{ids['ann']}/advise", json={"question": "Which lessons suit me?"})
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert [o["verdict"] for o in body["options"]][:2] == ["fits", "has_it"]
    assert body["options"][0]["reasons"][0]["fact_id"] is not None

    blank = reader.post(f"/customers/{ids['ann']}/advise", json={"question": "   "})
    assert blank.status_code == 422 and "question" in blank.text
    assert reader.post("/customers/999999/advise", json={"question": "Lessons?"}).status_code == 404

    printed = _cli(runtime, "offers", "advise", "crm:ANN", "Which lessons suit me?")
    assert printed.exit_code == 0, printed.output
    assert "Guitar lessons (guitar-lessons): fits them" in printed.stdout
    assert "because You told us in March 2024" in printed.stdout
    as_json = _cli(runtime, "offers", "advise", str(ids["ann"]), "Which lessons suit me?", "--json")
    assert json.loads(as_json.stdout) == body
    refused = _cli(runtime, "offers", "advise", "crm:ANN", " ")
    assert refused.exit_code == 2 and "question" in refused.output

    with signed_in(live_server, make_user(runtime)) as browser:
        briefing = browser.get(f"/customers/{ids['ann']}/briefing").text
        assert f'action="/customers/{ids["ann"]}/advise"' in briefing
        page = browser.get(f"/customers/{ids['ann']}/advise", params={"question": "Which lessons suit me?"})
        empty = browser.get(f"/customers/{ids['ann']}/advise", params={"question": ""})
    shown = unescape(page.text)
    assert page.status_code == 200
    assert "Guitar lessons: fits them" in shown and "Drum lessons: they have it" in shown
    assert "You told us in March 2024: “Wants to learn guitar this year”." in shown
    assert empty.status_code == 422 and "Type the customer" in empty.text

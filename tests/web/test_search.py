"""The search page and the header's search box, over real HTTP on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from segone.accounts.schemas import SYSTEM
from segone.channels import Channel
from segone.customers.schemas import CustomerKind
from segone.encounters import service as encounters
from segone.encounters.schemas import EncounterCreate
from segone.knowledge.categories.service import in_force as categories_in_force
from segone.knowledge.facts import service as knowledge
from segone.knowledge.facts.schemas import DifferentiatorCreate
from segone.runtime import Runtime
from tests.conftest import LiveServer
from tests.factories import MadeUser, make_customer


def _world(runtime: Runtime) -> tuple[int, int, int]:
    customer = make_customer(runtime, name="Harbour <Cafe>", kind=CustomerKind.BUSINESS)
    with runtime.session() as db:
        fact = knowledge.add(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=DifferentiatorCreate(
                text="Plans to expand into new markets <script>alert(1)</script>", category="growth_plans"
            ),
            categories=categories_in_force(runtime.settings),
        ).id
        encounter = encounters.record(
            db,
            actor=SYSTEM,
            customer_id=customer,
            data=EncounterCreate(channel=Channel.CALL, worries_about="Markets are slow this winter"),
            categories=categories_in_force(runtime.settings),
        ).id
    return customer, fact, encounter


def test_results_link_to_the_sheet_and_the_encounter_with_marked_words(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    customer, fact, encounter = _world(live_server.runtime)
    response = client.get("/search", params={"q": "who is expanding into new markets?"})
    assert response.status_code == 200
    html = response.text
    assert f'href="/customers/{customer}#fact-{fact}"' in html
    assert f'href="/encounters/{encounter}"' in html
    assert html.index(f"#fact-{fact}") < html.index(f"/encounters/{encounter}")  # all words first
    assert "<mark>expand</mark>" in html and "<mark>Markets</mark>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "Harbour &lt;Cafe&gt;" in html
    assert 'value="who is expanding into new markets?"' in html  # the query stays in the boxes
    assert "2 matches for <strong>expanding</strong>, <strong>new</strong>, <strong>markets</strong>." in html


def test_only_encounters_and_nothing_found(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    _, fact, encounter = _world(live_server.runtime)
    html = client.get("/search", params={"q": "markets", "kind": "encounter"}).text
    assert f"/encounters/{encounter}" in html and f"#fact-{fact}" not in html
    empty = client.get("/search", params={"q": "harpsichord"})
    assert empty.status_code == 200 and "Nothing we know matches" in empty.text


def test_an_empty_search_explains_and_a_bad_one_says_why(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    blank = client.get("/search")
    assert blank.status_code == 200 and "Ask in your own words" in blank.text
    bad = client.get("/search", params={"q": "?!?"})
    assert bad.status_code == 422 and "no words" in bad.text
    common = client.get("/search", params={"q": "who is it"})
    assert common.status_code == 422 and "only common words" in common.text
    assert client.get("/search", params={"q": "markets", "page": "x"}).status_code == 200


def test_a_page_past_the_last_match_goes_to_the_last_page(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    _, _, encounter = _world(live_server.runtime)
    past = client.get("/search", params={"q": "markets", "kind": "encounter", "page": "7"})
    assert past.status_code == 303 and past.headers["location"] == "/search?q=markets&kind=encounter&page=1"
    html = client.get(past.headers["location"]).text
    assert f"/encounters/{encounter}" in html and "Nothing we know matches" not in html
    nothing = client.get("/search", params={"q": "harpsichord", "page": "3"})
    assert nothing.status_code == 200 and "Nothing we know matches" in nothing.text


def test_every_page_has_the_search_box_in_its_header(
    live_server: LiveServer, frontline_client: tuple[httpx.Client, MadeUser]
) -> None:
    client, _ = frontline_client
    customer = make_customer(live_server.runtime)
    for path in ("/", "/customers", f"/customers/{customer}"):
        html = client.get(path).text
        assert 'class="topbar-search" action="/search" method="get" role="search"' in html, path

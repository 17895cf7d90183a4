""" "Think customer" in the browser's pages: the encounter form takes the predicted rating (a value out of
1-5 is marked, nothing stored), and /cards/empathy shows the gaps hand-computed in
tests/quality/test_think.py."""

from __future__ import annotations

from segone.accounts.schemas import SYSTEM, Role
from segone.encounters import service as encounters
from segone.quality import service as quality
from tests.conftest import LiveServer
from tests.factories import make_customer, make_user
from tests.quality.test_think import plant
from tests.web.conftest import field_error, signed_in, token_of


def test_the_encounter_form_records_the_prediction(live_server: LiveServer) -> None:
    runtime = live_server.runtime
    clerk = make_user(runtime, Role.FRONTLINE)
    customer = make_customer(runtime, name="Pat")
    form = f"/customers/{customer}/encounters/new"
    with signed_in(live_server, clerk) as client:
        page = client.get(form)
        assert 'name="predicted_rating"' in page.text
        fields = {"csrf_token": token_of(client, form), "channel": "store", "predicted_rating": "9"}
        refused = client.post(f"/customers/{customer}/encounters", data=fields)
        assert refused.status_code == 422
        assert "Choose a rating from 1 to 5, or leave it for now." in field_error(refused.text)
        logged = client.post(f"/customers/{customer}/encounters", data={**fields, "predicted_rating": "4"})
        assert logged.status_code == 303, logged.text
    with runtime.session() as db:
        (only,) = encounters.list_for_customer(db, actor=SYSTEM, customer_id=customer)
        made = quality.prediction(db, actor=SYSTEM, encounter_id=only.id)
    assert made is not None and (made.predicted, made.employee_id) == (4, clerk.id)


def test_the_empathy_page_shows_the_gaps(live_server: LiveServer) -> None:
    plant(live_server.runtime)
    analyst = make_user(live_server.runtime, Role.ANALYST)
    with signed_in(live_server, analyst) as client:
        assert 'href="/cards/empathy"' in client.get("/cards").text
        page = client.get("/cards/empathy").text
        york = client.get("/cards/empathy", params={"team": "Store York"}).text
    assert "5 predictions, 1 still waiting" in page
    assert "Store Leeds" in page and "+0.50" in page
    assert "Store Leeds" not in york.split('id="empathy-summary"')[1]
    assert "-0.75" in york and "2.25" in york and "-0.50" in york

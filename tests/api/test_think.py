""" "Think customer" over real HTTP: a predicted rating after an encounter, refused out of range with nothing
stored, and the empathy gaps as the service computes them (hand-computed in tests/quality/test_think.py)."""

from __future__ import annotations

from segone.accounts.schemas import Role
from segone.quality import service as quality
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of, fields_at_fault
from tests.quality.test_think import encounter, plant


def test_predict_and_read_the_gaps(runtime: Runtime, api: ClientFactory) -> None:
    planted = plant(runtime)
    mine = encounter(runtime, planted.x, planted.leeds_c, planted.when)
    leeds = api(planted.leeds_c.token)

    bad = leeds.post(f"/encounters/{mine}/predicted-rating", json={"rating": 6})
    assert bad.status_code == 422 and fields_at_fault(bad) == {"rating"}
    with runtime.session() as db:
        assert quality.prediction(db, actor=planted.leeds_c.actor, encounter_id=mine) is None
    error_of(
        api(planted.york_a.token).post(f"/encounters/{mine}/predicted-rating", json={"rating": 4}),
        403,
        "forbidden",
    )
    made = leeds.post(f"/encounters/{mine}/predicted-rating", json={"rating": 2})
    assert made.status_code == 200, made.text
    assert (made.json()["predicted"], made.json()["actual"]) == (2, None)  # X rated before it

    york = api(planted.york_a.token).get("/cards/empathy").json()
    assert [
        (r["month"], r["name"], r["count"], r["mean_gap"], r["mean_absolute_gap"]) for r in york["teams"]
    ] == [
        ("2026-11", "Store York", 1, -0.5, 0.5),
        ("2026-10", "Store York", 2, -0.75, 2.25),
    ]
    analyst = api(api_user(runtime, Role.ANALYST).token)
    everyone = analyst.get("/cards/empathy").json()
    assert (everyone["predictions"], everyone["awaiting"]) == (6, 2)
    error_of(leeds.get("/cards/empathy", params={"team": "Store York"}), 403, "forbidden")
    error_of(analyst.get("/cards/empathy", params={"team": "Nowhere"}), 404, "not_found")

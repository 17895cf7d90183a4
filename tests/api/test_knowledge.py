"""GET /customers/{id}/knowledge over real HTTP: rarity, distinguishability, gaps, next question."""

from __future__ import annotations

from segone.accounts.schemas import SYSTEM, Role
from segone.knowledge.distinguishability import refresh
from segone.runtime import Runtime
from tests.api.conftest import ClientFactory
from tests.api.helpers import api_user, error_of
from tests.factories import make_customer


def test_knowledge_of_a_customer_before_and_after_a_refresh(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime, Role.FRONTLINE).token)
    ann, bo = make_customer(runtime, name="Ann"), make_customer(runtime, name="Bo")
    for customer, text in (
        (ann, "Keeps bees on the roof"),
        (ann, "Has two children"),
        (bo, "Has two children"),
    ):
        added = client.post(
            f"/customers/{customer}/differentiators", json={"text": text, "category": "family"}
        )
        assert added.status_code == 201, added.text

    before = client.get(f"/customers/{bo}/knowledge").json()
    assert before["distinguishability"] is None and before["refreshed_at"] is None
    assert [f["holders"] for f in before["facts"]] == [None]
    assert before["recognition"] == {"current": 1, "acknowledged": 0, "ratio": 0.0}

    refresh.refresh(runtime.sessions, runtime.settings, actor=SYSTEM)
    body = client.get(f"/customers/{bo}/knowledge").json()
    assert body["distinguishability"] == 2 and body["look_alikes"] == [{"id": ann, "name": "Ann"}]
    assert body["facts"][0]["holders"] == 2 and body["facts"][0]["rarity"] == 1.0
    assert body["facts"][0]["population"] == 2  # the customers with a family fact
    assert body["next_question"]["key"] == "lifestyle" and body["next_question"]["expected_look_alikes"] == 0
    assert "family" not in {gap["category"] for gap in body["gaps"]}
    ann_body = client.get(f"/customers/{ann}/knowledge").json()
    assert ann_body["distinguishability"] == 1 and ann_body["next_question"] is None
    bees = next(f for f in ann_body["facts"] if f["text"] == "Keeps bees on the roof")
    assert bees["rare"] and ann_body["show_them_you_know"] == [bees["id"]]


def test_unknown_customers_and_bad_ids(runtime: Runtime, api: ClientFactory) -> None:
    client = api(api_user(runtime, Role.FRONTLINE).token)
    assert "999999" in error_of(client.get("/customers/999999/knowledge"), 404, "not_found")["message"]
    error_of(client.get("/customers/x/knowledge"), 422, "invalid")

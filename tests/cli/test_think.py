""" "segone cards predict" and "segone cards empathy" against a real store: the gaps hand-computed in
tests/quality/test_think.py; a rating out of 1-5 is exit code 2 with nothing stored."""

from __future__ import annotations

from segone.quality import service as quality
from segone.runtime import Runtime
from tests.cli.conftest import Invoke, as_json
from tests.quality.test_think import encounter, plant


def test_predict_then_read_the_gaps(segone: Invoke, store: Runtime) -> None:
    planted = plant(store)
    mine = encounter(store, planted.x, planted.york_b, planted.when)

    refused = segone("cards", "predict", str(mine), "--rating", "6", "--as", planted.york_b.email)
    assert refused.exit_code == 2 and "--rating" in refused.output
    with store.session() as db:
        assert quality.prediction(db, actor=planted.york_b.actor, encounter_id=mine) is None
    made = as_json(
        segone("cards", "predict", str(mine), "--rating", "3", "--as", planted.york_b.email, "--json")
    )
    assert (made["encounter_id"], made["predicted"], made["gap"]) == (mine, 3, None)

    report = as_json(segone("cards", "empathy", "--team", "Store York", "--json"))
    assert (report["predictions"], report["awaiting"]) == (5, 2)
    assert [(r["month"], r["count"], r["mean_gap"], r["mean_absolute_gap"]) for r in report["teams"]] == [
        ("2026-11", 1, -0.5, 0.5),
        ("2026-10", 2, -0.75, 2.25),
    ]
    shown = segone("cards", "empathy")
    assert shown.exit_code == 0, shown.output
    assert "6 predictions, 2 still waiting" in shown.stdout
    assert "-0.75" in shown.stdout and "2.25" in shown.stdout

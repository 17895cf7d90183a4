"""``segone offers evaluate``'s figures: checked by hand on a tiny case, then the blend against popularity on
the planted tastes, and the refusals."""

from __future__ import annotations

import pytest

from segone.accounts.schemas import SYSTEM, Role
from segone.errors import Forbidden, Invalid
from segone.personalisation import evaluation
from segone.runtime import Runtime
from tests.behaviour.conftest import DUCKDB_WARNING
from tests.factories import make_customer, make_user
from tests.personalisation.planted import load, planted_world

pytestmark = pytest.mark.filterwarnings(DUCKDB_WARNING)


def test_the_figures_of_a_case_counted_by_hand() -> None:
    # Customer 1 took {1, 3}; offered [1, 2, 3]: hits at 1 and 3.
    #   P@3 = 2/3, R@3 = 2/2, AP@3 = (1/1 + 2/3) / min(2, 3) = 5/6.
    # Customer 2 took {4}; offered [5, 4]: a hit at 2 of the 3 places.
    #   P@3 = 1/3, R@3 = 1/1, AP@3 = (1/2) / 1 = 1/2.
    # Customer 3 took {6, 7, 8, 9}; offered [7]: P@3 = 1/3, R@3 = 1/4, AP@3 = (1/1) / 3 = 1/3.
    # Offered: {1, 2, 3, 4, 5, 7} of a catalogue of 12.
    found = evaluation.figures([[1, 2, 3], [5, 4], [7]], [{1, 3}, {4}, {6, 7, 8, 9}], k=3, catalogue=12)
    assert found.precision == pytest.approx((2 / 3 + 1 / 3 + 1 / 3) / 3)
    assert found.recall == pytest.approx((1 + 1 + 1 / 4) / 3)
    assert found.map == pytest.approx((5 / 6 + 1 / 2 + 1 / 3) / 3)
    assert found.coverage == pytest.approx(6 / 12)
    # Only the first k count.
    assert evaluation.figures([[9, 1]], [{1}], k=1, catalogue=2) == evaluation.Figures(0.0, 0.0, 0.0, 0.5)
    assert evaluation.figures([], [], k=5, catalogue=3) == evaluation.Figures(0.0, 0.0, 0.0, 0.0)


def test_the_blend_beats_popularity_on_planted_tastes(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    world = planted_world(customers=300, groups=4, seed=21)
    load(runtime, world)
    found = evaluation.evaluate(runtime.sessions, runtime.settings, actor=SYSTEM, holdout_days=90, k=5)
    blend, popular = found.methods
    assert (blend.method, popular.method) == ("blend", "popularity")
    assert found.customers_evaluated > 50 and found.customers_with_holdout >= found.customers_evaluated
    assert found.training_purchases + found.holdout_purchases == len(world.purchases)
    assert (found.end - found.cutoff).days == 90
    for name in ("precision", "recall", "map", "coverage"):
        assert getattr(blend, name) > 1.2 * getattr(popular, name), name
        assert found.lift[name] == pytest.approx(getattr(blend, name) / getattr(popular, name), rel=1e-3)
    # Newcomers (no purchase before the cutoff) are evaluated on what they told us.
    assert found.customers_evaluated > found.customers_with_holdout * 0.9


def test_evaluate_refuses_what_it_cannot_evaluate(sqlite_runtime: Runtime) -> None:
    runtime = sqlite_runtime
    make_customer(runtime)
    with pytest.raises(Invalid, match="No purchase event names an offering"):
        evaluation.evaluate(runtime.sessions, runtime.settings, actor=SYSTEM, holdout_days=30)
    with pytest.raises(Invalid, match="at least 1 day"):
        evaluation.evaluate(runtime.sessions, runtime.settings, actor=SYSTEM, holdout_days=0)
    with pytest.raises(Invalid, match="k must be between 1 and 100"):
        evaluation.evaluate(runtime.sessions, runtime.settings, actor=SYSTEM, holdout_days=5, k=0)
    with pytest.raises(Forbidden):
        evaluation.evaluate(
            runtime.sessions, runtime.settings, actor=make_user(runtime, Role.MANAGER).actor, holdout_days=5
        )
    load(runtime, planted_world(customers=10, groups=2, seed=1))
    with pytest.raises(Invalid, match="nothing is left to learn from; hide fewer days"):
        evaluation.evaluate(runtime.sessions, runtime.settings, actor=SYSTEM, holdout_days=3000)

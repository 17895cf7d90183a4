"""The review's arithmetic against numbers worked out by hand: means, distributions, NPS, CSAT and the
shortfall rules (docs/quality.md gives the same formulas)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from segone.quality import measures
from segone.quality.measures import Reason, Tally


def test_a_tally_counts_each_score_and_gives_the_exact_mean() -> None:
    # Seven raters: 5, 4, 4, 3, 5, 2, 4 -> ones 0, twos 1, threes 1, fours 3, fives 2; 27 / 7.
    tally = Tally.of_scores([5, 4, 4, 3, 5, 2, 4])
    assert tally.counts == (0, 1, 1, 3, 2)
    assert tally.count == 7
    assert tally.total == 27
    assert tally.mean == Fraction(27, 7)
    assert float(tally.mean) == pytest.approx(3.857142857)
    assert Tally.of({4: 3, 2: 1, 5: 2, 3: 1}) == tally
    assert Tally().mean is None and Tally().count == 0
    # Sums of counts: (1, 0, 0, 0, 1) + (0, 0, 2, 0, 0) -> mean (1 + 5 + 3 + 3) / 4 = 3.
    assert (Tally.of({1: 1, 5: 1}) + Tally.of({3: 2})).mean == 3


def test_nps_is_promoters_less_detractors_over_all_answers() -> None:
    # 10, 9, 9 promoters (3); 8, 7 passives (2); 6, 3, 0 detractors (3): 100 x (3 - 3) / 8 = 0.
    even = measures.nps({10: 1, 9: 2, 8: 1, 7: 1, 6: 1, 3: 1, 0: 1})
    assert (even.answers, even.promoters, even.passives, even.detractors) == (8, 3, 2, 3)
    assert even.score == 0
    # 5 promoters, 3 passives, 1 detractor of 9: 100 x 4 / 9 = 44.44...
    good = measures.nps({9: 2, 10: 3, 7: 2, 8: 1, 5: 1})
    assert good.score == Fraction(400, 9)
    assert float(good.score) == pytest.approx(44.444444)
    # Only detractors: -100; only a 7: 0 (a passive); nobody: none.
    assert measures.nps({0: 2, 6: 1}).score == -100
    assert measures.nps({7: 1}).score == 0
    assert measures.nps({}).score is None


def test_csat_is_the_mean_answer_and_the_share_of_fours_and_fives() -> None:
    # 5, 5, 4, 3, 1: mean 18 / 5 = 3.6; satisfied 3 of 5 = 60 %.
    found = measures.csat({5: 2, 4: 1, 3: 1, 1: 1})
    assert (found.answers, found.satisfied) == (5, 3)
    assert found.mean == Fraction(18, 5)
    assert found.share == Fraction(3, 5)
    assert measures.csat({}).mean is None and measures.csat({}).share is None


TARGET = Fraction(4)


def test_below_the_target_is_a_shortfall_and_equal_to_it_is_not() -> None:
    below = measures.shortfall(TARGET, [("2026-09", None), ("2026-10", None), ("2026-11", Fraction(17, 5))])
    assert below is not None
    assert below.reasons == (Reason.BELOW_TARGET,)
    assert below.why == "3.40 is below the target of 4.00"
    # 4 exactly (12 / 3) meets the target; a hair below it (3.99...) does not.
    assert measures.shortfall(TARGET, [("a", None), ("b", None), ("c", Fraction(12, 3))]) is None
    assert measures.shortfall(TARGET, [("a", None), ("b", None), ("c", Fraction(399, 100))]) is not None
    # Nobody rated it this period: nothing to flag, whatever happened before.
    assert measures.shortfall(TARGET, [("a", Fraction(5)), ("b", Fraction(2)), ("c", None)]) is None


def test_falling_two_periods_in_a_row_is_a_shortfall_even_above_the_target() -> None:
    falling = measures.shortfall(
        TARGET, [("2026-09", Fraction(49, 10)), ("2026-10", Fraction(47, 10)), ("2026-11", Fraction(9, 2))]
    )
    assert falling is not None
    assert falling.reasons == (Reason.FALLING,)
    assert falling.why == "fell two periods in a row: 4.90 (2026-09), 4.70 (2026-10), 4.50 now"
    # Both rules at once.
    both = measures.shortfall(TARGET, [("a", Fraction(4)), ("b", Fraction(7, 2)), ("c", Fraction(3))])
    assert both is not None and both.reasons == (Reason.BELOW_TARGET, Reason.FALLING)
    assert (
        both.why
        == "3.00 is below the target of 4.00; fell two periods in a row: 4.00 (a), 3.50 (b), 3.00 now"
    )


@pytest.mark.parametrize(
    "means",
    [
        [Fraction(5), Fraction(9, 2), Fraction(9, 2)],  # fell once, then held
        [Fraction(9, 2), Fraction(9, 2), Fraction(21, 5)],  # held, then fell
        [Fraction(9, 2), Fraction(5), Fraction(21, 5)],  # rose, then fell
        [None, Fraction(5), Fraction(21, 5)],  # p-2 unrated: no run of two
        [Fraction(5), None, Fraction(21, 5)],  # p-1 unrated breaks the run
    ],
)
def test_one_fall_or_a_gap_is_no_falling_shortfall(means: list[Fraction | None]) -> None:
    assert measures.shortfall(TARGET, list(zip(("a", "b", "c"), means, strict=True))) is None


def test_a_shortfall_looks_at_exactly_three_periods() -> None:
    with pytest.raises(ValueError, match="three periods"):
        measures.shortfall(TARGET, [("a", Fraction(3))])

"""How numbers are coded and which of equally good thresholds a split reads as."""

from __future__ import annotations

import numpy as np

from segone.segmentation.binning import Binning, fit, roundness
from segone.segmentation.schemas import Variable, VariableKind

SPEND = Variable("spend", "spend", VariableKind.NUMERIC, "test", "USD")


def test_roundness_ranks_zero_then_powers_of_ten() -> None:
    values = np.array([0.0, 1000.0, 100.0, 250.0, -30.0, 7.0, 18.5, 0.05])
    ranks = roundness(values).tolist()
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[2] > ranks[3] == ranks[4] > ranks[5] > ranks[6] > ranks[7]


def test_of_the_edges_in_a_range_the_roundest_and_then_the_lowest_is_taken() -> None:
    binning = Binning(SPEND, np.array([1.5, 2.5, 18.5, 100.0, 101.5, 200.0, 250.0, 3000.0]), ())
    low = np.array([0, 2, 0, 4, 4, 0, 6])
    high = np.array([7, 4, 1, 6, 5, 0, 6])
    assert binning.roundest_edges(low, high).tolist() == [7, 3, 0, 5, 5, 0, 6]
    # Every range of every length agrees with a plain scan.
    rank = roundness(binning.edges)
    for a in range(8):
        for b in range(a, 8):
            expected = a + int(np.argmax(rank[a : b + 1]))
            assert binning.roundest_edges(np.array([a]), np.array([b]))[0] == expected


def test_many_distinct_numbers_get_equal_count_bins_with_round_edges() -> None:
    rng = np.random.default_rng(0)
    spend = np.round(rng.gamma(2.0, 50.0, 200_000), 2)
    binning = fit(SPEND, spend)
    counts = np.bincount(binning.encode(spend), minlength=binning.n_codes)[: binning.value_codes]
    assert 1_000 < binning.value_codes <= 2_001
    assert counts.max() < 3 * spend.size / binning.value_codes
    # Each edge is the roundest number between the values it separates: no more decimals than they have.
    assert np.allclose(binning.edges, np.round(binning.edges, 2), rtol=0, atol=1e-9)
    assert np.all(roundness(binning.edges) >= roundness(np.array([0.01]))[0])


def test_one_value_is_coded_as_the_array_codes_it() -> None:
    """``encode_one`` (one customer's standing) gives every value the code ``encode`` gives it."""
    spend = Binning(SPEND, np.array([1.5, 2.5, 18.5, 100.0]), ())
    city = Binning(
        Variable("city", "city", VariableKind.CATEGORICAL, "test", ""), np.empty(0), ("Leeds", "York")
    )
    member = Binning(
        Variable("member", "member", VariableKind.BOOLEAN, "test", ""), np.empty(0), ("no", "yes")
    )
    cases = [
        (spend, [None, float("nan"), 0, 1.5, 2.0, 18.5, 99.99, 100, 1e9, -3, "7.5", np.float64(2.5)]),
        (city, [None, float("nan"), "", "Leeds", "York", "Hull", 3, 2.0, True]),
        (member, [None, float("nan"), "", True, False, "yes", "no", "TRUE", 0, 1, 1.0, "y"]),
    ]
    for binning, values in cases:
        expected = binning.encode(np.array(values, dtype=object)).tolist()
        assert [binning.encode_one(value) for value in values] == expected, binning.variable.name
    assert spend.encode_one(None) == spend.missing_code and city.encode_one("Hull") == city.unseen_code

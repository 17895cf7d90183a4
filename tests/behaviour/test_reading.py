"""The reading of a profile says a habit only with enough evidence, and gives the rule when it cannot."""

from __future__ import annotations

from datetime import date
from typing import Any

from segone.behaviour import reading
from segone.behaviour.schemas import BehaviourProfileOut, ScoresOut

AS_OF = date(1998, 6, 30)


def _profile(**changes: Any) -> BehaviourProfileOut:
    """Customer 42 of CDNOW: two purchases on consecutive days, a Wednesday and a Thursday, in 1997."""
    base: dict[str, Any] = {
        "first_purchase": date(1997, 1, 1),
        "last_purchase": date(1997, 1, 2),
        "purchases": 2,
        "repeat_purchases": 1,
        "recency_days": (AS_OF - date(1997, 1, 2)).days,
        "tenure_days": (AS_OF - date(1997, 1, 1)).days,
        "total_value": 10.77,
        "mean_value": 5.385,
        "median_gap_days": 1.0,
        "gap_cv": None,
        "purchases_last_90d": 0,
        "purchases_prev_90d": 0,
        "trend_ratio": None,
        "preferred_channel": None,
        "preferred_channel_events": 0,
        "channel_events": 0,
        "preferred_day_of_week": 2,
        "preferred_day_events": 1,
        "preferred_hour": 0,
        "preferred_hour_events": 2,
        "contacts": 0,
        "top_contact_reasons": [],
        "complaints": 0,
        "returns": 0,
        "referrals": 0,
        "reviews": 0,
        "visits": 0,
        "events": 2,
    }
    return BehaviourProfileOut(**{**base, **changes})


def _scores(**changes: Any) -> ScoresOut:
    base: dict[str, Any] = {
        "model": "Pareto/NBD",
        "p_alive": 0.2,
        "expected_purchases": 0.31,
        "expected_value": 36.09,
        "value_population_mean": 36.09,
        "value_population_weight": 1.0,
        "clv": 10.2,
        "horizon_weeks": 52,
        "annual_discount_rate": 0.1,
    }
    return ScoresOut(**{**base, **changes})


def _said(
    profile: BehaviourProfileOut, scores: ScoresOut | None = None, currency: str = "USD"
) -> dict[str, Any]:
    read = reading.read(profile, scores or _scores(), as_of=AS_OF, currency=currency)
    return {statement.topic: statement for statement in read.statements}


def test_two_purchases_on_consecutive_days_are_too_few_to_tell_cadence_or_weekday() -> None:
    said = _said(_profile())
    assert said["purchases"].text == "Bought on 2 days, the last on 1997-01-02 (18 months before 1998-06-30)."
    assert said["cadence"].text == (
        "How often they buy: too few purchases to tell (2 purchase days; we say it from 5)."
    )
    assert said["weekday"].text == "Favourite weekday: too few events to tell (2 events; we say it from 8)."
    assert not said["cadence"].enough_evidence and not said["weekday"].enough_evidence
    everything = " ".join(statement.text for statement in said.values())
    assert "Usually every" not in everything and "Wednesdays" not in everything
    assert "hour" not in said and "channel" not in said  # midnight and no channel: nothing to say


def test_enough_purchases_and_events_are_stated_with_their_evidence() -> None:
    said = _said(
        _profile(
            purchases=8,
            repeat_purchases=7,
            median_gap_days=28.0,
            gap_cv=0.1,
            events=10,
            preferred_day_of_week=4,
            preferred_day_events=8,
            preferred_hour=18,
            preferred_hour_events=6,
            preferred_channel="web_shop",
            preferred_channel_events=9,
            channel_events=10,
        )
    )
    assert said["cadence"].text == (
        "Usually every 4 weeks, like clockwork (the middle of 7 gaps between purchase days)."
    )
    assert said["weekday"].text == "Most active on Fridays: 8 of 10 events."
    assert said["hour"].text == "Most active around 18:00 UTC: 6 of 10 events."
    assert said["channel"].text == "Mostly through web shop: 9 of 10 events with a channel."
    assert all(statement.enough_evidence for statement in said.values())


def test_the_rules_thresholds_hold_at_their_edges() -> None:
    # Four purchase days are one short; five are enough.
    assert not _said(_profile(purchases=4, gap_cv=0.2))["cadence"].enough_evidence
    assert _said(_profile(purchases=5, gap_cv=0.2))["cadence"].text.startswith("Usually every day")
    # Enough events but no day holding 40% of them: no favourite, said as such.
    spread = _said(_profile(events=14, preferred_day_events=5))["weekday"]
    assert spread.text == "No favourite weekday: no day holds 40% of their 14 events."
    assert _said(_profile(events=15, preferred_day_events=6))["weekday"].text.startswith("Most active on")
    # An hour or a channel short of the evidence is left out, not guessed.
    quiet = _said(
        _profile(
            events=10,
            preferred_hour=9,
            preferred_hour_events=3,
            preferred_channel="web",
            preferred_channel_events=5,
            channel_events=10,
        )
    )
    assert "hour" not in quiet and "channel" not in quiet


def test_the_expected_value_says_how_much_it_leans_on_all_customers() -> None:
    once = reading.read(
        _profile(purchases=1, repeat_purchases=0, total_value=10.77), _scores(), as_of=AS_OF, currency="USD"
    )
    value = next(f for f in once.figures if f.label == "Expected value per purchase")
    assert value.text == "$36.09"
    assert value.note == (
        "Based on 1 purchase day; with no repeat purchase yet the estimate is all customers' average, $36.09."
    )
    regular = reading.read(
        _profile(purchases=6, repeat_purchases=5),
        _scores(expected_value=21.5, value_population_weight=0.374),
        as_of=AS_OF,
        currency="EUR",
    )
    value = next(f for f in regular.figures if f.label == "Expected value per purchase")
    assert value.text == "\u20ac21.50"
    assert value.note == (
        "Based on 6 purchase days; with few purchases the estimate leans on all customers' average of "
        "\u20ac36.09 (here 37% of the weight)."
    )


def test_figures_carry_the_currency_thousands_separators_and_the_profile_date() -> None:
    read = reading.read(_profile(total_value=12345.6), _scores(clv=1234.5), as_of=AS_OF, currency="GBP")
    figures = {f.label: f.text for f in read.figures}
    assert figures == {
        "Purchase days expected in the 52 weeks after 1998-06-30": "0.3",
        "Value of those 52 weeks (CLV)": "\u00a31,234.50",
        "Expected value per purchase": "\u00a336.09",
        "Spent up to 1998-06-30": "\u00a312,346",
    }

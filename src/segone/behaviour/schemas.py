"""What the behaviour domain gives out: a customer's profile, scores and purchase timeline; a refresh."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class BehaviourProfileOut(BaseModel):
    """When they buy and how often, when they contact us and why (see ``metrics.behaviour_profile``)."""

    first_purchase: date | None
    last_purchase: date | None
    purchases: int = Field(description="Days with a purchase (several purchases on one day count once).")
    repeat_purchases: int
    recency_days: int | None = Field(description="Days from the last purchase to the profile's date.")
    tenure_days: int | None = Field(description="Days from the first purchase to the profile's date.")
    total_value: float | None
    mean_value: float | None = Field(description="Mean value of a purchase day.")
    median_gap_days: float | None
    gap_cv: float | None = Field(description="Regularity of the gaps: 0 is clockwork, above 1 erratic.")
    purchases_last_90d: int
    purchases_prev_90d: int
    trend_ratio: float | None = Field(description="Last 90 days over the 90 before; null without any before.")
    preferred_channel: str | None
    preferred_channel_events: int | None = Field(description="Events through the preferred channel.")
    channel_events: int | None = Field(description="Events with a channel.")
    preferred_day_of_week: int | None = Field(description="0 = Monday.")
    preferred_day_events: int | None = Field(description="Events on the preferred day of the week.")
    preferred_hour: int | None = Field(description="Hour of day, UTC.")
    preferred_hour_events: int | None = Field(description="Events in the preferred hour.")
    contacts: int
    top_contact_reasons: list[str]
    complaints: int
    returns: int
    last_complaint_at: datetime | None = Field(default=None, description="When they last complained.")
    last_return_at: datetime | None = Field(default=None, description="When they last returned something.")
    referrals: int
    reviews: int
    visits: int
    events: int


class Interval(BaseModel):
    """Where a score lies with probability ``level`` given how uncertain the model's parameters are."""

    low: float
    high: float
    level: float


class ScoreIntervals(BaseModel):
    """Central intervals of the scores from the parameters' uncertainty (a parametric bootstrap on the last
    refresh's fits): not the customer's own randomness, which is far larger (someone expected to buy 2.0
    times will buy 0, 1, 3 ... times). A null interval: the model was not fitted, or ``note`` says why."""

    level: float
    draws: int = Field(description="Parameter vectors drawn; the same request draws the same ones.")
    p_alive: Interval | None
    expected_purchases: Interval | None
    expected_value: Interval | None
    clv: Interval | None
    note: str | None = None


class AlivePoint(BaseModel):
    day: date
    p_alive: float
    purchase: bool = Field(description="A purchase day: its P(alive) counts that day's purchase.")


class AliveHistory(BaseModel):
    """P(alive) as the current model would have said it on each day, from what the customer had bought
    by then (frequency and recency as they were), from the first purchase to the profile's day."""

    customer_id: int
    model: str | None
    as_of: date | None
    points: list[AlivePoint] = Field(
        description="Days in order: a grid of at most 100, and every purchase day."
    )
    note: str | None = None


class ScoresOut(BaseModel):
    """Model scores; a null where the refresh could not fit the model (the refresh's message says why)."""

    model: str | None = Field(
        description="The purchase model behind p_alive and expected_purchases: Pareto/NBD by default (BG/NBD "
        "when it finds that nobody has stopped buying), BG/NBD or MBG/NBD when the refresh was asked for it "
        "or found it best on a holdout (the refresh's models.selection says why)."
    )
    p_alive: float | None = Field(description="Probability the customer still buys from us.")
    expected_purchases: float | None = Field(description="Purchase days expected in the next horizon_weeks.")
    expected_value: float | None = Field(description="Expected value of a purchase (Gamma-Gamma).")
    value_population_mean: float | None = Field(
        description="All customers' average value per purchase in the Gamma-Gamma fit."
    )
    value_population_weight: float | None = Field(
        description="The share of expected_value that rests on that average rather than on the customer's "
        "own purchases: 1 without a repeat purchase, falling as repeat purchases add up."
    )
    clv: float | None = Field(description="Discounted value of the purchases expected in the horizon.")
    horizon_weeks: int
    annual_discount_rate: float
    intervals: ScoreIntervals | None = Field(
        default=None, description="Only when asked for (`intervals=0.9`): each score's central interval."
    )


class TimelinePoint(BaseModel):
    day: date
    value: float | None
    purchases: int


class Statement(BaseModel):
    """One sentence of a reading: a habit, or why the data cannot tell it yet (with the rule)."""

    topic: str = Field(
        description="purchases, cadence, trend, weekday, hour, channel or contacts (a habit not shown "
        "strongly enough, hour or channel, is left out)."
    )
    text: str
    enough_evidence: bool = Field(description="False when the text says the data is too thin to tell.")


class Figure(BaseModel):
    label: str
    value: float
    text: str = Field(description="The value as shown, amounts in the configured currency.")
    note: str | None = None


class BehaviourReading(BaseModel):
    """The profile and scores in words, the same on the page, in the API and at the terminal."""

    alive: Literal["likely", "risk", "lapsed", "unknown"]
    headline: str
    statements: list[Statement]
    figures: list[Figure]
    signals: list[str] = Field(description="The other events counted: complaints, returns, visits...")
    note: str | None


class BehaviourOut(BaseModel):
    customer_id: int
    currency: str = Field(description="ISO 4217 code of every amount (SEGONE_CURRENCY).")
    as_of: date | None = Field(description="The profile describes the customer up to the end of this day.")
    refreshed_at: datetime | None
    profile: BehaviourProfileOut | None = Field(description="Null until a refresh has seen the customer.")
    scores: ScoresOut | None
    timeline: list[TimelinePoint] = Field(description="The most recent purchase days, oldest first.")
    reading: BehaviourReading | None = Field(description="Null until a refresh has seen the customer.")


class RefreshOut(BaseModel):
    id: int
    as_of: date
    status: str = Field(description="running, done or failed.")
    started_at: datetime
    finished_at: datetime | None
    events: int | None
    customers: int | None
    horizon_weeks: int
    annual_discount_rate: float
    models: dict[str, Any] = Field(
        description="The fitted models by name (pareto_nbd, bgnbd, mbgnbd, gamma_gamma: parameters, "
        "log-likelihood, customers) and `selection`: the purchase model that scored (`model`), the one "
        "asked for (`asked`: a name or best), `why`, and with best the holdout `comparison` (its split, "
        "each model's MAE and RMSE, the ranking)."
    )
    message: str | None


class EventRecord(BaseModel):
    """One event of the dataset as another domain reads it (each ``event_id`` once)."""

    event_id: str
    customer_id: int = Field(description="The record the event was resolved to (a merged one keeps its id).")
    type: str
    ts: datetime
    value: float | None
    channel: str | None
    offering: str | None
    reason: str | None


class FrequencyRowOut(BaseModel):
    frequency: str = Field(description="Repeat purchases in the calibration period: 0 to 6, then 7+.")
    customers: int
    actual: float = Field(description="Mean repeat purchases in the holdout of these customers.")
    predicted: float


class WeekOut(BaseModel):
    week: int = Field(description="1 is the week of the first purchase of any calibration customer.")
    end: date = Field(description="The week's last day (the holdout end for the last week).")
    actual: float
    predicted: float
    holdout: bool = Field(description="Whether the week ends after the calibration end.")


class WeeklyOut(WeekOut):
    days: int = Field(description="The week's length in days: 7, or fewer for the last one.")


class RecencyBucketOut(BaseModel):
    start: float = Field(description="Time since the last purchase, from (in time_unit).")
    end: float = Field(description="Time since the last purchase, to (in time_unit).")
    at: float = Field(description="Where P(alive) is evaluated: the middle of the interval.")


class AliveMatrixOut(BaseModel):
    """P(alive) at the calibration end by repeat purchases (rows) and time since the last one (columns)."""

    time_unit: str
    age: float = Field(
        description="The customer's age (time since the first purchase): the calibration customers' median. "
        "A customer of frequency 0 bought only once, so is as old as the time since that purchase."
    )
    frequencies: list[int] = Field(description="The rows: repeat purchases in the calibration period.")
    since_last_purchase: list[RecencyBucketOut] = Field(description="The columns.")
    p_alive: list[list[float]] = Field(description="One row per frequency, one value per column.")


class EvaluationOut(BaseModel):
    """One purchase model fitted to the calibration period, its forecast set against the holdout."""

    model: str = Field(description="pareto-nbd, bgnbd or mbgnbd.")
    calibration_end: date
    holdout_end: date
    time_unit: str
    n_customers: int = Field(description="Customers who bought in the calibration period.")
    parameters: dict[str, float]
    actual_total: float = Field(description="Their repeat purchases (purchase days) in the holdout.")
    predicted_total: float
    mean_absolute_error: float = Field(description="Per customer, of holdout repeat purchases (MAE).")
    root_mean_squared_error: float = Field(description="Per customer, of holdout repeat purchases (RMSE).")
    log_likelihood: float = Field(description="Of the calibration period at the fitted parameters.")
    tracking_error: float = Field(
        description="Mean absolute gap between predicted and actual cumulative repeat purchases over the "
        "holdout's weeks."
    )
    by_frequency: list[FrequencyRowOut]
    cumulative: list[WeekOut] = Field(description="Cumulative repeat purchases at each week's end.")
    weekly: list[WeeklyOut] = Field(description="Each week's repeat purchases: the cumulative's differences.")
    alive_matrix: AliveMatrixOut


class EvaluationReportOut(BaseModel):
    """One model evaluated, or every model compared on the same split, the best first."""

    model: str = Field(description="What was asked: a model's name, or all.")
    winner: str | None = Field(description="With all: the best model (the first of models); else null.")
    reason: str | None = Field(description="With all: why it won (lowest MAE, then lowest RMSE); else null.")
    calibration_end: date
    holdout_end: date
    time_unit: str
    models: list[EvaluationOut] = Field(description="The model asked for, or all of them, the best first.")

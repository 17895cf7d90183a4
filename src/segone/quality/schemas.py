"""What the quality domain takes in and gives out: report cards, ratings, the review, action plans, links.

A card's supplier is a team or the company itself ("our company"); its customer a team (an internal card)
or the company's external customers at one touch point (an external card, which also asks NPS and CSAT).
Deliverables are named by their words everywhere (``"Leads qualified"``), compared without case.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime

from pydantic import BaseModel, Field, field_validator, model_validator

from segone.importing import ImportReport
from segone.inputs import InputModel, Name
from segone.quality.measures import Reason
from segone.quality.periods import PeriodLength

NAME_MAX = 200
DELIVERABLE_MAX = 120
DELIVERABLES_MAX = 20
TOUCH_POINT_MAX = 40
COMMENT_MAX = 2000
NOTES_MAX = 2000
DEFAULT_TARGET = 4.0
TREND_PERIODS = 12
COMPANY = "our company"
"""The supplier of a card whose supplier is no team: the company as a whole."""
EXTERNAL = "external customers"
"""The customer of an external card."""
# Words the command line and the files use for the company and for external customers.
COMPANY_WORDS = frozenset({"company", "our company", "us", "we"})
EXTERNAL_WORDS = frozenset({"customers", "external", "external customers"})
# What separates deliverables and scores on the command line ("a;b", "a=4,b=5") may not be in a name.
_NOT_IN_NAMES = (";", "=", ",")
_TOUCH_POINT = re.compile(r"^[a-z0-9][a-z0-9 &/_-]*$")


class CardKind(enum.StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class PlanStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"

    @property
    def label(self) -> str:
        return {"open": "open", "in_progress": "in progress", "done": "done"}[self.value]


def clean_deliverables(values: list[str]) -> list[str]:
    """Deliverables as stored: spaces collapsed, each once (without case), 1 to 20 of them."""
    names: list[str] = []
    seen: set[str] = set()
    for value in values:
        name = " ".join(value.split())
        if not name:
            continue
        if len(name) > DELIVERABLE_MAX:
            raise ValueError(
                f"the deliverable '{name[:40]}...' is {len(name)} characters long; at most {DELIVERABLE_MAX}"
            )
        bad = [mark for mark in _NOT_IN_NAMES if mark in name]
        if bad:
            raise ValueError(f"the deliverable '{name}' may not hold '{bad[0]}' (it separates scores)")
        if name.lower() in seen:
            raise ValueError(f"the deliverable '{name}' is named twice")
        seen.add(name.lower())
        names.append(name)
    if not names:
        raise ValueError("a report card needs at least one deliverable (about six is usual)")
    if len(names) > DELIVERABLES_MAX:
        raise ValueError(f"{len(names)} deliverables; a report card has at most {DELIVERABLES_MAX}")
    return names


def clean_touch_point(value: str | None) -> str | None:
    """A touch point as stored: a short lower-case tag (``store``, ``phone``, ``web``, ``home delivery``)."""
    if value is None:
        return None
    tag = " ".join(value.split()).lower()
    if not tag:
        return None
    if len(tag) > TOUCH_POINT_MAX:
        raise ValueError(f"the touch point is {len(tag)} characters long; at most {TOUCH_POINT_MAX}")
    if not _TOUCH_POINT.match(tag):
        raise ValueError(
            f"'{tag}' is not a touch point: a short tag of letters, digits, spaces and - & / _, such as "
            "store, phone, web or delivery"
        )
    return tag


def check_target(value: float) -> float:
    if not 1.0 <= value <= 5.0:
        raise ValueError(f"the target is {value:g}; scores are 1 to 5, so a target is too")
    if round(value, 2) != value:
        raise ValueError(f"the target {value:g} has more than two decimals")
    return value


def parse_scores(text: str) -> dict[str, int]:
    """``"Leads qualified=4, Sales materials=5"`` (the command line's scores) as a dict; ValueError saying
    what is wrong."""
    scores: dict[str, int] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.rpartition("=")
        if not sep or not name.strip():
            raise ValueError(
                f"'{part.strip()}' is not deliverable=score; write e.g. "
                '"Leads qualified=4,Sales materials=5"'
            )
        try:
            scores[" ".join(name.split())] = int(value.strip())
        except ValueError:
            raise ValueError(
                f"the score of '{name.strip()}' is '{value.strip()}'; a score is a whole number 1 to 5"
            ) from None
    return scores


def _clean_name(value: str | None) -> str | None:
    if value is None:
        return None
    name = " ".join(value.split())
    if not name:
        raise ValueError("the name may not be blank")
    return name


class CardCreate(InputModel):
    supplier_team: str | None = Field(
        default=None, max_length=120, description="The team that delivers; null: the company as a whole."
    )
    customer_team: str | None = Field(
        default=None,
        max_length=120,
        description="The internal team that rates it (an internal card); null: external customers, at the "
        "touch point given (an external card, with NPS and CSAT).",
    )
    touch_point: str | None = Field(
        default=None,
        max_length=TOUCH_POINT_MAX,
        description="External cards only, and needed there: store, phone, web, delivery... (a short tag).",
    )
    deliverables: list[str] = Field(
        description="What the customer expects of the supplier, each rated 1-5: about six, 1 to 20."
    )
    target: float = Field(
        default=DEFAULT_TARGET, description="The mean score wanted of every deliverable, 1 to 5."
    )
    name: str | None = Field(
        default=None,
        max_length=NAME_MAX,
        description="Default: '<supplier> for <customer>', with the touch point for external cards.",
    )
    period_length: PeriodLength = Field(
        default=PeriodLength.MONTH, description="How long a rating period is: month (YYYY-MM) or quarter."
    )

    _deliverables = field_validator("deliverables")(clean_deliverables)
    _touch_point = field_validator("touch_point")(clean_touch_point)
    _target = field_validator("target")(check_target)
    _name = field_validator("name")(_clean_name)

    @field_validator("supplier_team", "customer_team")
    @classmethod
    def _team(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return " ".join(value.split()) or None

    @model_validator(mode="after")
    def _kind(self) -> CardCreate:
        if self.customer_team is None and self.touch_point is None:
            raise ValueError(
                "an external card (no customer team) needs a touch point: store, phone, web, delivery..."
            )
        if self.customer_team is not None and self.touch_point is not None:
            raise ValueError("an internal card (rated by a team) has no touch point")
        if self.customer_team is not None and self.supplier_team is None:
            raise ValueError("an internal card's supplier is a team: name the team its customer team rates")
        if (
            self.customer_team is not None
            and self.supplier_team is not None
            and self.customer_team.lower() == self.supplier_team.lower()
        ):
            raise ValueError(f"the team {self.supplier_team} would rate itself; name two different teams")
        return self


class CardUpdate(InputModel):
    """Only the fields sent change."""

    name: str | None = Field(default=None, max_length=NAME_MAX)
    target: float | None = None
    active: bool | None = None
    deliverables: list[str] | None = Field(
        default=None,
        description="The whole list in its order: new names are added, names left out are retired (their "
        "scores stay in earlier reviews), a retired name given again comes back.",
    )

    _name = field_validator("name")(_clean_name)

    @field_validator("target")
    @classmethod
    def _target(cls, value: float | None) -> float | None:
        return None if value is None else check_target(value)

    @field_validator("deliverables")
    @classmethod
    def _deliverables(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_deliverables(value)


class DeliverableOut(BaseModel):
    id: int
    name: str
    position: int
    active: bool = Field(description="False: retired from the card, kept for earlier periods.")


class CardOut(BaseModel):
    id: int
    name: str
    kind: CardKind
    supplier_team_id: int | None
    supplier: str = Field(description="The supplier team's name, or 'our company'.")
    customer_team_id: int | None
    customer: str = Field(description="The customer team's name, or 'external customers'.")
    touch_point: str | None
    target: float
    period_length: PeriodLength
    active: bool
    deliverables: list[DeliverableOut] = Field(description="In their order, retired ones included.")
    created_at: datetime
    updated_at: datetime

    @property
    def current_deliverables(self) -> list[DeliverableOut]:
        return [d for d in self.deliverables if d.active]


class CardList(BaseModel):
    items: list[CardOut]
    team_id: int | None = Field(description="The caller's team: its cards are the ones it rates or delivers.")
    team: str | None
    sees_all: bool = Field(description="True for analysts and administrators, who see every card.")


class RatingAnswers(InputModel):
    """A rater's answers: a score from 1 to 5 per deliverable rated (by name), and for external cards the
    NPS (0-10) and CSAT (1-5) questions."""

    scores: dict[str, int] = Field(
        default_factory=dict,
        description='Deliverable name to score, 1 to 5: {"Leads qualified": 4}. A deliverable left out is '
        "not rated.",
    )
    nps: int | None = Field(
        default=None, description="External cards: how likely to recommend us, 0 (not at all) to 10."
    )
    csat: int | None = Field(default=None, description="External cards: how satisfied, 1 (very un-) to 5.")
    comment: str = Field(default="", max_length=COMMENT_MAX)

    @field_validator("scores")
    @classmethod
    def _scores(cls, value: dict[str, int]) -> dict[str, int]:
        cleaned: dict[str, int] = {}
        for name, score in value.items():
            key = " ".join(name.split())
            if not key:
                raise ValueError("a score names no deliverable")
            if not 1 <= score <= 5:
                raise ValueError(f"the score of '{key}' is {score}; a score is 1 to 5")
            if key.lower() in {k.lower() for k in cleaned}:
                raise ValueError(f"'{key}' is scored twice")
            cleaned[key] = score
        return cleaned

    @field_validator("nps")
    @classmethod
    def _nps(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 10:
            raise ValueError(f"the NPS answer is {value}; it is 0 to 10")
        return value

    @field_validator("csat")
    @classmethod
    def _csat(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 5:
            raise ValueError(f"the CSAT answer is {value}; it is 1 to 5")
        return value

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _something(self) -> RatingAnswers:
        if not self.scores and self.nps is None and self.csat is None:
            raise ValueError("the rating scores no deliverable; rate at least one")
        return self


class RatingCreate(RatingAnswers):
    period: str = Field(
        max_length=20,
        description="The period rated: YYYY-MM (or YYYY-Qn for quarterly cards); not a future one.",
    )
    rater: str | None = Field(
        default=None,
        max_length=320,
        description="Internal cards: the e-mail of the member of the customer team who rates; default the "
        "caller. Recording another user's rating needs the import permission.",
    )
    customer: str | None = Field(
        default=None,
        max_length=400,
        description="External cards: the customer who rates, by id or identity (email:ann@example.com); "
        "recording a customer's rating needs the import permission.",
    )


class RatingOut(BaseModel):
    id: int
    card_id: int
    period: str
    rater_user_id: int | None
    rater_customer_id: int | None
    rater: str = Field(description="The rater's name (a user's, or the customer's).")
    scores: dict[str, int]
    nps: int | None
    csat: int | None
    comment: str
    source: str = Field(description="form, api, cli, import or link.")
    created_at: datetime


class ShortfallOut(BaseModel):
    reasons: list[Reason] = Field(description="below_target and/or falling (two periods in a row).")
    why: str


class PersonOut(BaseModel):
    id: int
    name: str
    email: str


class ActionPlanCreate(InputModel):
    deliverable: str = Field(max_length=DELIVERABLE_MAX, description="The deliverable, by name.")
    period: str = Field(max_length=20, description="The period whose review found the shortfall.")
    owner: str = Field(max_length=320, description="The owner's e-mail address: an active user.")
    due: date
    notes: str = Field(default="", max_length=NOTES_MAX)
    status: PlanStatus = PlanStatus.OPEN


class ActionPlanUpdate(InputModel):
    """Only the fields sent change."""

    status: PlanStatus | None = None
    due: date | None = None
    notes: str | None = Field(default=None, max_length=NOTES_MAX)
    owner: str | None = Field(default=None, max_length=320)


class ActionPlanOut(BaseModel):
    id: int
    card_id: int
    deliverable_id: int
    deliverable: str
    period: str
    owner: PersonOut
    due: date
    status: PlanStatus
    notes: str
    overdue: bool = Field(description="Not done, and due before today.")
    created_at: datetime
    updated_at: datetime


class FollowUp(ActionPlanOut):
    """A plan of an earlier review, shown again: the one before's, and every earlier one not done."""

    mean_then: float | None = Field(description="The deliverable's mean in the plan's period.")
    mean_now: float | None = Field(description="Its mean in the period reviewed.")


class DeliverableReview(BaseModel):
    id: int
    name: str
    active: bool
    mean: float | None = Field(description="Mean score this period (sum over count); null: nobody rated it.")
    count: int = Field(description="How many raters scored it this period.")
    distribution: dict[str, int] = Field(description='Raters per score this period: {"1": 0, ..., "5": 3}.')
    trend: list[float | None] = Field(description="Its mean in each period of `periods`, the oldest first.")
    counts: list[int] = Field(description="Its count in each period of `periods`.")
    shortfall: ShortfallOut | None
    plans: list[ActionPlanOut] = Field(description="Action plans made in this period's review.")


class NpsOut(BaseModel):
    score: float | None = Field(description="100 x (promoters - detractors) / answers, -100 to 100.")
    answers: int
    promoters: int = Field(description="Answers of 9 or 10.")
    passives: int = Field(description="Answers of 7 or 8.")
    detractors: int = Field(description="Answers of 0 to 6.")
    trend: list[float | None]


class CsatOut(BaseModel):
    mean: float | None = Field(description="The mean answer, 1 to 5.")
    share: float | None = Field(description="Satisfied answers (4 or 5) over all answers, 0 to 1.")
    answers: int
    satisfied: int
    distribution: dict[str, int]
    trend: list[float | None] = Field(description="The mean answer in each period of `periods`.")


class CommentOut(BaseModel):
    rater: str
    text: str
    created_at: datetime


class CardReview(BaseModel):
    """A card's review for one period: the figures every entry point shows (docs/quality.md)."""

    card: CardOut
    period: str
    period_label: str
    periods: list[str] = Field(description="The periods of the trends: the twelve ending with this one.")
    raters: int = Field(description="Ratings of the card this period.")
    mean: float | None = Field(description="The mean of every score given this period.")
    scores: int = Field(description="How many scores were given this period.")
    deliverables: list[DeliverableReview]
    shortfalls: int
    nps: NpsOut | None = Field(description="External cards only.")
    csat: CsatOut | None = Field(description="External cards only.")
    comments: list[CommentOut] = Field(description="This period's comments, the latest first (at most 100).")
    comments_total: int
    follow_up: list[FollowUp]


class LinkCreate(InputModel):
    customer: str = Field(
        max_length=400, description="The customer, by id or identity (email:ann@example.com)."
    )
    period: str = Field(max_length=20, description="The period the customer rates: YYYY-MM (or YYYY-Qn).")


class RatingLink(BaseModel):
    card_id: int
    customer_id: int
    customer: str
    period: str
    token: str
    path: str = Field(description="The form's address on this server: /r/<token>.")
    valid_until: date = Field(description="The last day the link opens the form: the next period's end.")


class LinkForm(InputModel):
    """What the public form of a rating link shows."""

    card_id: int
    card: str
    supplier: str
    touch_point: str | None
    deliverables: list[str]
    period: str
    period_label: str
    customer_id: int
    customer: str
    rated_at: datetime | None = Field(description="When this customer rated this card for the period.")


class RatingImportReport(ImportReport):
    """What a ratings import did (or, in a dry run or when rows are bad, would do)."""

    created: int = 0
    skipped: int = Field(default=0, description="Bad rows left out when skip_bad_rows is on.")
    deliverable_columns: list[str] = Field(
        default_factory=list, description="The columns read as deliverables' scores."
    )


class RateForm(InputModel):
    """What the rater's form shows: the card, the period, whether the caller may rate it and why not."""

    card: CardOut
    period: str
    period_label: str
    periods: list[str] = Field(description="The periods the form offers: this one and the two before.")
    can_rate: bool
    why_not: str | None = Field(description="Why the caller may not rate it, in words; null when they may.")
    rated: RatingOut | None = Field(description="The caller's rating of the period, when they gave one.")


# --- "think customer": predicted ratings and the empathy gap ------------------------------------------

RATING_WINDOW_DAYS = 30
"""How long after an encounter the customer's own rating counts as their answer to it."""


class PredictionCreate(InputModel):
    rating: int = Field(
        ge=1, le=5, description="The rating, 1-5, the employee thinks the customer would give."
    )


class PredictionOut(BaseModel):
    encounter_id: int
    customer_id: int
    employee_id: int
    employee: str = Field(description="The name of the employee who had the encounter.")
    encounter_at: datetime
    predicted: int
    actual: float | None = Field(
        description="The mean over deliverables of the customer's first external report-card rating "
        f"within {RATING_WINDOW_DAYS} days after the encounter; null until it arrives."
    )
    gap: float | None = Field(description="predicted - actual; null until the customer's rating arrives.")


class GapRow(BaseModel):
    """One month of one employee's (or one team's) predictions that have the customer's rating."""

    month: str = Field(description="YYYY-MM of the encounters.")
    name: str = Field(description="The employee's or the team's name.")
    id: int | None = Field(description="The user's or the team's id; null for people of no team.")
    count: int = Field(description="Predictions with the customer's rating.")
    mean_gap: float = Field(description="Mean of predicted - actual: above 0, the customer was less happy.")
    mean_absolute_gap: float = Field(description="Mean of |predicted - actual|: how far off, either way.")


class EmpathyReport(BaseModel):
    window_days: int = RATING_WINDOW_DAYS
    team: str | None = Field(description="The team asked for; null for everyone the caller sees.")
    predictions: int = Field(description="Predictions in the report, with or without the customer's rating.")
    awaiting: int = Field(description="Predictions whose customer has not rated yet (within the window).")
    employees: list[GapRow] = Field(description="Per month (newest first), then per employee by name.")
    teams: list[GapRow] = Field(description="Per month (newest first), then per team by name.")


# --- advocacy: referrals and reviews per customer --------------------------------------------------------

ADVOCACY_TYPES = ("referral", "review")
"""The event types that count as advocacy."""
ADVOCACY_DAYS = 365
ADVOCACY_AT_LEAST = 2


class AdvocateOut(BaseModel):
    customer_id: int
    name: str
    referrals: int
    reviews: int
    total: int = Field(description="Referrals and reviews together.")
    last_at: datetime = Field(description="When the latest of them happened.")


class AdvocateList(BaseModel):
    since: datetime = Field(description="The period's start (its events from then on count).")
    until: datetime = Field(description="The period's end.")
    at_least: int = Field(description="The advocacy events a customer needs in the period to be listed.")
    customers: int = Field(description="Customers with at least one referral or review in the period.")
    referrals: int = Field(description="Referral events in the period.")
    reviews: int = Field(description="Review events in the period.")
    items: list[AdvocateOut] = Field(
        description="The advocates: most events first, then most referrals, then the most recent."
    )


# --- the differentiation survey and the perception gap ----------------------------------------------------

DEFAULT_QUESTION = "Is our offering different from the competition in a way that matters to you?"
AGREEING = 4
"""An answer of 4 or 5 (agree, strongly agree) counts as agreeing."""
STRATEGY_THRESHOLD = 0.25
"""A front-line statement passes the strategy check when its TF-IDF cosine similarity to at least one
statement of the strategy on record is this or more."""


class SurveyGroup(enum.StrEnum):
    EXECUTIVES = "executives"
    FRONTLINE = "frontline"
    CUSTOMERS = "customers"

    @property
    def label(self) -> str:
        return {"executives": "Executives", "frontline": "Front-line staff", "customers": "Customers"}[
            self.value
        ]


class SurveyCreate(InputModel):
    name: Name = Field(max_length=NAME_MAX)
    question: str = Field(default=DEFAULT_QUESTION, min_length=1, max_length=COMMENT_MAX)


class SurveyOut(BaseModel):
    id: int
    name: str
    question: str
    created_at: datetime


class AnswerCreate(InputModel):
    agreement: int = Field(ge=1, le=5, description="1 strongly disagree ... 5 strongly agree.")
    statement: str = Field(
        default="",
        max_length=COMMENT_MAX,
        description="Front-line staff: what makes us different, in your words (the strategy check).",
    )
    group: SurveyGroup | None = Field(
        default=None,
        description="For a user: executives or frontline; default by role (administrators and managers are "
        "executives, everyone else front-line staff). Customers are always 'customers'.",
    )
    user: str | None = Field(
        default=None, max_length=320, description="The e-mail of the user who answered; default the caller."
    )
    customer: str | None = Field(
        default=None, max_length=400, description="The customer who answered, by id or identity."
    )


class AnswerOut(BaseModel):
    id: int
    survey_id: int
    group: SurveyGroup
    user_id: int | None
    customer_id: int | None
    agreement: int
    statement: str


class GroupShare(BaseModel):
    group: SurveyGroup
    label: str
    answers: int
    agreeing: int = Field(description="Answers of 4 or 5.")
    share: float | None = Field(description="agreeing / answers; null without answers.")


class StrategyCheck(BaseModel):
    threshold: float = STRATEGY_THRESHOLD
    strategy_statements: int = Field(description="Statements of the strategy on record compared with.")
    checked: int = Field(description="Front-line answers with a statement.")
    passed: int
    pass_rate: float | None = Field(description="passed / checked; null when nothing was checked.")


class GradedStatement(BaseModel):
    answer_id: int
    statement: str
    similarity: float = Field(description="The highest similarity to a statement of the strategy.")
    closest: str | None = Field(description="That statement of the strategy.")
    passed: bool


class PerceptionGap(BaseModel):
    survey: SurveyOut
    groups: list[GroupShare] = Field(description="Executives, front-line staff, customers, in this order.")
    strategy_check: StrategyCheck
    statements: list[GradedStatement]


class SurveyImportReport(ImportReport):
    """What an import of customers' survey answers did (or, in a dry run or when rows are bad, would do)."""

    created: int = 0

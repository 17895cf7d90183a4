"""Tables of the quality domain: report cards, their deliverables, ratings and scores, action plans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base


class ReportCard(Base):
    """What a supplier delivers to its customer, rated 1-5 deliverable by deliverable each period.

    The supplier is a team, or the company itself (``supplier_team_id`` null); the customer a team (an
    internal card) or the company's external customers (``customer_team_id`` null), then at one touch
    point (store, phone, web...). A card is deactivated, never deleted: its ratings stay.
    """

    __tablename__ = "report_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    supplier_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    customer_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    touch_point: Mapped[str | None] = mapped_column(String(40))
    # The mean score the business wants of every deliverable, 1.00 to 5.00.
    target: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    period_length: Mapped[str] = mapped_column(String(10), default="month")  # a periods.PeriodLength
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Deliverable(Base):
    """One thing the customer expects of the supplier ("Leads qualified within a week"). Taken off a card
    it is retired (``active`` false), not deleted, so that earlier periods keep their scores."""

    __tablename__ = "report_card_deliverables"
    __table_args__ = (UniqueConstraint("card_id", "name", name="uq_report_card_deliverables_card_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("report_cards.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)


class Rating(Base):
    """One rater's rating of a card for one period: a user (internal cards) or an external customer. A
    rater rates a card once per period (the two unique constraints; null raters are never equal)."""

    __tablename__ = "report_card_ratings"
    __table_args__ = (
        UniqueConstraint("card_id", "period", "rater_user_id", name="uq_report_card_ratings_user"),
        UniqueConstraint("card_id", "period", "rater_customer_id", name="uq_report_card_ratings_customer"),
        Index("ix_report_card_ratings_card_period", "card_id", "period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("report_cards.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # 2026-11 or 2026-Q4
    rater_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    rater_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    nps: Mapped[int | None] = mapped_column(SmallInteger)  # 0-10, external cards only
    csat: Mapped[int | None] = mapped_column(SmallInteger)  # 1-5, external cards only
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))  # form, api, cli, import, link
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Score(Base):
    """A rating's score of one deliverable, 1 to 5; a deliverable the rater left out has no row."""

    __tablename__ = "report_card_scores"

    rating_id: Mapped[int] = mapped_column(
        ForeignKey("report_card_ratings.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    deliverable_id: Mapped[int] = mapped_column(
        ForeignKey("report_card_deliverables.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
        index=True,
    )
    score: Mapped[int] = mapped_column(SmallInteger)


class ActionPlan(Base):
    """What will be done about a deliverable's shortfall found in a period's review: who, by when, and
    how it stands; the next reviews show it again until it is done."""

    __tablename__ = "action_plans"
    __table_args__ = (Index("ix_action_plans_card_period", "card_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("report_cards.id", ondelete="CASCADE"))
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("report_card_deliverables.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # the period whose review found the shortfall
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, in_progress, done
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RatingPrediction(Base):
    """ "Think customer": the rating (1-5) the employee thinks the customer would give after an encounter.
    The encounter's customer, employee and moment are kept with it, so that the gap to the customer's own
    rating is found without reading the encounters' table (docs/quality.md, "Think customer")."""

    __tablename__ = "rating_predictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    encounter_at: Mapped[datetime] = mapped_column(index=True)
    predicted: Mapped[int] = mapped_column(SmallInteger)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Survey(Base):
    """The differentiation survey: one question, agreement 1-5, asked the same of executives, front-line
    staff and customers (docs/quality.md, "The perception gap")."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    question: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyAnswer(Base):
    """One person's answer: a user (an executive or front-line staff) or a customer, once per survey. A
    front-line answer may state in words what makes us different (the strategy check)."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        UniqueConstraint("survey_id", "user_id", name="uq_survey_answers_user"),
        UniqueConstraint("survey_id", "customer_id", name="uq_survey_answers_customer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    group: Mapped[str] = mapped_column(String(20))  # executives, frontline, customers
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    agreement: Mapped[int] = mapped_column(SmallInteger)
    statement: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

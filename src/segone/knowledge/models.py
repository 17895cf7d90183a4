"""Tables of the knowledge domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from segone.clock import utcnow
from segone.storage.base import Base
from segone.storage.leases import Leased
from segone.storage.versions import Versioned

_RUNNING = text("status = 'running'")


class Differentiator(Versioned, Base):
    """A fact that makes this customer different: a line on the customer's easel sheet."""

    __tablename__ = "differentiators"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(60), index=True)
    learned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(default=0.8)
    status: Mapped[str] = mapped_column(String(10), default="current")  # current | outdated
    outdated_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("differentiators.id"))
    last_confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    acknowledgement: Mapped[Acknowledgement | None] = relationship(
        back_populates="differentiator", lazy="selectin", uselist=False
    )


class Acknowledgement(Base):
    """The customer has been shown that we know this fact (the circle in a different colour)."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    differentiator_id: Mapped[int] = mapped_column(ForeignKey("differentiators.id"), unique=True)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    acknowledged_at: Mapped[datetime] = mapped_column(default=utcnow)
    encounter_id: Mapped[int | None] = mapped_column(ForeignKey("encounters.id"))
    # The message that showed it to them (a row of personalisation's ``messages``), when one did. No
    # foreign key: knowledge sits below personalisation, and a key would make every process that writes an
    # acknowledgement load the messages' tables. Messages are never deleted, so the id stays good.
    message_id: Mapped[int | None]
    how: Mapped[str] = mapped_column(Text, default="")

    differentiator: Mapped[Differentiator] = relationship(back_populates="acknowledgement")


class KnowledgeRefresh(Base, Leased):
    """One run of ``segone knowledge refresh``: how it grouped, what it found, the distinguishability mix.

    Leased (``storage.leases``): one row at most is ``running``, held by a live process.
    """

    __tablename__ = "knowledge_refreshes"
    __table_args__ = (
        Index(
            "uq_knowledge_refreshes_running",
            "status",
            unique=True,
            sqlite_where=_RUNNING,
            postgresql_where=_RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    method: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[float] = mapped_column(Float)
    customers: Mapped[int | None]
    differentiators: Mapped[int | None]
    traits: Mapped[int | None]
    segments_of_one: Mapped[int | None]
    # Customers by the size of their confusion set: {"1": n, "2": n, "3-5": n, ...}.
    distribution: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seconds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class KnowledgeTrait(Base):
    """A trait of the last refresh: a grouped fact, an attribute value or a behaviour band, and its rarity."""

    __tablename__ = "knowledge_traits"

    id: Mapped[int] = mapped_column(primary_key=True)
    refresh_id: Mapped[int] = mapped_column(ForeignKey("knowledge_refreshes.id"), index=True)
    key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(20))  # fact, attribute, behaviour
    question: Mapped[str | None] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(Text)
    holders: Mapped[int]
    # Customers we know something about in the trait's topic (its fact category, detail or behaviour
    # measure); null for traits of refreshes before it was counted.
    population: Mapped[int | None]
    rarity: Mapped[float] = mapped_column(Float)


class FactTrait(Base):
    """Which trait a differentiator belongs to (several wordings of one fact share a trait)."""

    __tablename__ = "knowledge_fact_traits"

    differentiator_id: Mapped[int] = mapped_column(
        ForeignKey("differentiators.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    trait_id: Mapped[int] = mapped_column(ForeignKey("knowledge_traits.id"), index=True)


class CustomerMeasure(Base):
    """A customer's distinguishability as of the last refresh, its look-alikes and the next best question."""

    __tablename__ = "knowledge_customer_measures"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    refresh_id: Mapped[int] = mapped_column(ForeignKey("knowledge_refreshes.id"), index=True)
    trait_count: Mapped[int]
    distinguishability: Mapped[int]
    look_alikes: Mapped[list[int]] = mapped_column(JSON, default=list)
    next_question: Mapped[str | None] = mapped_column(String(120))
    next_question_remaining: Mapped[float | None] = mapped_column(Float)

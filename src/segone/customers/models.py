"""Tables of the customers domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from segone.clock import utcnow
from segone.storage.base import Base
from segone.storage.versions import Versioned


class Customer(Versioned, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "person" or "business"
    name: Mapped[str] = mapped_column(String(300), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The customer's first activity: when added, lowered to an earlier purchase (or other event) or
    # encounter as those are recorded (``service.note_first_activity``). "Customers by the end of a
    # month" counts by it: a whole purchase history imported today is not a crowd of new customers.
    since: Mapped[datetime] = mapped_column(default=utcnow)
    # A merged record stays, pointing at the survivor, so that old links and ids still resolve.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_at: Mapped[datetime | None]

    identities: Mapped[list[CustomerIdentity]] = relationship(
        back_populates="customer", order_by="CustomerIdentity.id", lazy="selectin"
    )


class CustomerIdentity(Base):
    """An id of the customer in some system: ``email:ann@example.com``, ``crm:00042``."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("system", "value", name="uq_customer_identities_system_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    system: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="identities")

    @property
    def key(self) -> str:
        return f"{self.system}:{self.value}"


class CustomerMerge(Base):
    """The record of a merge, with a snapshot of the merged record as it was."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ConsentRecord(Base):
    """One statement of a customer's consent to one purpose: a history, never overwritten; the latest
    record of a purpose is the customer's consent to it (``service.consent_of``)."""

    __tablename__ = "customer_consents"
    __table_args__ = (Index("ix_customer_consents_customer_purpose", "customer_id", "purpose", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    purpose: Mapped[str] = mapped_column(String(20))  # contact, profiling, personalisation
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(10))  # form, import, api, cli
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The e-mail too: the CLI's operator has no user row, and a user may be removed later.
    recorded_by: Mapped[str] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))

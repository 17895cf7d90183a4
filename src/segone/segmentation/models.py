"""Tables of the segmentation domain: every build is a stored version with its settings, its nodes and
which leaf each customer is in; named audiences saved from a segment, their hand changes and members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from segone.clock import utcnow
from segone.storage.base import Base
from segone.storage.leases import Leased

_RUNNING = text("status = 'running'")


class SegmentationVersion(Base, Leased):
    """One build: its settings, the variables it split on, what it found and how long it took.

    Leased (``storage.leases``): one build at most is ``running``, held by a live process; a build whose
    process was killed reads as failed.
    """

    __tablename__ = "segmentation_versions"
    __table_args__ = (
        Index(
            "uq_segmentation_versions_running",
            "status",
            unique=True,
            sqlite_where=_RUNNING,
            postgresql_where=_RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    # {variables, exclude, target, min_size, max_depth, max_segments, unknown} as asked for.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The variables the tree split on, in catalogue order (the names the settings resolved to).
    variable_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Each variable's kind as the build read it ({name: "numeric" | "categorical" | "boolean"}): an
    # attribute's kind is inferred from every customer's values, and assignment reads new values the same way.
    variable_kinds: Mapped[dict[str, str] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    customers: Mapped[int | None]
    leaves: Mapped[int | None]
    segments_of_one: Mapped[int | None]
    identical_leaves: Mapped[int | None]
    # Leaves of customers who differ only within a bin of a number: finer than the tree cuts (Tree.alike).
    alike_leaves: Mapped[int | None]
    seconds: Mapped[float | None] = mapped_column(Float)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    # The average customer (reference.of_tree): what later deviations and a customer's standing compare with.
    reference: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class Segment(Base):
    """A node of a version's tree: its place, its conditions in words from the root, and its figures."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_version_parent", "version_id", "parent_node_id"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("segmentation_versions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    node_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    parent_node_id: Mapped[int | None]
    depth: Mapped[int]
    size: Mapped[int]
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The node's own step from its parent as data (rules.to_json), None for the root: what assignment, the
    # Ibis expression and audiences follow.
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    gain: Mapped[float] = mapped_column(Float)
    identical: Mapped[bool]
    alike: Mapped[bool | None]  # see SegmentationVersion.alike_leaves; null for versions built before
    is_leaf: Mapped[bool]
    clv_sum: Mapped[float | None] = mapped_column(Float)
    clv_mean: Mapped[float | None] = mapped_column(Float)
    target_mean: Mapped[float | None] = mapped_column(Float)
    # How the segment differs from the average customer (its largest deviations), computed at build time
    # for the upper nodes only: the tree's arrays are not stored, and a million leaves would cost too much.
    deviations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The same against its sibling (the other side of its parent's cut; the larger side for "unknown").
    sibling_deviations: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class SegmentMembership(Base):
    """Which leaf of a version each customer is in: the build's, or the node an assignment placed them at
    since (a level the tree never saw there keeps a customer at an inner node)."""

    __tablename__ = "segment_memberships"
    __table_args__ = (Index("ix_segment_memberships_version_node", "version_id", "node_id"),)

    version_id: Mapped[int] = mapped_column(
        ForeignKey("segmentation_versions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    node_id: Mapped[int]
    # Null: placed by the build. Else when an assignment placed or moved the customer, without a rebuild.
    assigned_at: Mapped[datetime | None]


class Audience(Base):
    """A segment saved under a name: the conditions of its path from the root, as data and in words, which
    every build (and a refresh by hand) evaluates again on the customers' values of the day."""

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The path's conditions from the root (rules.to_json each), and the segment's words for them.
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where it was saved from; the version may go, the audience stays.
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("segmentation_versions.id", ondelete="SET NULL"), index=True
    )
    node_id: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The stored members: how many, how many of them met the conditions, when and after which build (null:
    # saved or refreshed by hand) they were evaluated.
    size: Mapped[int] = mapped_column(default=0)
    matched: Mapped[int] = mapped_column(default=0)
    evaluated_at: Mapped[datetime | None]
    evaluated_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("segmentation_versions.id", ondelete="SET NULL")
    )
    # The last attempt, which may have failed: then ``stale`` says why and the members are those above.
    checked_at: Mapped[datetime | None]
    checked_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("segmentation_versions.id", ondelete="SET NULL")
    )
    stale: Mapped[str | None] = mapped_column(Text)


class AudienceEdit(Base):
    """A customer added to (``added``) or removed from an audience by hand; the latest decision per customer
    is kept, and every evaluation applies it."""

    __tablename__ = "audience_edits"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    added: Mapped[bool]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AudienceMember(Base):
    """A customer in an audience as last evaluated (with the hand changes since)."""

    __tablename__ = "audience_members"

    audience_id: Mapped[int] = mapped_column(
        ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )

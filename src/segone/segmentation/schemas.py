"""What the segmentation domain shares: the variables a tree may split on, the settings of a build, the
tree it grows, and the stored versions and segments as every entry point shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class VariableKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class Unknown(StrEnum):
    """Where a split sends the customers whose value of its variable is missing (docs/segmentation.md,
    "Missing values"). ``branch``: a child of their own, "unknown". ``side``: the side of the cut they
    resemble most, stated in its condition ("under 100 days or unknown"); a segment's known values may
    still be cut from its unknown ones, which then get their branch."""

    BRANCH = "branch"
    SIDE = "side"


@dataclass(frozen=True)
class Variable:
    """One per-customer column: ``name`` is its stable key (``attribute:city``, ``behaviour:recency_days``,
    ``score:clv``, ``knows:family``, ``trait:17``, ``segment:<version>``), ``label`` the product's words for
    it ("buys every … days", "growth plans"), ``source`` the domain it comes from, ``unit`` for numbers
    ("days", "purchases", "USD", "") so that conditions read "recency: 20 to under 45 days"."""

    name: str
    label: str
    kind: VariableKind
    source: str
    unit: str = ""


@dataclass(frozen=True)
class VariableInfo:
    """A variable as a page or the CLI shows it: its kind as used and as inferred, how many customers
    differ on it, how many lack it, a few example values; ``excluded`` says why it is left out (free text,
    no values, an override), ``kind`` is None then."""

    name: str
    label: str
    source: str
    unit: str
    kind: VariableKind | None
    inferred_kind: VariableKind
    distinct: int
    missing_share: float
    examples: tuple[str, ...]
    excluded: str | None = None
    overridden: bool = False


@dataclass(frozen=True)
class TreeSettings:
    """How deep a build may go. ``min_size`` 1 drills until every customer who differs from all others on
    the chosen variables is alone; ``max_segments`` K keeps the K segments that explain most (of the full
    tree's splits, those that gain most in total); ``target`` makes the tree supervised (a numeric or yes/no
    variable's name, which is then not split on); ``unknown`` says where missing values go."""

    min_size: int = 1
    max_depth: int | None = None
    target: str | None = None
    max_segments: int | None = None
    unknown: Unknown = Unknown.BRANCH


@dataclass(frozen=True)
class Condition:
    """The step from a parent to this node: ``variable`` is below/at-or-above ``threshold`` (numeric),
    one of ``levels`` (categorical and boolean, levels as text), or missing (``missing`` True and nothing
    else): missing is never imputed. With ``or_unknown`` the threshold's or levels' side also takes the
    missing values, as the condition says (``Unknown.SIDE``). A numeric condition with no threshold, no
    levels and ``missing`` False is "known": the branch beside "unknown" when a segment's known values are
    not cut."""

    variable: str
    threshold: float | None = None
    above: bool = False  # numeric: True for ">= threshold", False for "< threshold"
    levels: tuple[str, ...] = ()
    missing: bool = False
    or_unknown: bool = False


@dataclass
class Node:
    id: int  # 0 is the root; ids are given in breadth-first order, so the same tree has the same ids
    parent: int | None
    depth: int
    condition: Condition | None  # None for the root
    size: int
    children: list[int] = field(default_factory=list)
    gain: float = 0.0  # the criterion's improvement of the split that made this node's children
    identical: bool = False  # a leaf whose members are identical on every variable: they cannot be split


@dataclass(frozen=True)
class Deviation:
    """How a segment differs from a reference (the average customer, or its sibling) on one variable.
    Numeric: ``effect`` is the standardised mean difference (segment mean - reference mean) / the population's
    standard deviation, ``value`` and ``reference`` the two means, ``level`` None. Categorical and boolean:
    the level whose share differs most (missing reads "unknown"), ``effect`` = segment share - reference
    share, ``value`` and ``reference`` the two shares."""

    variable: str
    label: str
    effect: float
    value: float
    reference: float
    level: str | None = None


@dataclass(frozen=True)
class Standing:
    """Where one customer stands among a version's customers on one variable. ``share`` is how rare they
    are: the customers as far out as they are or further (their own value and beyond it, on their side of
    the middle), or those sharing their level. Numeric: ``higher`` True on the upper side, and ``than`` the
    customers they are higher than (lower than, when ``higher`` is False). Categorical and yes/no: ``value``
    is their level, ``higher`` and ``than`` None."""

    variable: str
    label: str
    value: Any
    share: float
    higher: bool | None = None
    than: float | None = None


class VersionStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class StandingOut(BaseModel):
    """``Standing`` as every entry point shows it, with its words: "spend: $1,230, higher than 97 % of
    customers", "plan: gold, like 3 % of customers"."""

    variable: str
    label: str
    value: str = Field(description="Their value in words, with its unit.")
    share: float = Field(description="How rare: the share of customers as far out as they are, or like them.")
    higher: bool | None = Field(description="Numbers: above (true) or below (false) most customers.")
    than: float | None = Field(description="Numbers: the share of customers they are higher (lower) than.")
    words: str


class VersionOut(BaseModel):
    """A stored build: its settings as asked for, the variables they resolved to, and what it found."""

    id: int
    name: str | None
    status: VersionStatus
    settings: dict[str, Any] = Field(
        description=(
            "As asked for: variables ('all' or names), exclude, target, min_size, max_depth, max_segments, "
            "unknown."
        )
    )
    variables: list[str] = Field(description="The variables the tree split on.")
    started_at: datetime
    finished_at: datetime | None
    customers: int | None
    leaves: int | None
    segments_of_one: int | None = Field(description="Leaves holding a single customer.")
    identical_leaves: int | None = Field(
        description="Leaves of several customers who are identical on every variable, so cannot be split."
    )
    alike_leaves: int | None = Field(
        default=None,
        description="Leaves of several customers who differ only within one bin of a number (a 2,000th of "
        "the customers), finer than the tree cuts, so cannot be split either.",
    )
    seconds: float | None
    fingerprint: str | None = Field(description="Equal for equal trees: same data and settings.")
    message: str | None = Field(description="Why a failed build failed.")
    created_by_id: int | None


class DeviationOut(BaseModel):
    """``Deviation`` as stored: how a segment differs from the average customer on one variable."""

    variable: str
    label: str
    effect: float
    value: float
    reference: float
    level: str | None = None


class SegmentOut(BaseModel):
    """A node of a version's tree. ``children`` are given by ``segment`` (one segment), empty in lists;
    ``deviations`` only for the upper nodes (null below them)."""

    version_id: int
    node_id: int
    parent_node_id: int | None
    depth: int
    size: int = Field(description="Customers in the segment.")
    share: float = Field(description="size / the version's customers.")
    conditions: list[str] = Field(description="From the root down, in plain words.")
    gain: float
    identical: bool
    alike: bool = Field(
        default=False, description="A leaf of customers who differ only within one bin of a number."
    )
    is_leaf: bool
    clv_sum: float | None
    clv_mean: float | None
    target_mean: float | None
    children: list[int] = Field(default_factory=list)
    deviations: list[DeviationOut] | None = None
    sibling_deviations: list[DeviationOut] | None = Field(
        default=None, description="How it differs from its sibling (the other side of its parent's cut)."
    )


class DiffSegment(BaseModel):
    """A segment at the compared depth: its node id in its own version, its conditions and size."""

    node_id: int
    conditions: list[str]
    size: int


class Move(BaseModel):
    """How many customers were in segment ``before`` of the earlier version and ``after`` of the later."""

    before: int
    after: int
    customers: int


class DiffOut(BaseModel):
    """Who moved where between two versions, at one depth of their trees (docs/segmentation.md)."""

    before: int
    after: int
    depth: int
    segments_before: list[DiffSegment]
    segments_after: list[DiffSegment]
    moves: list[Move] = Field(description="The migration matrix's non-empty cells.")
    stayed: int = Field(description="Customers in a segment of the same conditions in both versions.")
    appeared: list[int] = Field(description="Later segments whose conditions the earlier version lacks.")
    vanished: list[int] = Field(description="Earlier segments whose conditions the later version lacks.")
    split: list[int] = Field(description="Earlier segments spread over two or more later ones.")
    merged: list[int] = Field(description="Later segments gathered from two or more earlier ones.")
    new_customers: int
    gone_customers: int


class AudienceOut(BaseModel):
    """A named audience: the segment it was saved from, its conditions, and its members as last evaluated.
    ``stale`` says why the last re-evaluation could not run (a variable that no longer exists): the members
    are then those of ``evaluated_at``."""

    id: int
    name: str
    conditions: list[str] = Field(description="The saved segment's conditions from the root, in words.")
    rules: list[dict[str, Any]] = Field(
        description="The same conditions as data (variable, threshold, above, levels, missing), root first."
    )
    version_id: int | None = Field(description="The version it was saved from (null once that is gone).")
    node_id: int = Field(description="The segment it was saved from, in that version.")
    created_by_id: int | None
    created_by: str | None = Field(description="Who saved it (their e-mail); null for the operator.")
    created_at: datetime
    size: int = Field(description="Members now: those who met the conditions, plus added, less removed.")
    matched: int = Field(description="Customers who met the conditions at the last evaluation.")
    added: int = Field(description="Customers added by hand (members whatever the conditions say).")
    removed: int = Field(description="Customers removed by hand (never members).")
    evaluated_at: datetime | None
    evaluated_version_id: int | None = Field(
        description="The build after which the members were evaluated; null when saved or refreshed by hand."
    )
    checked_at: datetime | None = Field(description="The last re-evaluation, whether it could run or not.")
    checked_version_id: int | None
    stale: str | None = Field(description="Why the last re-evaluation could not run; null when current.")


class AudienceEditOut(BaseModel):
    """A customer added to or removed from an audience by hand, by whom and when (the latest decision)."""

    customer_id: int
    added: bool = Field(description="True: added by hand; false: removed by hand.")
    by_id: int | None
    by: str | None = Field(description="Who did it (their e-mail); null for the operator.")
    at: datetime


class AudienceMemberOut(BaseModel):
    """A member of an audience, and whether they are in it by a hand addition."""

    customer_id: int
    added_by_hand: bool


class AssignmentStatus(StrEnum):
    NEW = "new"  # had no membership in the version
    MOVED = "moved"  # their values now lead to another segment than their membership
    UNCHANGED = "unchanged"


class AssignmentOut(BaseModel):
    """Where a customer's values now lead in a version's tree, without a rebuild."""

    customer_id: int
    version_id: int
    node_id: int = Field(
        description="The segment their values reach: a leaf, or the segment above when no branch takes a "
        "value (a level the tree never saw there)."
    )
    is_leaf: bool
    previous_node_id: int | None = Field(description="Their membership before; null when they had none.")
    status: AssignmentStatus
    path: list[SegmentOut] = Field(
        default_factory=list, description="The segments from the root down to node_id (empty in long lists)."
    )


class AssignedOut(BaseModel):
    """What one assignment did: how many customers it placed or moved, and each customer's segment."""

    version_id: int
    assigned: int = Field(description="Customers newly placed in the version or moved to another segment.")
    customers: list[AssignmentOut]

"""What the segmentation domain shares: the variables a tree may split on, the settings of a build, and
the tree it grows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class VariableKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


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
class TreeSettings:
    """How deep a build may go. ``min_size`` 1 drills until every customer who differs from all others on
    the chosen variables is alone; ``target`` makes the tree supervised (a numeric or yes/no variable's
    name, which is then not split on)."""

    min_size: int = 1
    max_depth: int | None = None
    target: str | None = None


@dataclass(frozen=True)
class Condition:
    """The step from a parent to this node: ``variable`` is below/at-or-above ``threshold`` (numeric),
    one of ``levels`` (categorical and boolean, levels as text), or missing (``missing`` True and nothing
    else): missing is always a branch of its own, never imputed. A numeric condition with no threshold, no
    levels and ``missing`` False is "known": the branch beside "unknown" when a segment's known values are
    not cut."""

    variable: str
    threshold: float | None = None
    above: bool = False  # numeric: True for ">= threshold", False for "< threshold"
    levels: tuple[str, ...] = ()
    missing: bool = False


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

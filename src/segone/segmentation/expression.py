"""A stored version's tree as one Ibis expression: each row's node by nested ``CASE`` (docs/segmentation.md,
"Assignment"), so that the analytics engine (DuckDB, Spark, a warehouse) assigns its own rows without
sending them to Python.

``CASE WHEN <child 1's rule> THEN <child 1's CASE> WHEN <child 2's rule> THEN ... ELSE <node> END`` from the
root down: a row no child's rule takes (a level never seen at that node) stays at the node, as in
``assignment.assign``. ``max_depth`` stops at that depth (the root is 0), for trees too large to send whole
(a million segments of one). ``node_expression`` is that expression on the table's columns as they are;
``assign_table`` adds it as ``segment_id`` after reading each value once in a projection below it, so that
each condition is one comparison (the form for large tables: the engine plans and runs it several times
faster).

The table has one column per split variable, named by ``column_name`` (``attribute:plan`` is
``attribute__plan``, ``knows:growth plans`` is ``knows__growth_plans``): names every SQL engine takes
without quoting; ``columns`` maps a variable to another column. Numbers: ``x < t`` / ``x >= t``, null (and
NaN) is missing. Categories: ``isin(levels)`` on the text, null or empty text is missing. Yes/no: a boolean
column, or text read as ``assignment`` reads it (true/yes/1/y/t, false/no/0/n/f, any case), or 0/1.

Ibis is imported here only: nothing else of segmentation needs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import ibis
import ibis.expr.types as ir

from segone.errors import Invalid
from segone.importing.yes_no import NO, YES
from segone.segmentation.assignment import StoredTree
from segone.segmentation.schemas import Condition, VariableKind

_NOT_A_WORD = re.compile(r"[^0-9A-Za-z_]+")


def column_name(variable: str) -> str:
    """The column a variable is read from: its source, two underscores, then its key with every run of
    characters other than letters, digits and ``_`` as one ``_`` (``behaviour:recency_days`` is
    ``behaviour__recency_days``, ``trait:17`` is ``trait__17``; a name without a source is only cleaned)."""
    source, colon, key = variable.partition(":")
    if not colon:
        return _NOT_A_WORD.sub("_", variable)
    return f"{source}__{_NOT_A_WORD.sub('_', key)}"


def column_names(variables: Sequence[str], columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each variable's column (``columns`` first, else ``column_name``); two variables that would share a
    column, also in another case (Spark compares names without case), are refused."""
    chosen = {name: (columns or {}).get(name) or column_name(name) for name in variables}
    seen: dict[str, str] = {}
    for name, column in chosen.items():
        other = seen.setdefault(column.lower(), name)
        if other != name:
            raise Invalid(
                f"{other} and {name} would both be read from the column {column}: "
                "name another column for one of them"
            )
    return chosen


def node_expression(
    tree: StoredTree,
    table: ir.Table,
    *,
    max_depth: int | None = None,
    columns: Mapping[str, str] | None = None,
) -> ir.IntegerValue:
    """Each row's node in ``tree``: its leaf, the deepest node no child of which takes it, or its node at
    ``max_depth``; on ``table``'s columns as they are (each condition reads NaN, empty text and yes/no text
    itself: ``assign_table`` reads each value once, for large trees)."""
    names = _columns(tree, table, columns)
    kinds = {v.name: v.kind for v in tree.variables}
    return _case(tree, {name: table[column] for name, column in names.items()}, kinds, _meets, max_depth)


def assign_table(
    tree: StoredTree,
    table: ir.Table,
    *,
    max_depth: int | None = None,
    columns: Mapping[str, str] | None = None,
    name: str = "segment_id",
) -> ir.Table:
    """``table`` with a column ``name``: each row's node, as ``node_expression`` gives it. Each variable's
    value is read once, in a projection below the ``CASE`` (NaN and empty text to null, yes/no to 1/0),
    so that each condition is a single comparison: a tree of thousands of segments stays a query that
    an engine plans in a second or so."""
    names = _columns(tree, table, columns)
    kinds = {v.name: v.kind for v in tree.variables}
    hidden = {variable: f"_segone_{i}" for i, variable in enumerate(names)}
    prepared = table.mutate(
        **{hidden[v]: _normalised(table[column], kinds[v]) for v, column in names.items()}
    )
    values = {v: prepared[column] for v, column in hidden.items()}
    node = _case(tree, values, kinds, _meets_normalised, max_depth)
    return prepared.select(*table.columns, **{name: node})


def _columns(tree: StoredTree, table: ir.Table, columns: Mapping[str, str] | None) -> dict[str, str]:
    names = column_names([v.name for v in tree.variables], columns)
    absent = sorted(column for column in names.values() if column not in table.columns)
    if absent:
        raise Invalid(f"the table lacks the columns {', '.join(absent)} (one per variable of the tree)")
    return names


Meets = Callable[[ir.Column, Condition, VariableKind], ir.BooleanValue]


def _case(
    tree: StoredTree,
    values: Mapping[str, ir.Column],
    kinds: Mapping[str, VariableKind],
    meets: Meets,
    max_depth: int | None,
) -> ir.IntegerValue:
    if max_depth is not None and max_depth < 0:
        raise Invalid("max_depth must be 0 or more")
    children: dict[int, list[int]] = {}
    for node in range(1, tree.n_nodes):
        if tree.parent[node] >= 0:
            children.setdefault(int(tree.parent[node]), []).append(node)

    def case(node: int) -> ir.IntegerValue:
        here = ibis.literal(node, type="int64")
        kids = children.get(node, [])
        if not kids or (max_depth is not None and int(tree.depth[node]) >= max_depth):
            return here
        branches = []
        for child in kids:
            condition = tree.conditions[child]
            assert condition is not None  # every node but the root has one
            variable = condition.variable
            branches.append((meets(values[variable], condition, kinds[variable]), case(child)))
        found: ir.IntegerValue = ibis.cases(*branches, else_=here)
        return found

    return case(0)


def _meets(column: ir.Column, condition: Condition, kind: VariableKind) -> ir.BooleanValue:
    """Whether a row's value meets the condition; null and NaN meet only "unknown"."""
    if kind is VariableKind.NUMERIC:
        return _number(column, condition)
    if kind is VariableKind.BOOLEAN:
        return _yes_no(column, condition)
    return _category(column, condition)


def _number(column: ir.Column, condition: Condition) -> ir.BooleanValue:
    missing = column.isnull()
    if column.type().is_floating():
        missing |= column.isnan()
    if condition.missing:
        return missing
    known = ~missing
    if condition.threshold is None:
        return known
    met = column >= condition.threshold if condition.above else column < condition.threshold
    return (known & met) | missing if condition.or_unknown else known & met


def _category(column: ir.Column, condition: Condition) -> ir.BooleanValue:
    text = column if column.type().is_string() else column.cast("string")
    missing = text.isnull() | (text == "")
    if condition.missing:
        return missing
    if not condition.levels:
        return ~missing
    met = text.isin(list(condition.levels))
    return met | missing if condition.or_unknown else met


def _yes_no(column: ir.Column, condition: Condition) -> ir.BooleanValue:
    if condition.missing:
        return _yes_no_code(column).isnull()
    wanted = set(condition.levels) or {"yes", "no"}
    code = _yes_no_code(column)
    met = code >= 0 if wanted >= {"yes", "no"} else code == (1 if "yes" in wanted else 0)
    return met | code.isnull() if condition.or_unknown else met


def _yes_no_code(column: ir.Column) -> ir.IntegerValue:
    """1 for yes, 0 for no, null for missing and -1 for a value that is neither (which no branch takes)."""
    dtype = column.type()
    if dtype.is_boolean():
        return column.cast("int8")
    if dtype.is_numeric():
        return ibis.cases((column == 1, 1), (column == 0, 0), (column.isnull(), None), else_=-1).cast("int8")
    text = column.cast("string").strip().lower()
    return ibis.cases(
        (text.isin(sorted(YES)), 1),
        (text.isin(sorted(NO)), 0),
        (text.isnull() | (text == ""), None),
        else_=-1,
    ).cast("int8")


def _normalised(column: ir.Column, kind: VariableKind) -> ir.Column:
    """The value each condition of ``_meets_normalised`` compares: numbers with NaN as null, text with empty
    text as null, yes/no as ``_yes_no_code``."""
    if kind is VariableKind.BOOLEAN:
        return _yes_no_code(column)
    if kind is VariableKind.NUMERIC:
        if column.type().is_floating():
            return ibis.ifelse(column.isnan(), ibis.null(column.type()), column)
        return column
    text = column if column.type().is_string() else column.cast("string")
    return text.nullif("")


def _meets_normalised(value: ir.Column, condition: Condition, kind: VariableKind) -> ir.BooleanValue:
    if condition.missing:
        return value.isnull()
    met = _known_meets(value, condition, kind)
    return met | value.isnull() if condition.or_unknown else met


def _known_meets(value: ir.Column, condition: Condition, kind: VariableKind) -> ir.BooleanValue:
    if kind is VariableKind.NUMERIC:
        if condition.threshold is None:
            return value.notnull()
        return value >= condition.threshold if condition.above else value < condition.threshold
    if kind is VariableKind.BOOLEAN:
        wanted = set(condition.levels) or {"yes", "no"}
        return value >= 0 if wanted >= {"yes", "no"} else value == (1 if "yes" in wanted else 0)
    return value.isin(list(condition.levels)) if condition.levels else value.notnull()

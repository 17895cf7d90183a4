"""Segmentation assignment: a million customers placed in an existing version's tree, without a rebuild.

    .venv/bin/python benchmarks/segmentation_assign.py [--rows 1000000] [--min-size 100] [--max-depth 8]
        [--case-depth D] [--repeat 3]

Data: the synthetic customers of ``benchmarks/segmentation.py`` (12 hidden groups, 25 numeric, 10
categorical and 5 yes/no variables, 5 % missing at random). A tree is grown on them with ``--min-size`` and
``--max-depth`` (not timed here: benchmarks/segmentation.py times builds) and kept as a build stores it:
each segment's rule as JSON (``rules.to_json``). From those rules alone, measured (the median of
``--repeat`` runs):

- reading the stored rules into a tree (``assignment.stored_tree``);
- numpy: ``assignment.assign`` of every customer's values (as ``gather`` reads them);
- DuckDB (in memory, the customers' values already a table in it, as ``segone.connect().segment_values()``
  leaves them): ``expression.assign_table`` (one nested ``CASE``; ``--case-depth`` stops it at a depth)
  and running it to an Arrow table of ``customer_id`` and ``segment_id``: the Ibis expression's building,
  its compilation to SQL, DuckDB's run of that SQL alone, and the whole (building, compiling, running).

Both placements are checked against the build's own (the tree's ``leaf_of``, or its node at the depth).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from common import machine

from segmentation import synthetic
from segone.analytics.backend import to_arrow
from segone.segmentation import assignment, expression, rules
from segone.segmentation.schemas import TreeSettings, VariableKind
from segone.segmentation.tree import Tree, build_tree


def stored_rules(tree: Tree) -> list[assignment.SegmentRule]:
    """The tree as a build stores it: each node's parent and its own rule, through JSON."""
    return [
        assignment.SegmentRule(
            node,
            None if node == 0 else int(tree.parent[node]),
            None if node == 0 else json.loads(json.dumps(rules.to_json(tree.condition(node)))),
        )
        for node in range(tree.n_nodes)
    ]


def as_gathered(columns: dict[str, Any], kinds: dict[str, VariableKind]) -> pa.Table:
    """The customers' values as ``gather`` reads them: numbers as float64, text, yes/no as bool; nulls."""
    arrays: dict[str, pa.Array] = {"customer_id": pa.array(np.arange(1, len(columns["n0"]) + 1))}
    for name, kind in kinds.items():
        values = columns[name]
        if kind is VariableKind.NUMERIC:
            arrays[name] = pa.array(values, pa.float64(), from_pandas=True)
        elif kind is VariableKind.BOOLEAN:
            arrays[name] = pa.array(values == 1, pa.bool_(), mask=np.isnan(values))
        else:
            arrays[name] = pa.array(values.tolist(), pa.string())
    return pa.table(arrays)


def timed(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The median time of ``repeat`` runs of ``work``, and what the last one returned."""
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def _depth(text: str) -> int | None:
    return None if text.lower() == "none" else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--min-size", type=int, default=100)
    parser.add_argument("--max-depth", type=_depth, default=8, help="a number, or 'none'")
    parser.add_argument("--case-depth", type=int, default=None, help="stop the nested CASE at this depth")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print(f"DuckDB {ibis.duckdb.connect().version}, Ibis {ibis.__version__}")

    columns, variables = synthetic(args.rows)
    variables = [v for v in variables if v.name != "clv"]
    started = time.perf_counter()
    tree = build_tree(columns, variables, TreeSettings(min_size=args.min_size, max_depth=args.max_depth))
    built = time.perf_counter() - started
    print(
        f"{args.rows:,} customers x {len(variables)} variables; tree --min-size {args.min_size} "
        f"--max-depth {args.max_depth or 'none'}: {tree.n_nodes:,} segments, {tree.leaves.size:,} leaves, "
        f"depth {int(tree.depth.max())} (built in {built:.1f} s, not part of the figures)"
    )
    kinds = {v.name: v.kind for v in variables}
    segments = stored_rules(tree)
    read_seconds, stored = timed(args.repeat, lambda: assignment.stored_tree(segments, kinds))
    wanted = tree.leaf_of
    if args.case_depth is not None:
        wanted = assignment.assign(stored, columns, max_depth=args.case_depth)
    rows: list[tuple[str, float]] = [("reading the stored rules into a tree", read_seconds)]

    numpy_seconds, placed = timed(
        args.repeat, lambda: assignment.assign(stored, columns, max_depth=args.case_depth)
    )
    assert np.array_equal(placed, wanted), "numpy's placement differs from the build's"
    rows.append(("numpy: assignment.assign", numpy_seconds))

    con = ibis.duckdb.connect()
    values = as_gathered(columns, {name: kinds[name] for name in sorted({v.name for v in stored.variables})})
    table = con.create_table("customers_now", values)

    def query() -> ibis.Table:
        found = expression.assign_table(stored, table, max_depth=args.case_depth)
        return found.select("customer_id", "segment_id")

    build_seconds, found = timed(args.repeat, query)
    compile_seconds, sql = timed(args.repeat, lambda: con.compile(found))
    run_seconds, _ = timed(args.repeat, lambda: con.con.sql(sql).to_arrow_reader(1_000_000).read_all())
    whole_seconds, result = timed(args.repeat, lambda: to_arrow(query()))
    by_engine = result.sort_by("customer_id")["segment_id"].to_numpy()
    assert np.array_equal(by_engine, wanted), "DuckDB's placement differs from the build's"
    depth = "" if args.case_depth is None else f" to depth {args.case_depth}"
    rows.append((f"DuckDB: building the Ibis expression{depth}", build_seconds))
    rows.append((f"DuckDB: compiling it to SQL ({len(sql) / 1e6:.1f} MB)", compile_seconds))
    rows.append(("DuckDB: running the compiled SQL alone (plan, run, fetch)", run_seconds))
    rows.append(("DuckDB: the whole (build, compile, run, fetch to Arrow)", whole_seconds))

    print(f"\n| step ({args.rows:,} customers) | time |\n| --- | ---: |")
    for step, seconds in rows:
        print(f"| {step} | {seconds:.2f} s |")


if __name__ == "__main__":
    main()

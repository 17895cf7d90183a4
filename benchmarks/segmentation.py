"""Segmentation: segone's tree on a million customers by 40 variables, against scikit-learn.

    .venv/bin/python benchmarks/segmentation.py [--rows 1000000] [--depths 6,10] [--skip-sklearn]
        [--missing 0.05]

Data: synthetic customers (seeded numpy) from 12 hidden groups: 25 numeric variables (normal, gamma and
count-like, rounded as real data is), 10 categorical (3 to 12 levels) and 5 yes/no, each with 5 % missing at
random (``--missing``), and a numeric target ``clv`` (from some of the variables, the group and noise).

Each measurement runs in a fresh child process that generates the data itself, so its peak RSS
(``ru_maxrss``) is its own; the data alone is reported as a baseline. Measured:

- segone, unsupervised, ``--min-size 1`` and ``--min-size 10``: time, peak RSS, leaves, segments of one,
  identical customers;
- unsupervised quality at equal leaf count K: segone with ``--min-size 10 --max-depth D`` (level by level; K
  is its number of leaves) and with ``--min-size 10 --max-segments K`` (best first) against
  ``BisectingKMeans(n_clusters=K)`` on the same standardised variables (numbers as z-scores with missing at
  0, each categorical one-hot with missing as a level, scaled to a total dispersion of 1): within-segment
  sum of squares (lower is better; the ratio segone / k-means);
- both again with ``--unknown side`` (missing values join the side of a cut they resemble, as the peers
  route them, instead of a segment of their own), best first at the same K;
- supervised (target ``clv``, ``--min-size 10``): the same two segone trees against
  ``DecisionTreeRegressor(min_samples_leaf=10, max_leaf_nodes=K)`` on one-hot encoded variables (NaN kept
  for the tree's own missing handling): time, peak RSS, within-leaf sum of squares of the target (lower is
  better).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from common import machine

from segone.segmentation.schemas import TreeSettings, Unknown, Variable, VariableKind
from segone.segmentation.tree import build_tree

GROUPS = 12
NUMERIC, CATEGORICAL, BOOLEAN = 25, 10, 5
MISSING = 0.05

Columns = dict[str, npt.NDArray[Any]]


def synthetic(rows: int, seed: int = 2026, missing: float = MISSING) -> tuple[Columns, list[Variable]]:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, GROUPS, rows)
    columns: Columns = {}
    variables: list[Variable] = []
    for i in range(NUMERIC):
        centres = rng.normal(0, 1.5, GROUPS)
        if i % 3 == 0:
            values = centres[group] + rng.normal(0, 1, rows)
        elif i % 3 == 1:
            values = np.round(rng.gamma(2.0, 10.0 * np.exp(centres[group] / 3)), 1)
        else:
            values = rng.poisson(np.exp(1 + centres[group] / 2)).astype(np.float64)
        values[rng.random(rows) < missing] = np.nan
        columns[f"n{i}"] = values
        variables.append(Variable(f"n{i}", f"number {i}", VariableKind.NUMERIC, "bench"))
    for i in range(CATEGORICAL):
        levels = np.array([f"level {chr(97 + index)}" for index in range(3 + i)], dtype=object)
        preference = rng.dirichlet(np.ones(levels.size) * 0.7, GROUPS)
        cumulative = preference.cumsum(axis=1)[group]
        chosen = (rng.random(rows)[:, None] > cumulative).sum(axis=1).clip(0, levels.size - 1)
        values = levels[chosen]
        values[rng.random(rows) < missing] = None
        columns[f"c{i}"] = values
        variables.append(Variable(f"c{i}", f"category {i}", VariableKind.CATEGORICAL, "bench"))
    for i in range(BOOLEAN):
        rate = rng.uniform(0.1, 0.9, GROUPS)
        yes = (rng.random(rows) < rate[group]).astype(np.float64)
        yes[rng.random(rows) < missing] = np.nan
        columns[f"b{i}"] = yes
        variables.append(Variable(f"b{i}", f"flag {i}", VariableKind.BOOLEAN, "bench"))
    base = rng.gamma(2.0, 50.0, GROUPS)
    clv = (
        base[group]
        + 20 * np.nan_to_num(columns["n0"])
        + 3 * np.nan_to_num(columns["n4"])
        + rng.normal(0, 30, rows)
    )
    columns["clv"] = clv
    variables.append(Variable("clv", "customer lifetime value", VariableKind.NUMERIC, "bench", "USD"))
    return columns, variables


def standardised(columns: Columns, variables: list[Variable]) -> npt.NDArray[np.float32]:
    """The dispersion space both methods are judged in (docs/segmentation.md)."""
    parts: list[npt.NDArray[np.float64]] = []
    for v in variables:
        if v.name == "clv":
            continue
        values = columns[v.name]
        if v.kind is VariableKind.NUMERIC:
            known = ~np.isnan(values)
            z = np.zeros(values.size)
            z[known] = (values[known] - values[known].mean()) / values[known].std()
            parts.append(z[:, None])
            continue
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        codes = np.where(codes < 0, len(distinct), codes)  # missing is a level of its own
        width = len(distinct) + 1
        shares = np.bincount(codes, minlength=width) / values.size
        gini = float(np.sum(shares * (1 - shares)))
        onehot = np.zeros((values.size, width))
        onehot[np.arange(values.size), codes] = 1.0 / np.sqrt(gini) if gini > 0 else 0.0
        parts.append(onehot)
    return np.hstack(parts).astype(np.float32)


def within(labels: npt.NDArray[np.int64], matrix: npt.NDArray[Any]) -> float:
    """The within-segment sum of squared deviations, summed over the columns of ``matrix``."""
    _, index = np.unique(labels, return_inverse=True)
    counts = np.bincount(index).astype(np.float64)
    total = 0.0
    for column in range(matrix.shape[1]):
        values = matrix[:, column].astype(np.float64)
        sums = np.bincount(index, values)
        total += float(values @ values - np.sum(sums * sums / counts))
    return total


@dataclass(frozen=True)
class Data:
    rows: int
    missing: float = MISSING


def measure(data: Data, task: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run ``task`` in a fresh process (spawned, so its peak memory is its own) and return its figures."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        result: dict[str, Any] = pool.apply(_child, (data, task, arguments))
    return result


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(data: Data, task: str, arguments: dict[str, Any]) -> dict[str, Any]:
    columns, variables = synthetic(data.rows, missing=data.missing)
    baseline = _peak_mib()
    tasks: dict[str, Callable[[Columns, list[Variable], dict[str, Any]], dict[str, Any]]] = {
        "segone": _segone,
        "kmeans": _kmeans,
        "sklearn_tree": _sklearn_tree,
        "data": lambda c, v, a: {},
    }
    started = time.perf_counter()
    result = tasks[task](columns, variables, arguments)
    result.setdefault("seconds", time.perf_counter() - started)
    result["peak_mib"] = _peak_mib()
    result["data_mib"] = baseline
    return result


def _segone(columns: Columns, variables: list[Variable], arguments: dict[str, Any]) -> dict[str, Any]:
    target = arguments.get("target")
    chosen = variables if target else [v for v in variables if v.name != "clv"]
    settings = TreeSettings(
        min_size=arguments["min_size"],
        max_depth=arguments.get("max_depth"),
        target=target,
        max_segments=arguments.get("max_segments"),
        unknown=Unknown(arguments.get("unknown", Unknown.BRANCH)),
    )
    started = time.perf_counter()
    tree = build_tree(columns, chosen, settings)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        "leaves": int(tree.leaves.size),
        "segments_of_one": tree.segments_of_one,
        "identical_leaves": tree.identical_leaves,
        "identical_customers": tree.customers_in_identical_leaves,
        "depth": int(tree.depth.max()),
        "explained": tree.explained,
        "fingerprint": tree.fingerprint(),
    }
    if arguments.get("quality"):
        if target:
            result["within"] = within(tree.leaf_of, columns[target][:, None])
        else:
            result["within"] = within(tree.leaf_of, standardised(columns, variables))
    return result


def _kmeans(columns: Columns, variables: list[Variable], arguments: dict[str, Any]) -> dict[str, Any]:
    from sklearn.cluster import BisectingKMeans

    matrix = standardised(columns, variables)
    started = time.perf_counter()
    labels = BisectingKMeans(n_clusters=arguments["leaves"], random_state=0).fit_predict(matrix)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "leaves": int(np.unique(labels).size), "within": within(labels, matrix)}


def _sklearn_tree(columns: Columns, variables: list[Variable], arguments: dict[str, Any]) -> dict[str, Any]:
    from sklearn.tree import DecisionTreeRegressor

    frame = pd.DataFrame({v.name: columns[v.name] for v in variables if v.name != "clv"})
    categorical = [v.name for v in variables if v.kind is not VariableKind.NUMERIC]
    encoded = pd.get_dummies(frame, columns=categorical, dummy_na=True, dtype=np.float32)
    matrix = encoded.to_numpy(dtype=np.float32)
    started = time.perf_counter()
    model = DecisionTreeRegressor(
        min_samples_leaf=arguments["min_size"],
        max_leaf_nodes=arguments.get("leaves"),
        max_depth=arguments.get("max_depth"),
        random_state=0,
    )
    model.fit(matrix, columns["clv"])
    seconds = time.perf_counter() - started
    leaves = model.apply(matrix)
    return {
        "seconds": seconds,
        "leaves": int(np.unique(leaves).size),
        "within": within(leaves.astype(np.int64), columns["clv"][:, None]),
        "columns": matrix.shape[1],
    }


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def header(*names: str) -> None:
    print(row(*names))
    print(row(*["---"] * len(names)))


def mib(result: dict[str, Any]) -> str:
    return f"{result['peak_mib']:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--depths", default="6,10", help="tree depths of the equal-leaf-count comparisons")
    parser.add_argument("--missing", type=float, default=MISSING, help="share missing of every variable")
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--skip-min-size-1", action="store_true")
    args = parser.parse_args()
    depths = [int(d) for d in args.depths.split(",")]
    data = Data(args.rows, args.missing)
    print(machine())
    kinds = f"{NUMERIC} numeric, {CATEGORICAL} categorical, {BOOLEAN} yes/no"
    print(f"{args.rows:,} customers x 40 variables ({kinds}), {args.missing:.0%} missing")
    alone = measure(data, "data", {})
    print(f"data alone: peak RSS {alone['peak_mib']:,.0f} MiB\n")

    header("run", "time", "peak RSS", "leaves", "segments of one", "identical leaves (customers)", "depth")
    fingerprints = []
    for min_size in (1, 10):
        if min_size == 1 and args.skip_min_size_1:
            continue
        r = measure(data, "segone", {"min_size": min_size})
        identical = f"{r['identical_leaves']:,} ({r['identical_customers']:,})"
        print(
            row(
                f"segone, --min-size {min_size}", f"{r['seconds']:.1f} s", mib(r), f"{r['leaves']:,}",
                f"{r['segments_of_one']:,}", identical, r["depth"],
            )
        )  # fmt: skip
        fingerprints.append(f"--min-size {min_size} {r['fingerprint'][:16]}")
    # The same tree gives the same fingerprint: a change meant to be faster only must keep it.
    print(f"\nfingerprints: {', '.join(fingerprints)}")
    if args.skip_sklearn:
        return
    unsupervised(data, depths)
    supervised(data, depths)


def unsupervised(data: Data, depths: list[int]) -> None:
    print("\nUnsupervised, equal leaf count K: within-segment sum of squares over the standardised variables")
    header("depth D", "K", "level by level (--max-depth D): time, SS",
           "best first (--max-segments K): time, RSS", "best-first SS", "k-means time", "k-means RSS",
           "k-means SS", "SS ratio level by level", "SS ratio best first",
           "--unknown side, best first: time, SS ratio")  # fmt: skip
    for depth in depths:
        s = measure(data, "segone", {"min_size": 10, "max_depth": depth, "quality": True})
        b = measure(data, "segone", {"min_size": 10, "max_segments": s["leaves"], "quality": True})
        side = measure(
            data, "segone", {"min_size": 10, "max_segments": s["leaves"], "quality": True, "unknown": "side"}
        )
        k = measure(data, "kmeans", {"leaves": s["leaves"]})
        print(
            row(
                depth, f"{s['leaves']:,}", f"{s['seconds']:.1f} s, {s['within']:,.0f}",
                f"{b['seconds']:.1f} s, {mib(b)}", f"{b['within']:,.0f}",
                f"{k['seconds']:.1f} s", mib(k), f"{k['within']:,.0f}", f"{s['within'] / k['within']:.3f}",
                f"**{b['within'] / k['within']:.3f}**",
                f"{side['seconds']:.1f} s, **{side['within'] / k['within']:.3f}**",
            )
        )  # fmt: skip


def supervised(data: Data, depths: list[int]) -> None:
    print("\nSupervised (target clv, --min-size 10): within-leaf sum of squares of the target")
    header("depth D", "K", "level by level (--max-depth D): time, SS",
           "best first (--max-segments K): time, RSS", "best-first SS", "tree time", "tree RSS",
           "tree SS (max_leaf_nodes K)", "time ratio best first", "SS ratio level by level",
           "SS ratio best first", "tree at depth D: leaves, SS",
           "--unknown side, best first: time, SS, time ratio, SS ratio")  # fmt: skip
    for depth in [*depths, None]:
        s = measure(data, "segone", {"min_size": 10, "max_depth": depth, "target": "clv", "quality": True})
        if depth is None:
            b = s  # the whole tree: K is all of its leaves, nothing to choose
        else:
            b = measure(
                data,
                "segone",
                {"min_size": 10, "max_segments": s["leaves"], "target": "clv", "quality": True},
            )
        side = measure(
            data,
            "segone",
            {
                "min_size": 10,
                "max_segments": s["leaves"],
                "target": "clv",
                "quality": True,
                "unknown": "side",
            },
        )
        t = measure(data, "sklearn_tree", {"min_size": 10, "leaves": s["leaves"]})
        same = measure(data, "sklearn_tree", {"min_size": 10, "max_depth": depth}) if depth else t
        print(
            row(
                depth or "unlimited", f"{s['leaves']:,}", f"{s['seconds']:.1f} s, {s['within']:,.0f}",
                f"{b['seconds']:.1f} s, {mib(b)}", f"{b['within']:,.0f}",
                f"{t['seconds']:.1f} s", mib(t), f"{t['within']:,.0f}", f"{b['seconds'] / t['seconds']:.2f}",
                f"{s['within'] / t['within']:.3f}", f"**{b['within'] / t['within']:.3f}**",
                f"{same['leaves']:,}, {same['within']:,.0f}",
                f"{side['seconds']:.1f} s, {side['within']:,.0f}, {side['seconds'] / t['seconds']:.2f}, "
                f"**{side['within'] / t['within']:.3f}**",
            )
        )  # fmt: skip


if __name__ == "__main__":
    main()

"""Trait grouping: quality on the labelled paraphrases, and speed on a million statements.

    .venv/bin/python benchmarks/grouping_quality.py [--statements 1000000] [--specific]
        [--skip-speed] [--skip-quality]

Quality: ``group_statements`` on ``src/segone/knowledge/distinguishability/data/paraphrases.csv``
(hand-labelled groups of statements that say the same thing, with near-misses in separate groups)
at several thresholds; precision
and recall of "same trait" pairs (of the pairs put together, the share that belong together; of the pairs
that belong together, the share put together). TF-IDF always; sentence embeddings when the optional
``embeddings`` extra is installed.

Speed: ``group_statements`` (TF-IDF, default threshold) on synthetic differentiators shaped like the demo's:
shared facts drawn by their share, many of them reworded (case, punctuation, or a paraphrase from the
labelled set), and unique facts from the demo's generators. Time and peak memory of the call are printed.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from common import machine

from segone.demo import content
from segone.knowledge.distinguishability import grouping

PARAPHRASES = (
    Path(__file__).resolve().parents[1] / "src/segone/knowledge/distinguishability/data/paraphrases.csv"
)
TFIDF_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
EMBEDDING_THRESHOLDS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def labelled() -> tuple[list[str], list[str], list[str]]:
    with PARAPHRASES.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["statement"] for r in rows], [r["category"] for r in rows], [r["group"] for r in rows]


def quality() -> None:
    texts, categories, groups = labelled()
    print(f"labelled set: {len(texts)} statements in {len(set(groups))} groups ({PARAPHRASES.name})")
    methods = [("tfidf", TFIDF_THRESHOLDS, grouping.DEFAULT_THRESHOLD)]
    if grouping.embeddings_available():
        methods.append(("embeddings", EMBEDDING_THRESHOLDS, grouping.DEFAULT_EMBEDDINGS_THRESHOLD))
    else:
        print("embeddings: not installed (pip install -e '.[embeddings]'); TF-IDF only")
    print("| method | threshold | precision | recall | F1 | traits |")
    print("| --- | --- | --- | --- | --- | --- |")
    for method, thresholds, default in methods:
        for threshold in thresholds:
            labels = grouping.group_statements(texts, categories, threshold=threshold, method=method)
            p, r = grouping.pair_quality(groups, labels)
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            mark = " (default)" if threshold == default else ""
            print(
                f"| {method} | {threshold}{mark} | {p:.3f} | {r:.3f} | {f1:.3f} | {int(labels.max()) + 1} |"
            )


def _variants() -> dict[str, list[str]]:
    """Other wordings of a shared fact: the labelled set's group that contains the demo's text."""
    texts, _, groups = labelled()
    by_group: dict[str, list[str]] = defaultdict(list)
    for text, group in zip(texts, groups, strict=True):
        by_group[group].append(text)
    out = {}
    for fact in content.SHARED_FACTS:
        for members in by_group.values():
            if fact.text in members:
                out[fact.text] = [m for m in members if m != fact.text]
    return out


def synthetic(n: int, seed: int = 7, specific: bool = False) -> tuple[list[str], list[str]]:
    """``n`` differentiators shaped like the demo's: about 45% shared facts (a third of them reworded),
    the rest unique facts from the demo's generators, for people and businesses (3:1). ``specific`` adds
    who said it to each unique fact ("...; Sanjay's words"), so that nearly all of them are distinct."""
    rng = random.Random(seed)
    variants = _variants()
    shared = {
        kind: [f for f in content.SHARED_FACTS if f.kind in (kind, content.BOTH)]
        for kind in (content.PERSON, content.BUSINESS)
    }
    weights = {kind: [f.share for f in facts] for kind, facts in shared.items()}
    sites = [i.site for i in content.INDUSTRIES]
    texts: list[str] = []
    categories: list[str] = []
    for _ in range(n):
        kind = content.PERSON if rng.random() < 0.75 else content.BUSINESS
        if rng.random() < 0.45:
            fact = rng.choices(shared[kind], weights[kind])[0]
            text, roll = fact.text, rng.random()
            if roll < 0.12:
                text = text.lower().rstrip(".")
            elif roll < 0.2:
                text = text.upper() if rng.random() < 0.2 else text + "."
            elif roll < 0.33 and variants.get(fact.text):
                text = rng.choice(variants[fact.text])
            texts.append(text)
            categories.append(fact.category)
        else:
            generators = content.PERSON_UNIQUE if kind == content.PERSON else content.BUSINESS_UNIQUE
            category, make = rng.choice(generators)
            context = content.Context(rng.choice(content.TOWNS), rng.choice(sites))
            text = make(rng, context)
            if specific:
                text += f"; {rng.choice(content.FIRST_NAMES)}'s words, {rng.choice(content.MONTHS)}"
            texts.append(text)
            categories.append(category)
    return texts, categories


def speed(n: int, specific: bool) -> None:
    started = time.perf_counter()
    texts, categories = synthetic(n, specific=specific)
    made = time.perf_counter() - started
    distinct = len({(c, grouping.normalise(t)) for t, c in zip(texts, categories, strict=True)})
    per_category: dict[str, int] = defaultdict(int)
    for c, _ in {(c, grouping.normalise(t)) for t, c in zip(texts, categories, strict=True)}:
        per_category[c] += 1
    print(
        f"synthetic: {n:,} statements ({made:.1f} s to make), {distinct:,} distinct after normalising, "
        f"largest category {max(per_category.values()):,} distinct"
    )
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    labels = grouping.group_statements(texts, categories)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sizes = np.bincount(labels)
    print(
        f"group_statements (tfidf, threshold {grouping.DEFAULT_THRESHOLD}): {elapsed:.1f} s; "
        f"{len(sizes):,} traits, largest {int(sizes.max()):,} statements; "
        f"peak RSS {peak / 1024:,.0f} MiB (before the call {before / 1024:,.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument(
        "--specific", action="store_true", help="make nearly every unique fact distinct (a harder case)"
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    if not args.skip_quality:
        quality()
    if not args.skip_speed:
        speed(args.statements, args.specific)


if __name__ == "__main__":
    main()

"""``segone offers evaluate``: how well the offers foretell what customers go on to buy.

The last ``holdout_days`` of purchases are hidden: everything up to the cutoff (the latest purchase naming
an offering, less ``holdout_days``) is what the models learn from, with the facts that were current at
the cutoff. Each customer who took, in the holdout, an offering they could be offered at the cutoff (the
same rules: active, not bought before unless repeatable, eligible) is a test case when we knew something
of them at the cutoff (a purchase or a fact); the offerings they took are the relevant ones. The blend's
top ``k`` and the popularity baseline's top ``k`` (the most bought offerings the customer may be offered)
are scored the same way:

- precision@k: relevant offers among the ``k``, over ``k``;
- recall@k: relevant offers among the ``k``, over the relevant offerings;
- MAP@k: the mean of the average precision at ``k``, ``sum(P@i * rel_i for i <= k) / min(relevant, k)``;
- coverage: the share of the active offerings offered to at least one test customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.errors import Invalid
from segone.personalisation import reading
from segone.personalisation.matching import BATCH, Blend, Matcher, blend_of
from segone.personalisation.schemas import EvaluationOut, MethodFigures
from segone.progress import Progress, silent
from segone.settings import Settings
from segone.storage.engine import session_scope

MAX_K = 100


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float
    map: float
    coverage: float


def figures(
    recommended: Sequence[Sequence[int]], relevant: Sequence[set[int]], *, k: int, catalogue: int
) -> Figures:
    """Mean precision@k, recall@k and MAP@k over the test customers (``recommended[c]`` best first,
    ``relevant[c]`` not empty), and the coverage of a catalogue of ``catalogue`` offerings."""
    if len(recommended) != len(relevant):
        raise ValueError("one list of offers per set of relevant offerings")
    precision = recall = average = 0.0
    offered: set[int] = set()
    for offers, wanted in zip(recommended, relevant, strict=True):
        top = list(offers)[:k]
        offered.update(top)
        hits, summed = 0, 0.0
        for position, offer in enumerate(top, start=1):
            if offer in wanted:
                hits += 1
                summed += hits / position
        precision += hits / k
        recall += hits / len(wanted)
        average += summed / min(len(wanted), k)
    n = len(relevant)
    if n == 0:
        return Figures(0.0, 0.0, 0.0, 0.0)
    return Figures(precision / n, recall / n, average / n, len(offered) / catalogue if catalogue else 0.0)


def evaluate(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    actor: Actor,
    holdout_days: int,
    k: int = 10,
    progress: Progress = silent,
    blend: Blend | None = None,
) -> EvaluationOut:
    """The blend and the popularity baseline on the last ``holdout_days`` of purchases (module
    docstring), with the blend of the settings unless another is given; needs the analytics permission."""
    require(actor, Permission.RUN_ANALYTICS)
    if holdout_days < 1:
        raise Invalid.of_field("holdout_days", f"The holdout must be at least 1 day, not {holdout_days}.")
    if not 1 <= k <= MAX_K:
        raise Invalid.of_field("k", f"k must be between 1 and {MAX_K}, not {k}.")
    progress("Reading purchase events", 0, None)
    bought = reading.purchases(settings, actor=actor)
    if bought.num_rows == 0:
        raise Invalid(
            "No purchase event names an offering, so there is nothing to evaluate: import purchases whose "
            "'offering' column holds the offerings' keys."
        )
    end = bought.column("ts").to_pylist()
    last = max(end)
    cutoff = last - timedelta(days=holdout_days)
    training, hidden = reading.until(bought, cutoff), reading.after(bought, cutoff)
    if training.num_rows == 0:
        raise Invalid.of_field(
            "holdout_days",
            f"Every purchase naming an offering is in the last {holdout_days} days (from "
            f"{min(end):%d %b %Y} to {last:%d %b %Y}): nothing is left to learn from; hide fewer days.",
        )
    with session_scope(sessions) as db:
        inputs, _notes = reading.read(db, actor=actor, bought=training, as_of=cutoff)
        hidden_customers = reading.survivors_of(
            db, hidden.column("customer_id").to_numpy(zero_copy_only=False)
        )
    matcher = Matcher(inputs, blend or blend_of(settings), progress=progress)
    relevant, rows = holdout_sets(matcher, hidden_customers, hidden.column("offering").to_pylist())
    with_holdout = len(rows)
    known = matcher.knows[rows] if len(rows) else np.zeros(0, bool)
    rows, relevant = rows[known], [wanted for wanted, keep in zip(relevant, known, strict=True) if keep]
    blended = [[m.offer for m in matches] for matches in matcher.rank(rows, k=k, explain=False)]
    popular = matcher.popular(rows, k=k)
    catalogue = int(matcher.active.sum())
    results = {
        "blend": figures(blended, relevant, k=k, catalogue=catalogue),
        "popularity": figures(popular, relevant, k=k, catalogue=catalogue),
    }
    mixed, base = results["blend"], results["popularity"]
    return EvaluationOut(
        holdout_days=holdout_days,
        k=k,
        cutoff=cutoff,
        end=last,
        training_purchases=training.num_rows,
        holdout_purchases=hidden.num_rows,
        customers_with_holdout=with_holdout,
        customers_evaluated=len(rows),
        offerings=catalogue,
        methods=[
            MethodFigures(
                method=name,
                precision=round(found.precision, 6),
                recall=round(found.recall, 6),
                map=round(found.map, 6),
                coverage=round(found.coverage, 6),
            )
            for name, found in results.items()
        ],
        lift={
            name: (round(getattr(mixed, name) / getattr(base, name), 4) if getattr(base, name) else None)
            for name in ("precision", "recall", "map", "coverage")
        },
    )


def holdout_sets(
    matcher: Matcher, customer_ids: Sequence[int] | np.ndarray, offering_keys: Sequence[str]
) -> tuple[list[set[int]], np.ndarray]:
    """The offerings each customer took in the holdout that they could be offered at the cutoff, for the
    customers with any (by row, ascending)."""
    position = {o.key: i for i, o in enumerate(matcher.inputs.offers)}
    row_of = {int(c): r for r, c in enumerate(matcher.customer_ids)}
    taken: dict[int, set[int]] = {}
    for customer, key in zip(customer_ids, offering_keys, strict=True):
        row, offer = row_of.get(int(customer)), position.get(str(key))
        if row is not None and offer is not None:
            taken.setdefault(row, set()).add(offer)
    rows = np.array(sorted(taken), dtype=np.int64)
    if not len(rows):
        return [], rows
    relevant: list[set[int]] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        allowed = matcher.allowed(batch)
        relevant.extend({i for i in taken[int(row)] if allowed[b, i]} for b, row in enumerate(batch))
    keep = np.array([bool(r) for r in relevant])
    return [r for r in relevant if r], rows[keep]

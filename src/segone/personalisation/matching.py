"""Matching offerings to customers: a ranked list per customer, each offer with its reasons in the
customer's terms (docs/personalisation.md, "Matching").

An offer's score blends three parts, each between 0 and 1::

    score = w_c * collaborative + w_t * content + w_p * popularity

- **collaborative**: what customers who bought alike went on to buy. An implicit-feedback ALS model
  (the ``implicit`` library; Hu, Koren & Volinsky 2008) is fitted on the purchase events that name an
  offering: confidence ``alpha * (1 + ln n)`` for ``n`` purchases of it. The customer's factors are then
  solved once more against the final offering factors, so that the prediction is exactly the sum of the
  contributions ``explain`` gives per purchase. The part is the positive prediction over the customer's
  highest among the offerings they may be offered (1 for their best; a customer without purchases has 0).
- **content**: how well the offering (its name, description and needs) fits what the customer told us:
  the highest cosine similarity between one of their current facts and the offering, as the knowledge
  domain compares texts (TF-IDF by default; ``SEGONE_KNOWLEDGE_METHOD``), counted from ``min_content``.
- **popularity**: the share of buying customers who bought the offering, over the largest share.

The rules come first: an inactive offering is never offered; an offering the customer bought is not
offered again unless it is ``repeatable``; an offering with an ``eligible_if`` rule only to the customers
who meet it (``rules``). An offer needs a reason: a fact of the customer that fits it, or a purchase of
theirs behind its collaborative score; an offering neither explains is not offered (popularity alone
says nothing about the customer). Ties are broken by the offering's key, and the ALS model is seeded and
runs on one thread, so the same data give the same lists.

Every reason cites what it rests on, and it is always the customer's own: a fact (its id, text and when
it was learned) or a purchase event (its id and day). The module is pure: the refresh reads the store and
the events and writes the results (``refresh``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from segone import formatting
from segone.knowledge.distinguishability import service as text
from segone.personalisation.rules import Rule
from segone.progress import Progress, silent

BATCH = 2000
"""Customers scored at a time: a dense block of BATCH x offerings floats."""
EPSILON = 1e-4
"""A collaborative score below this is no evidence (and explains nothing)."""
SHARED = 2
"""Customers who bought both, from which a reason says how many did."""

Reason = dict[str, Any]


@dataclass(frozen=True)
class Blend:
    """The weights of the score's parts and the settings of the models behind them."""

    collaborative: float = 0.3
    content: float = 0.3
    popularity: float = 0.4
    factors: int = 16
    iterations: int = 15
    regularization: float = 3.0
    alpha: float = 1.0
    seed: int = 7
    min_content: float = 0.1
    method: str = "tfidf"

    def __post_init__(self) -> None:
        if min(self.collaborative, self.content, self.popularity) < 0 or not (
            self.collaborative + self.content + self.popularity > 0
        ):
            raise ValueError("the blend's weights must be at least 0, and one of them above 0")

    def described(self) -> dict[str, Any]:
        return {
            "weights": {
                "collaborative": self.collaborative,
                "content": self.content,
                "popularity": self.popularity,
            },
            "factors": self.factors,
            "iterations": self.iterations,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "seed": self.seed,
            "min_content": self.min_content,
            "method": self.method,
        }


@dataclass(frozen=True)
class Offer:
    """An offering as matching reads it."""

    id: int
    key: str
    name: str
    text: str = ""
    """What facts are compared with: its name, description and needs."""
    active: bool = True
    repeatable: bool = False
    rule: Rule | None = None


@dataclass
class Inputs:
    """What a matching reads. Purchases and facts name customers by the ids in ``customers`` (merged
    records already followed); those of other customers, and purchases of offerings not in ``offers``,
    are left out."""

    offers: Sequence[Offer]
    customers: Sequence[int]
    kinds: Sequence[str]
    attributes: Sequence[Mapping[str, Any]]
    audiences: Mapping[int, set[str]] = field(default_factory=dict)
    """Each customer's audiences, by name in lower case with spaces collapsed."""
    purchase_customer: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    purchase_offering: npt.NDArray[np.object_] = field(default_factory=lambda: np.zeros(0, object))
    """The offering's key."""
    purchase_ts: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.zeros(0, "datetime64[us]"))
    purchase_event: npt.NDArray[np.object_] = field(default_factory=lambda: np.zeros(0, object))
    fact_id: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    fact_customer: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    fact_text: Sequence[str] = ()
    fact_learned: npt.NDArray[np.datetime64] = field(default_factory=lambda: np.zeros(0, "datetime64[us]"))


@dataclass(frozen=True)
class Match:
    """One offer to one customer."""

    customer_id: int
    offer: int
    """The offer's position in ``Inputs.offers``."""
    rank: int
    score: float
    collaborative: float
    content: float
    popularity: float
    reasons: list[Reason]


def _month(moment: datetime) -> str:
    return f"{moment:%B %Y}"


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _moment(value: np.datetime64) -> datetime:
    """A UTC datetime to the microsecond (no float on the way: the reason's ``at`` is the event's)."""
    return _EPOCH + timedelta(microseconds=int(value.astype("datetime64[us]").astype(np.int64)))


class Matcher:
    """The fitted parts of a matching over ``Inputs``: rank any customers with ``rank``, or by popularity
    alone (the baseline of the evaluation) with ``popular``."""

    def __init__(self, inputs: Inputs, blend: Blend, *, progress: Progress = silent) -> None:
        self.inputs, self.blend = inputs, blend
        offers = inputs.offers
        self.n_customers, self.n_offers = len(inputs.customers), len(offers)
        self.customer_ids = np.asarray(inputs.customers, dtype=np.int64)
        self.active = np.array([o.active for o in offers], dtype=bool)
        self.repeatable = np.array([o.repeatable for o in offers], dtype=bool)
        self._row_of = {int(c): r for r, c in enumerate(self.customer_ids)}
        progress("Reading purchases", 0, 1)
        self._purchases()
        progress("Reading purchases", 1, 1)
        self.eligible = self._eligibility()
        progress("Fitting the purchase model (ALS)", 0, 1)
        self._fit()
        progress("Fitting the purchase model (ALS)", 1, 1)
        progress("Matching facts with offerings", 0, 1)
        self._content()
        progress("Matching facts with offerings", 1, 1)
        self.knows = self.buyer_of_row >= 0
        """Whether we know anything of the customer: a purchase of an offering or a current fact."""
        self.knows[self._fact_rows] = True

    # --- purchases ---------------------------------------------------------------------------------

    def _purchases(self) -> None:
        inputs = self.inputs
        position = {o.key: i for i, o in enumerate(inputs.offers)}
        customer = np.fromiter(
            (self._row_of.get(int(c), -1) for c in inputs.purchase_customer),
            dtype=np.int64,
            count=len(inputs.purchase_customer),
        )
        offer = np.fromiter(
            (position.get(str(k), -1) for k in inputs.purchase_offering),
            dtype=np.int64,
            count=len(inputs.purchase_offering),
        )
        kept = (customer >= 0) & (offer >= 0)
        self.purchases_read = int(kept.sum())
        rows, items = customer[kept], offer[kept]
        ts = inputs.purchase_ts[kept].astype("datetime64[us]")
        events = inputs.purchase_event[kept]
        # The latest purchase of each (customer, offering), ties by event id: what a reason cites.
        order = np.lexsort((events.astype(str), ts, items, rows))
        pair = rows[order] * max(self.n_offers, 1) + items[order]
        last = np.r_[pair[1:] != pair[:-1], True] if len(pair) else np.zeros(0, bool)
        self._pair = pair[last]
        self._pair_event = events[order][last]
        self._pair_ts = ts[order][last]
        counts = np.bincount(np.searchsorted(self._pair, pair), minlength=len(self._pair))
        self._pair_count = counts.astype(np.int64)
        pair_rows = self._pair // max(self.n_offers, 1)
        pair_items = self._pair % max(self.n_offers, 1)
        self.owned = sparse.csr_matrix(
            (np.ones(len(self._pair), dtype=np.float32), (pair_rows, pair_items)),
            shape=(self.n_customers, self.n_offers),
        )
        buyers = np.unique(pair_rows)
        self.buyer_of_row = np.full(self.n_customers, -1, dtype=np.int64)
        self.buyer_of_row[buyers] = np.arange(len(buyers))
        self.buyer_rows = buyers
        confidence = (1.0 + np.log(self._pair_count)).astype(np.float32)
        self.user_items = sparse.csr_matrix(
            (confidence, (self.buyer_of_row[pair_rows], pair_items)),
            shape=(len(buyers), self.n_offers),
            dtype=np.float32,
        )
        bought = sparse.csr_matrix(
            (np.ones(len(self._pair), dtype=np.float32), (self.buyer_of_row[pair_rows], pair_items)),
            shape=(len(buyers), self.n_offers),
        )
        self.co_buyers = np.asarray((bought.T @ bought).toarray(), dtype=np.int64)
        share = np.diag(self.co_buyers).astype(np.float64)
        self.popularity = share / share.max() if len(share) and share.max() > 0 else np.zeros(self.n_offers)

    def latest_purchase(self, row: int, offer: int) -> tuple[str, datetime, int] | None:
        """The customer's latest purchase of the offering: its event id, time, and how many in all."""
        key = row * max(self.n_offers, 1) + offer
        at = int(np.searchsorted(self._pair, key))
        if at >= len(self._pair) or self._pair[at] != key:
            return None
        return str(self._pair_event[at]), _moment(self._pair_ts[at]), int(self._pair_count[at])

    # --- rules -------------------------------------------------------------------------------------

    def _eligibility(self) -> dict[int, npt.NDArray[np.bool_]]:
        """For each offering with a rule, who meets it (by customer row)."""
        inputs = self.inputs
        eligible: dict[int, npt.NDArray[np.bool_]] = {}
        for i, offer in enumerate(inputs.offers):
            if offer.rule is None or not offer.active:
                continue
            rule = offer.rule
            eligible[i] = np.fromiter(
                (
                    rule.holds(
                        kind=inputs.kinds[r],
                        attributes=inputs.attributes[r],
                        audiences=inputs.audiences.get(int(c), set()),
                    )
                    for r, c in enumerate(self.customer_ids)
                ),
                dtype=bool,
                count=self.n_customers,
            )
        return eligible

    def allowed(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which offerings may be offered to these customers: active, not bought unless repeatable, and
        meeting the offering's rule."""
        owned = self.owned[rows].toarray() > 0
        allowed = self.active[None, :] & ~(owned & ~self.repeatable[None, :])
        for i, who in self.eligible.items():
            allowed[:, i] &= who[rows]
        out: npt.NDArray[np.bool_] = allowed
        return out

    # --- the models ----------------------------------------------------------------------------------

    def _fit(self) -> None:
        self.user_factors = np.zeros((len(self.buyer_rows), self.blend.factors), dtype=np.float32)
        self.model: Any = None
        if self.user_items.nnz == 0:
            return
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        # One thread for BLAS (implicit warns otherwise, and threads would only fight its own loop) and
        # one for implicit: the same data and seed give the same factors.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.blend.factors,
                regularization=self.blend.regularization,
                alpha=self.blend.alpha,
                iterations=self.blend.iterations,
                calculate_training_loss=False,
                num_threads=1,
                random_state=self.blend.seed,
            )
            model.fit(self.user_items, show_progress=False)
            # Solved once more against the final offering factors: the score is then the sum of the
            # contributions ``explain`` gives.
            self.user_factors = model.recalculate_user(np.arange(len(self.buyer_rows)), self.user_items)
        self.model = model

    def _content(self) -> None:
        inputs = self.inputs
        rows = np.fromiter(
            (self._row_of.get(int(c), -1) for c in inputs.fact_customer),
            dtype=np.int64,
            count=len(inputs.fact_customer),
        )
        known = np.flatnonzero(rows >= 0)
        self.facts_read = len(known)
        self._fact_rows = np.unique(rows[known])
        empty = sparse.csr_matrix((self.n_customers, self.n_offers), dtype=np.float32)
        self.content, self.content_fact = empty, empty.astype(np.int64)
        if not len(known) or not self.n_offers:
            return
        texts = [inputs.fact_text[int(i)] for i in known]
        similar = text.text_similarities(
            texts,
            [o.text for o in inputs.offers],
            method=self.blend.method,
            min_similarity=self.blend.min_content,
        ).tocoo()
        if similar.nnz == 0:
            return
        fact = known[similar.row]
        row, item, value = rows[fact], similar.col.astype(np.int64), similar.data.astype(np.float32)
        learned = inputs.fact_learned[fact].astype("datetime64[us]").astype(np.int64)
        # The best fact per (customer, offering): most alike, then the most recently learned, then the
        # lowest id.
        order = np.lexsort((inputs.fact_id[fact], -learned, -value, item, row))
        pair = row[order] * self.n_offers + item[order]
        first = np.r_[True, pair[1:] != pair[:-1]]
        chosen = order[first]
        shape = (self.n_customers, self.n_offers)
        self.content = sparse.csr_matrix((value[chosen], (row[chosen], item[chosen])), shape=shape)
        self.content_fact = sparse.csr_matrix((fact[chosen] + 1, (row[chosen], item[chosen])), shape=shape)

    def collaborative(
        self, rows: npt.NDArray[np.int64], allowed: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float64]:
        """ALS's predicted preference of each offering, over the customer's highest among the offerings
        they may be offered (``allowed``): 1 for the best, 0 for none (a non-positive prediction)."""
        scores = np.zeros((len(rows), self.n_offers))
        buyers = self.buyer_of_row[rows]
        has = buyers >= 0
        if self.model is not None and has.any():
            predicted = self.user_factors[buyers[has]] @ self.model.item_factors.T
            scores[has] = np.maximum(predicted, 0.0)
        scores[scores < EPSILON] = 0.0
        top = np.where(allowed, scores, 0.0).max(axis=1, initial=0.0)
        scores = np.divide(scores, top[:, None], out=np.zeros_like(scores), where=top[:, None] > 0)
        capped: npt.NDArray[np.float64] = np.minimum(scores, 1.0)
        return capped

    # --- ranking -----------------------------------------------------------------------------------

    def rank(
        self,
        rows: npt.NDArray[np.int64] | None = None,
        *,
        k: int = 10,
        explain: bool = True,
        progress: Progress = silent,
        stage: str = "Ranking offers",
    ) -> list[list[Match]]:
        """The top ``k`` offers of each customer (by row; every customer by default), best first; with
        ``explain``, each with its reasons (without: the same offers, for the evaluation)."""
        rows = np.arange(self.n_customers, dtype=np.int64) if rows is None else np.asarray(rows, np.int64)
        blend = self.blend
        found: list[list[Match]] = []
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            progress(stage, start, len(rows))
            allowed = self.allowed(batch)
            cf = self.collaborative(batch, allowed)
            content = self.content[batch].toarray().astype(np.float64)
            fact = self.content_fact[batch].toarray() - 1 if explain else None
            popularity = np.broadcast_to(self.popularity, cf.shape)
            score = blend.collaborative * cf + blend.content * content + blend.popularity * popularity
            valid = allowed & ((cf > 0) | (content > 0))
            score = np.where(valid, score, -np.inf)
            order = np.argsort(-score, axis=1, kind="stable")[:, :k]  # ties: the offerings' key order
            for b, row in enumerate(batch):
                kept = [int(i) for i in order[b] if valid[b, i]]
                explained = [i for i in kept if cf[b, i] > 0]
                weights = self.sources(int(row), explained) if fact is not None and explained else {}
                matches = []
                for rank, i in enumerate(kept, start=1):
                    reasons: list[Reason] = []
                    if fact is not None:
                        reasons = self._ordered(
                            self.reasons(int(row), i, content[b, i], int(fact[b, i]), weights.get(i)),
                            cf[b, i],
                            content[b, i],
                        )
                    matches.append(
                        Match(
                            customer_id=int(self.customer_ids[row]),
                            offer=i,
                            rank=rank,
                            score=round(float(score[b, i]), 6),
                            collaborative=round(float(cf[b, i]), 6),
                            content=round(float(content[b, i]), 6),
                            popularity=round(float(popularity[b, i]), 6),
                            reasons=reasons,
                        )
                    )
                found.append(matches)
        progress(stage, len(rows), len(rows))
        return found

    def popular(self, rows: npt.NDArray[np.int64], *, k: int = 10) -> list[list[int]]:
        """The baseline: the ``k`` most bought offerings each customer may be offered (the same rules),
        ties by key."""
        found: list[list[int]] = []
        for start in range(0, len(rows), BATCH):
            batch = np.asarray(rows[start : start + BATCH], dtype=np.int64)
            allowed = self.allowed(batch)
            score = np.where(allowed, np.broadcast_to(self.popularity, allowed.shape), -np.inf)
            order = np.argsort(-score, axis=1, kind="stable")[:, :k]
            found.extend([int(i) for i in order[b] if allowed[b, i]] for b in range(len(batch)))
        return found

    # --- reasons -----------------------------------------------------------------------------------

    def contributions(
        self, row: int, offers: Sequence[int]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """What each purchase of the customer adds to the collaborative prediction of each of ``offers``:
        the offerings they bought, and a matrix of (those) x (``offers``) contributions. This is implicit's
        ``explain`` (``s = y_i' W_u y_j c_uj``, Hu, Koren & Volinsky 2008, section 5) for several offerings
        at once, from one Cholesky factor of the customer's system built by implicit's own
        ``user_linear_equation``."""
        from implicit.cpu.als import user_linear_equation
        from scipy.linalg import cho_factor, cho_solve  # type: ignore[import-untyped]

        model = self.model
        mine = self.user_items[int(self.buyer_of_row[row])]
        if model.alpha != 1.0:
            mine = model.alpha * mine
        y = model.item_factors
        system, _ = user_linear_equation(y, model.YtY, mine, 0, model.regularization, model.factors)
        factor = cho_factor(system, check_finite=False)
        solved = cho_solve(factor, y[np.asarray(offers, dtype=np.int64)].T, check_finite=False)
        owned = mine.indices.astype(np.int64)
        scores: npt.NDArray[np.float64] = (y[owned] @ solved) * mine.data[:, None]
        return owned, scores

    def sources(self, row: int, offers: Sequence[int]) -> dict[int, tuple[int, int]]:
        """For each of ``offers``, the customer's purchase (another offering) that adds most to its
        prediction among those at least ``SHARED`` customers bought with it, and among all; -1 for none."""
        owned, scores = self.contributions(row, offers)
        wanted = np.asarray(offers, dtype=np.int64)
        positive = (scores > 0) & (owned[:, None] != wanted[None, :])
        shared = positive & (self.co_buyers[np.ix_(owned, wanted)] >= SHARED)

        def best(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
            pick = np.argmax(np.where(mask, scores, -np.inf), axis=0)
            found: npt.NDArray[np.int64] = np.where(mask.any(axis=0), owned[pick], -1)
            return found

        return {
            int(offer): (int(a), int(b))
            for offer, a, b in zip(wanted, best(shared), best(positive), strict=True)
        }

    def reasons(
        self,
        row: int,
        offer: int,
        content: float,
        position: int,
        sources: tuple[int, int] | None,
    ) -> list[Reason]:
        """The reasons for offering ``offer`` to the customer of ``row``: the fact of theirs that fits it
        (``position`` in the inputs' facts), the purchase of theirs that weighs most in its collaborative
        prediction (``sources``), and their own earlier purchase of it; each cites its fact or event.
        The fact comes first; ``_ordered`` puts the weightier first."""
        name = self.inputs.offers[offer].name
        found: list[Reason] = []
        if content > 0 and position >= 0:
            learned = _moment(self.inputs.fact_learned[position])
            found.append(
                fact_reason(int(self.inputs.fact_id[position]), self.inputs.fact_text[position], learned)
            )
        repeat = self.latest_purchase(row, offer)
        if sources is not None:
            # The purchase that weighs most, preferring one that others who took this offering share; a
            # repeat purchase with no shared purchase behind it is told as the repeat alone.
            shared, any_positive = sources
            source = shared if shared >= 0 else (any_positive if repeat is None else -1)
            bought = self.latest_purchase(row, source) if source >= 0 else None
            if bought is not None:
                found.append(self._purchase_reason(offer, source, bought))
        if repeat is not None:
            event, at, times = repeat
            found.append(
                {
                    "kind": "repeat",
                    "text": f"You bought {name} on {_day(at)}"
                    + (f" ({formatting.plural(times, 'time')} in all)." if times > 1 else "."),
                    "fact_id": None,
                    "event_id": event,
                    "offering": self.inputs.offers[offer].key,
                    "at": at.isoformat(),
                }
            )
        return found

    def _ordered(self, reasons: list[Reason], cf: float, content: float) -> list[Reason]:
        """The purchase reason before the fact when the collaborative part weighs more; the repeat last."""
        weight = {
            "fact": self.blend.content * content,
            "purchase": self.blend.collaborative * cf,
            "repeat": -1.0,
        }
        return sorted(reasons, key=lambda reason: -weight[reason["kind"]])

    def _purchase_reason(self, offer: int, source: int, bought: tuple[str, datetime, int]) -> Reason:
        event, at, _times = bought
        offers = self.inputs.offers
        name, had = offers[offer].name, offers[source].name
        together, buyers = int(self.co_buyers[source, offer]), int(self.co_buyers[source, source])
        if together >= SHARED:
            words = (
                f"Of the {formatting.count(buyers)} customers who bought {had}, as you did on {_day(at)}, "
                f"{formatting.count(together)} also took {name}."
            )
        else:
            words = f"You bought {had} on {_day(at)}; customers whose purchases are like yours take {name}."
        return {
            "kind": "purchase",
            "text": words,
            "fact_id": None,
            "event_id": event,
            "offering": offers[source].key,
            "at": at.isoformat(),
        }


def fact_reason(fact_id: int, text: str, learned: datetime) -> Reason:
    """A reason citing one of the customer's facts, in their terms: "You told us in March 2024: ..."."""
    return {
        "kind": "fact",
        "text": f"You told us in {_month(learned)}: “{text}”.",
        "fact_id": fact_id,
        "event_id": None,
        "offering": None,
        "at": learned.isoformat(),
    }


def offer_text(name: str, description: str, needs: Sequence[str]) -> str:
    """What a customer's facts are compared with: the offering's name, description and needs."""
    return ". ".join(part for part in (name, description, ". ".join(needs)) if part)


def blend_of(settings: Any, method: str | None = None) -> Blend:
    """The blend the settings ask for (``SEGONE_OFFERS_*``, ``SEGONE_KNOWLEDGE_METHOD``)."""
    return Blend(
        collaborative=settings.offers_collaborative_weight,
        content=settings.offers_content_weight,
        popularity=settings.offers_popularity_weight,
        factors=settings.offers_factors,
        iterations=settings.offers_iterations,
        seed=settings.offers_seed,
        method=method or settings.knowledge_method,
    )

"""Which category a fact belongs to: keyword rules to start, a model learned from confirmed facts later.

``suggest_category`` answers with ``(category, confidence)`` per text. Until a model is trained it uses
keyword rules that cover every default category. ``train`` (``segone facts train``) fits a TF-IDF +
logistic-regression pipeline on the current differentiators — every fact on an easel sheet was confirmed
by an employee — and writes it to ``<data_dir>/models/fact_categories.pkl`` (a temporary file, then a
rename, so a reader never sees half a model). From then on the model decides, except where the rules
recognise a category the model never saw: then the more confident of the two wins.

The model file is a pickle (scikit-learn's own way of persisting a model): loading one runs code, so
only ever point segone at model files that ``segone facts train`` wrote.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from segone.accounts.schemas import Actor, Permission
from segone.accounts.service import require
from segone.clock import utcnow
from segone.customers import service as customers
from segone.errors import Invalid
from segone.knowledge.categories.schemas import DEFAULT_CATEGORIES, CategoryList
from segone.knowledge.models import Differentiator
from segone.progress import Progress, silent

MODEL_FILE = Path("models") / "fact_categories.pkl"
MIN_PER_CATEGORY = 5  # a category with fewer confirmed facts is left to the rules
MIN_CATEGORIES = 2
HELD_OUT_SHARE = 0.2
SEED = 20261127
FALLBACK = "cares_about"  # when no rule matches: the widest category that fits every customer

Suggestion = tuple[str, float]
TRAINING_STEPS = 4  # read, measure, train, save: what the progress bar counts

# Word stems per category (matched at the start of a word, case-insensitive). Each hit adds evidence.
RULES: dict[str, tuple[str, ...]] = {
    "business_quirks": (
        "closes",
        "closed",
        "busiest",
        "seasonal",
        "run by",
        "run entirely",
        "opening hours",
        "family business",
        "volunteer",
    ),
    "growth_plans": (
        "opening a",
        "open a second",
        "second site",
        "second store",
        "second caf",
        "expand",
        "grow",
        "refurbish",
        "start selling",
        "new branch",
        "plans to",
        "planning to",
        "next year",
        "franchise",
    ),
    "challenges": (
        "lost their",
        "struggl",
        "hard to find",
        "complaint",
        "may have to move",
        "short-staffed",
        "short staffed",
        "problem",
        "difficult",
    ),
    "competitive_threats": (
        "competit",
        "rival",
        "undercut",
        "online-only",
        "online only",
        "cheaper elsewhere",
        "losing business",
    ),
    "team": (
        "manager",
        "engineer",
        "staff",
        "head chef",
        "the team",
        "their team",
        "employee",
        "hired",
        "recruit",
        "freelance",
    ),
    "strengths": (
        "known for",
        "known across",
        "award",
        "famous",
        "best in",
        "loyal regular",
        "proud",
        "reputation",
        "excel",
    ),
    "lifestyle": (
        "works from home",
        "works shift",
        "commut",
        "night-shift",
        "night shift",
        "training for",
        "marathon",
        "retired",
        "gym",
        "travels",
    ),
    "values": (
        "vegan",
        "second-hand",
        "second hand",
        "charity",
        "independent shop",
        "compares prices",
        "ethical",
        "environment",
        "sustainab",
        "community",
    ),
    "product_fit": (
        "streams",
        "turntable",
        "vinyl",
        "bought",
        "hearing loop",
        "speakers",
        "headphones",
    ),
    "free_time": (
        "hobby",
        "collects",
        "concert",
        "plays guitar",
        "band",
        "sings",
        "choir",
        "hiking",
        "weekend",
        "rehearsal",
        "garden",
        "football",
    ),
    "family": (
        "children",
        "child",
        "kids",
        "daughter",
        "son ",
        "son,",
        "granddaughter",
        "grandson",
        "grandchild",
        "niece",
        "nephew",
        "stepdaughter",
        "godson",
        "twins",
        "partner",
        "wife",
        "husband",
        "lives alone",
        "fosters",
        "parent",
        "baby",
        "birthday",
    ),
    "cares_about": (
        "cares about",
        "wants",
        "care about",
        "important to",
        "matters to",
        "honest advice",
    ),
    "worries": (
        "worri",
        "worry",
        "concern",
        "afraid",
        "nervous",
        "anxious",
        "fear",
        "risk",
        "keeps them up",
    ),
    "motivations": (
        "came to us",
        "chose us",
        "recommend",
        "because",
        "reason they",
        "first came",
        "switched from",
    ),
    "preferences": (
        "prefers",
        "e-mail",
        "email",
        "text message",
        "phone call",
        "marketing",
        "reachable",
        "contact",
        "invoice",
        "call them",
        "does not want",
        "doesn't want",
    ),
}

_COMPILED = {
    name: [re.compile(r"(?<![\w-])" + re.escape(stem), re.IGNORECASE) for stem in stems]
    for name, stems in RULES.items()
}


def model_path(data_dir: Path) -> Path:
    return data_dir / MODEL_FILE


def _allowed(categories: CategoryList, kind: str) -> list[str]:
    return [c.name for c in categories.for_kind("business" if kind == "business" else "person")]


def _rule_scores(text: str, allowed: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Per category with a hit: (how many of its keywords occur, where the first one starts)."""
    scores: dict[str, tuple[int, int]] = {}
    for name in allowed:
        starts = [m.start() for pattern in _COMPILED.get(name, ()) if (m := pattern.search(text))]
        if starts:
            scores[name] = (len(starts), min(starts))
    return scores


def rule_category(text: str, kind: str, categories: CategoryList | None = None) -> Suggestion:
    """The rules' guess: the category with most keyword hits among those that fit the customer."""
    allowed = _allowed(categories or CategoryList(DEFAULT_CATEGORIES), kind)
    scores = _rule_scores(text, allowed)
    if not scores:
        fallback = FALLBACK if FALLBACK in allowed else (allowed[0] if allowed else FALLBACK)
        return fallback, 0.1
    # Most keywords wins; on a tie the keyword said first (usually the subject: "Daughter plays in a band").
    best = min(scores, key=lambda name: (-scores[name][0], scores[name][1], allowed.index(name)))
    hits = scores[best][0]
    runner_up = max((v[0] for k, v in scores.items() if k != best), default=0)
    confidence = min(0.75, 0.35 + 0.15 * hits - 0.1 * runner_up)
    return best, round(max(0.2, confidence), 2)


@dataclass(frozen=True)
class TrainedModel:
    pipeline: Any  # a fitted sklearn Pipeline
    classes: tuple[str, ...]
    trained_at: datetime
    facts: int


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[float, int, TrainedModel | None]] = {}


def load_model(path: Path) -> TrainedModel | None:
    """The trained model at ``path`` (cached until the file changes), or None when there is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (stat.st_mtime, stat.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[:2] == key:
            return cached[2]
    try:
        with path.open("rb") as handle:
            saved = pickle.load(handle)
        model = TrainedModel(
            pipeline=saved["pipeline"],
            classes=tuple(saved["classes"]),
            trained_at=saved["trained_at"],
            facts=int(saved["facts"]),
        )
    except Exception:  # an unreadable or foreign file: fall back to the rules rather than fail a page
        model = None
    with _cache_lock:
        _cache[path] = (key[0], key[1], model)
    return model


def suggest_category(
    texts: Sequence[str],
    kind: str,
    *,
    categories: CategoryList | None = None,
    data_dir: Path | None = None,
    model: TrainedModel | None = None,
) -> list[Suggestion]:
    """``(category, confidence)`` for each text, for a customer of this kind (person or business).

    Uses the model in ``data_dir`` (or ``model``) when there is one, the keyword rules otherwise.
    """
    categories = categories or CategoryList(DEFAULT_CATEGORIES)
    if model is None and data_dir is not None:
        model = load_model(model_path(data_dir))
    rules = [rule_category(text, kind, categories) for text in texts]
    if model is None or not texts:
        return rules
    allowed = set(_allowed(categories, kind))
    usable = [i for i, name in enumerate(model.classes) if name in allowed]
    if not usable:
        return rules
    probabilities = model.pipeline.predict_proba(list(texts))
    result: list[Suggestion] = []
    for row, (rule_name, rule_confidence) in zip(probabilities, rules, strict=True):
        best = max(usable, key=lambda i: float(row[i]))
        total = sum(float(row[i]) for i in usable) or 1.0
        name, confidence = model.classes[best], float(row[best]) / total
        # A category the model never saw can only come from the rules.
        if rule_name not in model.classes and rule_confidence > 0.1 and rule_confidence > confidence:
            name, confidence = rule_name, rule_confidence
        result.append((name, round(confidence, 2)))
    return result


class CategoryCount(BaseModel):
    name: str
    facts: int


class TrainingReport(BaseModel):
    """What ``segone facts train`` learned, and how well it does on facts it did not see."""

    facts: int = Field(description="Distinct confirmed facts the model was trained on.")
    categories: list[CategoryCount] = Field(description="Categories the model learned, with their facts.")
    left_to_rules: list[CategoryCount] = Field(
        description=f"Categories with fewer than {MIN_PER_CATEGORY} facts: the rules keep deciding them."
    )
    held_out: int = Field(description="Facts kept aside to measure accuracy.")
    accuracy: float = Field(description="Share of held-out facts whose category the model got right.")
    rule_accuracy: float = Field(description="The same, for the keyword rules alone: the baseline.")
    model_path: str
    trained_at: datetime
    seconds: float


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", min_df=1),
            ),
            ("classify", LogisticRegression(C=10.0, max_iter=2000)),
        ]
    )


def normalise(text: str) -> str:
    """Text as compared: lower case, letters and digits only, single spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def training_facts(db: Session, categories: CategoryList) -> list[tuple[str, str, str]]:
    """(text, category, customer kind) of each distinct current fact in a category still in force."""
    in_force = {c.name for c in categories.all}
    rows = db.execute(
        select(Differentiator.text, Differentiator.category, Differentiator.customer_id)
        .where(Differentiator.status == "current")
        .order_by(Differentiator.id)
    ).all()
    kinds = customers.kinds_by_id(db, {customer_id for _text, _category, customer_id in rows})
    seen: set[tuple[str, str]] = set()
    facts: list[tuple[str, str, str]] = []
    for text, category, customer_id in rows:
        key = (normalise(text), category)
        if category in in_force and key not in seen:
            seen.add(key)
            facts.append((text, category, kinds[customer_id]))
    return facts


def _write_atomically(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".fact_categories.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        with open(temporary, "wb") as handle:
            pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def train(
    db: Session,
    *,
    actor: Actor,
    categories: CategoryList,
    data_dir: Path,
    progress: Progress = silent,
) -> TrainingReport:
    """Train the category model on the confirmed facts, measure it on held-out facts, and save it."""
    require(actor, Permission.RUN_ANALYTICS)
    started = time.perf_counter()
    steps = iter(range(TRAINING_STEPS))

    def say(message: str) -> None:
        progress(message, next(steps), TRAINING_STEPS)

    say("Reading the confirmed facts")
    facts = training_facts(db, categories)
    counts = Counter(category for _text, category, _kind in facts)
    kept = {name for name, n in counts.items() if n >= MIN_PER_CATEGORY}
    if len(kept) < MIN_CATEGORIES:
        raise Invalid(
            f"Too few confirmed facts to learn from: a category needs at least {MIN_PER_CATEGORY} distinct "
            f"facts, and {len(kept)} of the categories {'has' if len(kept) == 1 else 'have'} that many "
            f"({len(facts)} facts in all). Keep confirming facts and train again.",
            details={"facts": len(facts), "per_category": dict(counts)},
        )
    used = [fact for fact in facts if fact[1] in kept]
    texts = [text for text, _category, _kind in used]
    labels = [category for _text, category, _kind in used]

    from sklearn.model_selection import train_test_split

    say(f"Measuring on held-out facts ({len(used)} facts, {len(kept)} categories)")
    indices = list(range(len(used)))
    train_idx, test_idx = train_test_split(
        indices, test_size=HELD_OUT_SHARE, random_state=SEED, stratify=labels
    )
    pipeline = _pipeline()
    pipeline.fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
    trial = TrainedModel(pipeline, tuple(str(c) for c in pipeline.classes_), utcnow(), len(train_idx))
    correct = rule_correct = 0
    for i in test_idx:
        text, category, kind = used[i]
        guess = suggest_category([text], kind, categories=categories, model=trial)[0][0]
        correct += guess == category
        rule_correct += rule_category(text, kind, categories)[0] == category

    say("Training on every confirmed fact")
    final = _pipeline()
    final.fit(texts, labels)
    trained_at = utcnow()
    path = model_path(data_dir)
    say(f"Saving the model to {path}")
    _write_atomically(
        path,
        {
            "pipeline": final,
            "classes": [str(c) for c in final.classes_],
            "trained_at": trained_at,
            "facts": len(used),
        },
    )
    return TrainingReport(
        facts=len(used),
        categories=[CategoryCount(name=n, facts=counts[n]) for n in sorted(kept)],
        left_to_rules=[CategoryCount(name=n, facts=c) for n, c in sorted(counts.items()) if n not in kept],
        held_out=len(test_idx),
        accuracy=round(correct / len(test_idx), 4),
        rule_accuracy=round(rule_correct / len(test_idx), 4),
        model_path=str(path),
        trained_at=trained_at,
        seconds=round(time.perf_counter() - started, 2),
    )

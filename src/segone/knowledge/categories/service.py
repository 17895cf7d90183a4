"""The categories in force (built from ``SEGONE_FACT_CATEGORIES``, once per configuration) and the
classifier's category suggestions, as the rest of the product uses them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from segone.knowledge.categories.classifier import model_path
from segone.knowledge.categories.classifier import normalise as normalise
from segone.knowledge.categories.classifier import suggest_category as suggest_category
from segone.knowledge.categories.schemas import CategoryList, parse_categories
from segone.settings import Settings


def in_force(settings: Settings) -> CategoryList:
    """The categories a differentiator may have under these settings (the seeds' headings by default)."""
    return _parsed(settings.fact_categories)


@lru_cache(maxsize=8)
def _parsed(spec: str) -> CategoryList:
    return CategoryList(parse_categories(spec))


def forget_model(data_dir: Path) -> bool:
    """Remove the trained category model, if any: its vocabulary is made of the words of the facts it was
    trained on, an erased customer's among them. Suggestions fall back to the keyword rules until
    ``segone facts train`` trains it again on the facts still held. Returns whether there was one."""
    path = model_path(data_dir)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed

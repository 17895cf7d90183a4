"""The categories in force (built from ``SEGONE_FACT_CATEGORIES``, once per configuration) and the
classifier's category suggestions, as the rest of the product uses them."""

from __future__ import annotations

from functools import lru_cache

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

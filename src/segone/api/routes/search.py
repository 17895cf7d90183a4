"""Search across what we know: differentiators and encounter notes, ranked."""

from __future__ import annotations

from fastapi import APIRouter, Query

from segone.api.deps import Categories, CurrentActor, Db
from segone.api.errors import responses
from segone.search import service as knowledge_search
from segone.search.schemas import SearchKind, SearchPage

router = APIRouter(tags=["search"])


@router.get(
    "/search",
    response_model=SearchPage,
    summary="Search differentiators and encounter notes",
    responses=responses(401, 403, 422),
)
def search(
    db: Db,
    actor: CurrentActor,
    categories: Categories,
    q: str = Query(
        max_length=knowledge_search.MAX_QUERY_LENGTH,
        description="Words or a question, e.g. 'who is expanding into new markets?'.",
    ),
    kind: SearchKind | None = Query(default=None, description="Only differentiators, or only encounters."),
    include_outdated: bool = Query(default=False, description="Also facts that are no longer true."),
    offset: int = Query(default=0, ge=0, le=knowledge_search.MAX_OFFSET, description="Hits to skip."),
    limit: int = Query(default=20, ge=1, le=knowledge_search.MAX_LIMIT, description="Hits to return."),
) -> SearchPage:
    """Current differentiators and encounter notes (notes, cares about, worries about) that match the
    words of `q`, most relevant first. Common words and punctuation are ignored and each word also
    matches its other forms ("expanding" finds "expand"); hits holding every word come before those
    holding some. Each hit names the customer (after a merge, the survivor) and carries a snippet
    whose matched words stand between `⟦` and `⟧`. A search of only common words or punctuation is
    refused (422)."""
    return knowledge_search.search(
        db,
        actor=actor,
        query=q,
        kind=kind,
        include_outdated=include_outdated,
        offset=offset,
        limit=limit,
        categories=categories,
    )

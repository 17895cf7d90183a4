"""The search page: what we know about whom, across differentiators and encounter notes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from segone.errors import Invalid
from segone.search import service as knowledge_search
from segone.search.schemas import SEARCH_MARK_END, SEARCH_MARK_START, SearchHit, SearchKind
from segone.web.deps import Categories, Reader, RuntimeDep, see_other, web_router
from segone.web.render import render

router = web_router()

PAGE_SIZE = 20
MAX_PAGE = knowledge_search.MAX_OFFSET // PAGE_SIZE + 1


def highlighted(snippet: str) -> Markup:
    """The snippet escaped for HTML, its matched words in <mark>."""
    html = str(escape(snippet))
    return Markup(html.replace(SEARCH_MARK_START, "<mark>").replace(SEARCH_MARK_END, "</mark>"))


def _link(hit: SearchHit) -> str:
    if hit.kind is SearchKind.ENCOUNTER:
        return f"/encounters/{hit.id}"
    return f"/customers/{hit.customer_id}#fact-{hit.id}"


def _row(hit: SearchHit) -> dict[str, Any]:
    label = hit.category_label if hit.kind is SearchKind.DIFFERENTIATOR else f"Encounter ({hit.channel})"
    return {"hit": hit, "href": _link(hit), "label": label, "snippet": highlighted(hit.snippet)}


@router.get("/search")
def search_page(
    request: Request,
    viewer: Reader,
    runtime: RuntimeDep,
    categories: Categories,
    q: str = "",
    kind: str = "",
    page: str = "1",
) -> Response:
    query = q.strip()
    chosen = SearchKind(kind) if kind in {k.value for k in SearchKind} else None
    page_number = min(max(int(page) if page.isdigit() else 1, 1), MAX_PAGE)
    context: dict[str, Any] = {
        "q": query,
        "kind": chosen.value if chosen else "",
        "page": page_number,
        "rows": [],
        "total": 0,
        "more": False,
        "error": None,
        "terms": [],
    }
    if not query:
        return render(request, "search/results.html", **context)
    with runtime.session() as db:
        try:
            found = knowledge_search.search(
                db,
                actor=viewer.actor,
                query=query,
                kind=chosen,
                offset=(page_number - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
                categories=categories,
            )
        except Invalid as exc:
            return render(request, "search/results.html", status=422, **{**context, "error": exc.message})
    if not found.hits and found.total and page_number > 1:
        # A page past the last match: the last page of matches.
        last = min((found.total + PAGE_SIZE - 1) // PAGE_SIZE, MAX_PAGE)
        kept = {"q": query, "kind": context["kind"], "page": last}
        return see_other(f"/search?{urlencode(kept)}")
    context.update(
        rows=[_row(hit) for hit in found.hits],
        total=found.total,
        more=found.more and page_number < MAX_PAGE,
        terms=found.terms,
    )
    return render(request, "search/results.html", **context)

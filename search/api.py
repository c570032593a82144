"""HTTP routes of the search (``GET /api/search``)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from core.auth import Principal
from core.context import AppContext, get_context, require_principal
from search.service import search_segments

router = APIRouter()


@router.get("/api/search")
def api_search(ctx: Annotated[AppContext, Depends(get_context)],
               principal: Annotated[Principal, Depends(require_principal)],
               q: str = "", limit: int | None = None, offset: int = 0, member: str | None = None,
               video: str | None = None) -> dict:
    """Hybrid search; ``limit`` is clamped to 1..100 and ``offset`` to ≥ 0 (a sync route: runs in the threadpool)."""
    if limit is None:
        limit = ctx.config.search.default_limit
    limit = max(1, min(limit, 100))
    offset = max(0, min(offset, 100_000))
    return search_segments(ctx, q, limit=limit, offset=offset, member=member or None, video=video or None,
                           actor=principal.actor)

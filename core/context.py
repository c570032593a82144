"""What a running app shares between its parts: config, database, embedder (lazy), translator.

Routes get it with ``Depends(get_context)``; the Slack listeners find it in Bolt's ``context``
(``bot.listeners.context``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request

from core.auth import SESSION_COOKIE, Principal, identify
from core.config import Config
from core.embedding import QueryVectors


@dataclass
class AppContext:
    config: Config
    db: Any                     # db.Database
    embedder: Any               # core.embedding.TextEmbedder (lazy)
    translator: Any = None      # core.gemini translator, or None when Gemini is not configured
    query_translator: Any = None    # core.query_translation translator (models.query_translator), or None
    query_vectors: QueryVectors = field(init=False, repr=False)     # search queries' vectors, cached
    missing_models: list = field(default_factory=list)  # core.model_check.Missing: checked when the app starts

    def __post_init__(self) -> None:
        self.query_vectors = QueryVectors(self.embedder)

    def __deepcopy__(self, memo) -> AppContext:
        """One per process (a pool, loaded models): Bolt copies a request's context for lazy listeners, and a
        copy of this must be this."""
        return self


def get_context(request: Request) -> AppContext:
    return request.app.state.ctx


def client_address(request: Request) -> str:
    """The address the request came from (what the wrong-token throttle counts)."""
    return request.client.host if request.client else "unknown"


def request_principal(request: Request, link_token: str | None) -> Principal | None:
    """Who is asking (bearer token, session cookie, or ``link_token``), or None when nothing valid is presented."""
    ctx: AppContext = request.app.state.ctx
    return identify(ctx.db, ctx.config, client_address(request), request.headers.get("authorization"),
                    request.cookies.get(SESSION_COOKIE), link_token)


def require_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, or 401 when a token is configured and none valid is presented."""
    p = request_principal(request, request.query_params.get("t"))
    if p is None:
        raise HTTPException(status_code=401, detail="Authentication required: use the bearer token, log in, "
                                                    "or open a fresh link from Slack (links expire).")
    return p

"""Run a search for a Slack user and turn it into the ephemeral results message."""
from __future__ import annotations

import asyncio
import logging

from bot import blocks
from core.auth import make_edit_url

log = logging.getLogger(__name__)


def actor_of(user_id: str | None) -> str:
    return f"slack:{user_id or 'unknown'}"


def edit_url_for(ctx, user_id: str, video_id: str, segment_id: int) -> str:
    """A signed, expiring editor link for this Slack user (absolute when public_url is known)."""
    return make_edit_url(ctx.config, video_id, segment_id, actor=actor_of(user_id))


def _search(ctx, query: str, offset: int, user_id: str, member: str | None, video: str | None) -> dict:
    from search.service import search_segments

    return search_segments(ctx, query, limit=ctx.config.slack.page_size, offset=offset, member=member, video=video,
                           actor=actor_of(user_id))


async def results_message(ctx, query: str, user_id: str, offset: int = 0, member: str | None = None,
                          video: str | None = None) -> dict:
    """Blocks for one page of results (or the no-results / error message): never raises for a failed search."""
    try:
        data = await asyncio.to_thread(_search, ctx, query, offset, user_id, member, video)
    except Exception:  # noqa: BLE001 - the user gets a message, the log gets the traceback
        log.exception("search for %r failed", query)
        return {"text": "검색 중 오류가 발생했어요 (search failed)",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text":
                            "⚠️ 검색 중 오류가 발생했어요. 잠시 후 다시 시도해 주세요.\n"
                            "The search failed on the server; the administrator can find the details in its log."}}]}
    urls = {r["segment_id"]: edit_url_for(ctx, user_id, r["video_id"], r["segment_id"])
            for r in data.get("results") or []}
    return blocks.search_message(data, urls, offset=offset, filters={"m": member, "vid": video})

"""What the bot reads about one moment outside a search: the segment, in the editor's shape with absolute
links (the clip export finds its file through ``edits.clips.clip_sources``).

Blocking (database) functions: listeners call them through ``asyncio.to_thread``.
"""
from __future__ import annotations

from core.urls import Urls
from edits.operations import get_segment


def load_moment(ctx, segment_id: int) -> dict:
    """The segment (``core.records.EditableSegment``: video_title, start, end, caption, caption_ko, members,
    version…, thumbnail_url absolute when public_url is set). Raises NotFound."""
    return get_segment(ctx.db, int(segment_id), Urls(ctx.config.public_url))

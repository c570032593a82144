"""What the bot reads about one moment outside a search: the segment, in the editor's shape with absolute
links, and its video's file.

Blocking (database) functions: listeners call them through ``asyncio.to_thread``.
"""
from __future__ import annotations

from pathlib import Path

from core.urls import Urls
from db.videos import media_file
from edits.operations import get_segment


def load_moment(ctx, segment_id: int) -> dict:
    """The segment (``core.records.EditableSegment``: video_title, start, end, caption, caption_ko, members,
    version…, thumbnail_url absolute when public_url is set). Raises NotFound."""
    return get_segment(ctx.db, int(segment_id), Urls(ctx.config.public_url))


def video_file(ctx, video_id: str) -> Path:
    """The video's file on disk (confined to the library); NotFound / Forbidden saying why there is none."""
    with ctx.db.connection() as conn:
        return media_file(conn, ctx.config, video_id)

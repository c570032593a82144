"""What the bot reads about one moment outside a search: the segment (via the editor's reader) and its video.

Blocking (database) functions: listeners call them through ``asyncio.to_thread``.
"""
from __future__ import annotations

from pathlib import Path

from editor.operations import NotFound, get_segment


def _video_row(ctx, video_id: str) -> dict:
    with ctx.db.connection() as conn:
        row = conn.execute("SELECT id, title, path FROM videos WHERE id = %s", (video_id,)).fetchone()
    if row is None:
        raise NotFound(f"Video {video_id!r} does not exist (removed from the library?).")
    return row


def load_moment(ctx, segment_id: int) -> dict:
    """The segment in search-result shape (video_title, start, end, caption, caption_ko, members, thumbnail_url
    absolute when public_url is set) plus caption_auto/caption_edited/version. Raises NotFound."""
    seg = get_segment(ctx, int(segment_id))
    video = _video_row(ctx, seg["video_id"])
    thumb = seg.get("thumbnail_url")
    base = (ctx.config.public_url or "").rstrip("/")
    if thumb and base:
        thumb = base + thumb
    return {**seg, "segment_id": seg["id"], "video_title": video["title"], "thumbnail_url": thumb}


def video_file(ctx, video_id: str) -> Path:
    """The video's file on disk; NotFound with the path when it is gone."""
    video = _video_row(ctx, video_id)
    if not video["path"]:
        raise NotFound(f"Video {video_id!r} has no file recorded (imported from legacy data?): there is nothing to cut.")
    path = Path(video["path"]).expanduser()
    if not path.is_absolute():
        lib = ctx.config.library_path
        path = (lib / path) if lib else ctx.config.resolve_path(str(path))
    if not path.is_file():
        raise NotFound(f"The file of video {video_id!r} is missing: {path}. Restore it or re-index the video.")
    return path

"""Files: the video of an id (with HTTP byte ranges, so the player can seek) and segment thumbnails.

Paths come from the database only, never from the URL (``db.videos.playable_file`` serves a video's
browser-playable copy from inside ``data_dir/proxies`` when it has one, else its own file confined to
``library_dir``); thumbnails are served only from inside ``cfg.thumbnails_path``, after resolving links. When there
is nothing a browser can play, the 404's ``detail`` says why: the editor shows it above the player.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from core import urls
from core.auth import Principal
from core.context import AppContext, get_context, require_principal
from core.errors import NotFound
from db.segments import thumbnail_of
from db.videos import inside, playable_file

router = APIRouter(tags=["media"])


@router.get(urls.VIDEO_MEDIA)
def serve_video(video_id: str, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    with ctx.db.connection() as conn:
        path = playable_file(conn, ctx.config, video_id)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get(urls.THUMBNAIL)
def serve_thumbnail(segment_id: int, ctx: AppContext = Depends(get_context)):
    """Public on purpose: Slack fetches thumbnails without credentials. Only files under thumbnails_path."""
    with ctx.db.connection() as conn:
        thumbnail = thumbnail_of(conn, segment_id)
    if not thumbnail or not inside(Path(thumbnail), ctx.config.thumbnails_path):
        raise NotFound(f"Segment {segment_id} has no thumbnail in the thumbnails folder.")
    return FileResponse(Path(thumbnail).resolve(), media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=300"})

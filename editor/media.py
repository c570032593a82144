"""Files: the video of an id (with HTTP byte ranges, so the player can seek) and segment thumbnails.

Paths come from the database only, never from the URL, and are served only from inside the allowed folder
(``cfg.library_path`` for videos when set, ``cfg.thumbnails_path`` for thumbnails), after resolving links.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from core.auth import Principal
from core.context import AppContext, get_context, require_principal

router = APIRouter(tags=["media"])


def inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(folder.resolve())
        return True
    except (OSError, ValueError):
        return False


def video_file(ctx: AppContext, video_id: str) -> Path:
    with ctx.db.connection() as conn:
        row = conn.execute("SELECT path FROM videos WHERE id = %s", (video_id,)).fetchone()
    if row is None:
        raise HTTPException(404, f"Video {video_id!r} does not exist.")
    if not row["path"]:
        raise HTTPException(404, f"Video {video_id!r} has no file (imported from metadata only).")
    path = Path(row["path"])
    library = ctx.config.library_path
    if library is not None and not inside(path, library):
        raise HTTPException(403, f"The file of video {video_id!r} is outside the library folder; it is not served.")
    if not path.is_file():
        raise HTTPException(404, f"The file of video {video_id!r} is missing on disk; re-index it.")
    return path.resolve()


@router.get("/media/videos/{video_id}")
def serve_video(video_id: str, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    path = video_file(ctx, video_id)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/thumbnails/{segment_id}.jpg")
def serve_thumbnail(segment_id: int, ctx: AppContext = Depends(get_context)):
    """Public on purpose: Slack fetches thumbnails without credentials. Only files under thumbnails_path."""
    with ctx.db.connection() as conn:
        row = conn.execute("SELECT thumbnail FROM segments WHERE id = %s", (segment_id,)).fetchone()
    if row is None or not row["thumbnail"]:
        raise HTTPException(404, f"Segment {segment_id} has no thumbnail.")
    path = Path(row["thumbnail"])
    if not inside(path, ctx.config.thumbnails_path):
        raise HTTPException(404, f"Segment {segment_id} has no thumbnail in the thumbnails folder.")
    return FileResponse(path.resolve(), media_type="image/jpeg", headers={"Cache-Control": "public, max-age=300"})

"""Files: the video of an id (with HTTP byte ranges, so the player can seek), segment thumbnails, the timeline's
waveform and filmstrip (``edits.overview``), and several segments of a video joined into one MP4.

Paths come from the database only, never from the URL (``db.videos.playable_file`` serves a video's
browser-playable copy from inside ``data_dir/proxies`` when it has one, else its own file confined to
``library_dir``); thumbnails are served only from inside ``cfg.thumbnails_path``, after resolving links. When there
is nothing a browser can play, the 404's ``detail`` says why: the editor shows it above the player. The waveform
and filmstrip JSON answer 200 with a ``reason`` instead: the timeline still has segments to show.
"""
from __future__ import annotations

import logging
import mimetypes
import re
from pathlib import Path

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, JSONResponse

from core import urls
from core.auth import Principal
from core.context import AppContext, get_context, require_principal
from core.errors import InvalidRequest, MvseError, NotFound
from db.segments import thumbnail_of
from db.videos import inside, playable_file
from edits import overview
from edits.clips import MAX_JOINED_SEGMENTS, download_name, export_segments, export_span

log = logging.getLogger(__name__)
PRIVATE = {"Cache-Control": "private, max-age=3600"}
REVALIDATE = {"Cache-Control": "private, no-cache"}      # same address, new content when the video's file changes

router = APIRouter(tags=["media"])


@router.get(urls.VIDEO_MEDIA)
def serve_video(video_id: str, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    with ctx.db.connection() as conn:
        path = playable_file(conn, ctx.config, video_id)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=PRIVATE)


@router.get(urls.THUMBNAIL)
def serve_thumbnail(segment_id: int, ctx: AppContext = Depends(get_context)):
    """Public on purpose: Slack fetches thumbnails without credentials. Only files under thumbnails_path."""
    with ctx.db.connection() as conn:
        thumbnail = thumbnail_of(conn, segment_id)
    if not thumbnail or not inside(Path(thumbnail), ctx.config.thumbnails_path):
        raise NotFound(f"Segment {segment_id} has no thumbnail in the thumbnails folder.")
    return FileResponse(Path(thumbnail).resolve(), media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=300"})


@router.get(urls.VIDEO_WAVEFORM)
def serve_waveform(video_id: str, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    """``{"step": 0.05, "duration", "peaks": [0..255 per step], "reason": null}``; without audio or media, empty
    peaks and the ``reason``."""
    row, path, reason = overview.playable_source(ctx.db, ctx.config, video_id)
    if path is not None:
        try:
            return FileResponse(overview.waveform_file(ctx.config, video_id, path), media_type="application/json",
                                headers=REVALIDATE)
        except MvseError as err:
            log.warning("waveform of %s: %s", video_id, err.message)
            reason = err.message
    return JSONResponse({"step": overview.STEP_S, "duration": row["duration_s"], "peaks": [], "reason": reason},
                        headers=REVALIDATE)


@router.get(urls.VIDEO_FILMSTRIP)
def serve_filmstrip(video_id: str, ctx: AppContext = Depends(get_context),
                    _: Principal = Depends(require_principal)):
    """``{"url": sprite, "times": [s], "tile_width", "tile_height", "reason": null}``: tile i of the sprite, left
    to right, stands for ``times[i]``; ``{"url": null, "reason"}`` when there is no media to take frames from."""
    _, path, reason = overview.playable_source(ctx.db, ctx.config, video_id)
    if path is not None:
        try:
            strip = overview.filmstrip(ctx.config, video_id, path)
            return JSONResponse({"url": urls.Urls().filmstrip_sprite(video_id, strip["key"]), "times": strip["times"],
                                 "tile_width": strip["tile_width"], "tile_height": strip["tile_height"],
                                 "reason": None}, headers=REVALIDATE)
        except MvseError as err:
            log.warning("filmstrip of %s: %s", video_id, err.message)
            reason = err.message
    return JSONResponse({"url": None, "reason": reason}, headers=REVALIDATE)


@router.get(urls.VIDEO_FILMSTRIP_SPRITE)
def serve_filmstrip_sprite(video_id: str, ctx: AppContext = Depends(get_context),
                           _: Principal = Depends(require_principal)):
    """The filmstrip's JPEG (``?v=`` in its link changes with the source, so it may be cached long)."""
    _, path, reason = overview.playable_source(ctx.db, ctx.config, video_id)
    if path is None:
        raise NotFound(f"Video {video_id!r} has no filmstrip: {reason}")
    try:
        strip = overview.filmstrip(ctx.config, video_id, path)
    except MvseError as err:                      # no picture ffmpeg can read: nothing to show, said as a 404
        raise NotFound(f"Video {video_id!r} has no filmstrip: {err.message}") from None
    return FileResponse(strip["sprite"], media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get(urls.VIDEO_CLIP)
def serve_joined_clip(video_id: str, segments: str = Query("", description="segment ids, e.g. 3,4,7"),
                      start: float | None = Query(None, description="or a span: its start in seconds (a highlight)"),
                      end: float | None = Query(None, description="and its end"),
                      ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    """The segments of this video joined in time order into one MP4 download (H.264/AAC), or the span
    ``start``-``end`` of it (a highlight)."""
    if start is not None or end is not None:
        if start is None or end is None or segments:
            raise InvalidRequest("Ask for either ?segments=3,4,7 or ?start=S&end=E (both), not a mix.")
        path, video = export_span(ctx, video_id, start, end)
        return FileResponse(path, media_type="video/mp4", filename=download_name(video["title"], start, end))
    path, rows = export_segments(ctx, parse_ids(segments), video_id=video_id)
    return FileResponse(path, media_type="video/mp4",
                        filename=download_name(rows[0]["video_title"], rows[0]["start_s"], rows[-1]["end_s"],
                                               parts=len(rows)))


def parse_ids(text: str) -> list[int]:
    """"3,4,7" -> [3, 4, 7]; InvalidRequest naming the fix for anything else."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    if not parts or not all(re.fullmatch(r"[0-9]{1,18}", p) for p in parts):
        raise InvalidRequest(f"?segments= must list segment ids separated by commas, e.g. ?segments=3,4,7 (at most "
                             f"{MAX_JOINED_SEGMENTS}); got {text[:80]!r}.")
    return [int(p) for p in parts]

"""Export clip: cut one segment out of its video with moviepy, under data_dir/clips (reused when already cut). The
same cut for every door: Slack's Export button and the editor's MP4 download (``export_segment``).

The clip and moviepy's audio track are written to ``*.part*`` names beside the target (moviepy would put the
audio in the working directory) and the clip renamed when complete; what a killed export leaves is removed by
the next index run (``indexer.leftovers``).

Source: the video's own file, the source of truth, even when the editor plays a playable copy of it
(``indexer.proxy``); the clip is H.264/AAC MP4 either way. Only when moviepy cannot cut the original (or it is
gone) is the clip cut from the copy."""
from __future__ import annotations

import logging
import re
import uuid
from pathlib import Path

from core.errors import InvalidRequest, first_line
from db.videos import media_file, proxy_file
from edits.operations import get_segment

log = logging.getLogger(__name__)


def clip_path(clips_dir: Path, video_id: str, segment_id: int, start: float, end: float) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", video_id)[:80] or "video"
    return clips_dir / f"{safe}_{segment_id}_{start:.2f}-{end:.2f}.mp4"


def clip_sources(ctx, video_id: str) -> tuple[Path, Path | None]:
    """The file to cut a clip from and the one to fall back on: the video's own file and its playable copy (None
    without one); the copy alone when the original is gone. NotFound / Forbidden saying why when there is neither.
    Blocking (database): run it in a worker thread."""
    with ctx.db.connection() as conn:
        copy = proxy_file(conn, ctx.config, video_id)
        try:
            return media_file(conn, ctx.config, video_id), copy
        except InvalidRequest:
            if copy is None:
                raise
            return copy, None


def cut_clip(source: Path, start: float, end: float, out: Path, fallback: Path | None = None) -> Path:
    """Write [start, end) of ``source`` to ``out`` (H.264 + AAC); from ``fallback`` when cutting ``source`` fails.
    Blocking: run it in a worker thread."""
    if out.is_file() and out.stat().st_size > 0:
        return out
    try:
        return _cut(source, start, end, out)
    except Exception as err:  # noqa: BLE001 - moviepy/ffmpeg errors vary; the fallback gets its chance
        if fallback is None:
            raise
        log.warning("cutting %s failed (%s): cutting its playable copy %s instead", source, first_line(err), fallback)
        return _cut(fallback, start, end, out)


def _cut(source: Path, start: float, end: float, out: Path) -> Path:
    from moviepy import VideoFileClip

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.{uuid.uuid4().hex[:8]}.part.mp4")  # concurrent exports never share a file
    tmp_audio = tmp.with_name(f"{tmp.stem}.audio.m4a")
    with VideoFileClip(str(source)) as clip:
        end = min(float(end), float(clip.duration or end))
        if end <= start:
            raise ValueError(f"segment {start:.2f}-{end:.2f} s lies outside the video ({clip.duration:.2f} s)")
        sub = clip.subclipped(float(start), end)
        try:
            sub.write_videofile(str(tmp), codec="libx264", audio_codec="aac", preset="veryfast", logger=None,
                                temp_audiofile=str(tmp_audio))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            tmp_audio.unlink(missing_ok=True)
            sub.close()
    tmp.replace(out)
    return out


def export_segment(ctx, segment_id: int) -> tuple[Path, dict]:
    """The segment cut as an MP4 (made once, then reused) and the segment. NotFound / Forbidden when the segment or
    its video's file is not there. Blocking: run it in a worker thread."""
    segment = get_segment(ctx.db, segment_id)
    source, fallback = clip_sources(ctx, segment["video_id"])
    out = clip_path(ctx.config.clips_path, segment["video_id"], segment_id, segment["start"], segment["end"])
    return cut_clip(source, segment["start"], segment["end"], out, fallback), segment

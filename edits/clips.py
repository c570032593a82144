"""Export clip: cut one segment out of its video with moviepy, under data_dir/clips (reused when already cut). The
same cut for every door: Slack's Export button and the editor's MP4 download (``export_segment``). The editor can
also join several segments of one video into one MP4, in time order (``export_segments``).

The clip and moviepy's audio track are written to ``*.part*`` names beside the target (moviepy would put the
audio in the working directory) and the clip renamed when complete; what a killed export leaves is removed by
the next index run (``indexer.leftovers``).

Source: the video's own file, the source of truth, even when the editor plays a playable copy of it
(``indexer.proxy``); the clip is H.264/AAC MP4 either way. Only when moviepy cannot cut the original (or it is
gone) is the clip cut from the copy."""
from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

from core.errors import InvalidRequest, MvseError, first_line
from db.videos import get_video, media_file, proxy_file
from edits import overview
from edits.operations import get_segment
from edits.store import load_segments

log = logging.getLogger(__name__)

MAX_JOINED_SEGMENTS = 50
MAX_EXPORT_S = 600.0           # seconds of video one export (segments joined, or a span) may hold: 10 minutes


def clip_path(clips_dir: Path, video_id: str, segment_id: int, start: float, end: float) -> Path:
    return clips_dir / f"{overview.video_tag(video_id)}_{segment_id}_{start:.2f}-{end:.2f}.mp4"


def joined_clip_path(clips_dir: Path, video_id: str, segments: list[dict]) -> Path:
    """The file of several segments joined: their ids (the first ones, when many) and a digest of every id and
    time, so an edited segment makes a new file."""
    ids = "-".join(str(s["id"]) for s in segments)
    if len(ids) > 60:
        ids = f"{ids[:48].rsplit('-', 1)[0]}-and-{len(segments)}"
    spans = ";".join(f"{s['id']}:{s['start_s']:.3f}-{s['end_s']:.3f}" for s in segments)
    return clips_dir / f"{overview.video_tag(video_id)}_{ids}_{hashlib.sha1(spans.encode()).hexdigest()[:12]}.mp4"


def download_name(title: str | None, start: float, end: float, parts: int = 1) -> str:
    """The name a clip is downloaded as: the video's title (letters, digits, - and _; at most 60 characters) and
    the times it spans; ``parts``: how many segments were joined into it, when more than one."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in title or "clip")[:60]
    joined = f"_{parts}_segments" if parts > 1 else ""
    return f"{safe}{joined}_{start:.2f}-{end:.2f}.mp4"


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
    return cut_spans(source, [(start, end)], out, fallback)


def cut_spans(source: Path, spans: list[tuple[float, float]], out: Path, fallback: Path | None = None) -> Path:
    """Write the spans [start, end) of ``source``, one after the other, to ``out`` (H.264 + AAC); from
    ``fallback`` when cutting ``source`` fails. Blocking: run it in a worker thread."""
    if out.is_file() and out.stat().st_size > 0:
        return out
    try:
        return _cut(source, spans, out)
    except Exception as err:  # noqa: BLE001 - moviepy/ffmpeg errors vary; the fallback gets its chance
        if fallback is None:
            raise
        log.warning("cutting %s failed (%s): cutting its playable copy %s instead", source, first_line(err), fallback)
        return _cut(fallback, spans, out)


def _cut(source: Path, spans: list[tuple[float, float]], out: Path) -> Path:
    from moviepy import VideoFileClip, concatenate_videoclips

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.{uuid.uuid4().hex[:8]}.part.mp4")  # concurrent exports never share a file
    tmp_audio = tmp.with_name(f"{tmp.stem}.audio.m4a")
    with VideoFileClip(str(source)) as clip:
        subs = []
        for start, end in spans:
            end = min(float(end), float(clip.duration or end))
            if end <= start:
                raise ValueError(f"segment {start:.2f}-{end:.2f} s lies outside the video ({clip.duration:.2f} s)")
            subs.append(clip.subclipped(float(start), end))
        joined = subs[0] if len(subs) == 1 else concatenate_videoclips(subs)
        try:
            joined.write_videofile(str(tmp), codec="libx264", audio_codec="aac", preset="veryfast", logger=None,
                                   temp_audiofile=str(tmp_audio))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            tmp_audio.unlink(missing_ok=True)
            for part in {id(c): c for c in [joined, *subs]}.values():
                part.close()
    tmp.replace(out)
    return out


def export_segment(ctx, segment_id: int) -> tuple[Path, dict]:
    """The segment cut as an MP4 (made once, then reused) and the segment. NotFound / Forbidden when the segment or
    its video's file is not there. Blocking: run it in a worker thread."""
    segment = get_segment(ctx.db, segment_id)
    source, fallback = clip_sources(ctx, segment["video_id"])
    out = clip_path(ctx.config.clips_path, segment["video_id"], segment_id, segment["start"], segment["end"])
    return cut_clip(source, segment["start"], segment["end"], out, fallback), segment


def export_segments(ctx, segment_ids: list[int], video_id: str | None = None) -> tuple[Path, list[dict]]:
    """Segments of one video joined into one MP4, in time order (made once, then reused), and the segments (rows,
    in that order). InvalidRequest for no ids, too many, or segments of several videos (of another video than
    ``video_id``, when given); NotFound naming the ids that do not exist. Blocking: run it in a worker thread."""
    ids = list(dict.fromkeys(segment_ids))
    if not ids:
        raise InvalidRequest("No segments to export: name them, e.g. ?segments=3,4,7.")
    if len(ids) > MAX_JOINED_SEGMENTS:
        raise InvalidRequest(f"{len(ids)} segments are too many to join into one clip (at most "
                             f"{MAX_JOINED_SEGMENTS}): export them in several parts.")
    with ctx.db.connection() as conn:
        if video_id is not None:
            get_video(conn, video_id)       # NotFound first: the video of the address does not exist
        segments = sorted(load_segments(conn, ids), key=lambda s: (s["start_s"], s["end_s"], s["id"]))
    total = sum(s["end_s"] - s["start_s"] for s in segments)
    if total > MAX_EXPORT_S:
        raise InvalidRequest(f"These segments last {total:.0f} s together, more than one clip may hold "
                             f"({MAX_EXPORT_S:.0f} s): export them in several parts.")
    if video_id is not None and (others := [s["id"] for s in segments if s["video_id"] != video_id]):
        raise InvalidRequest(f"Segment {', '.join(map(str, others))} belongs to another video than {video_id!r}: a "
                             "joined clip is made of one video's segments; export each video's segments separately.")
    videos = sorted({s["video_id"] for s in segments})
    if len(videos) > 1:
        raise InvalidRequest(f"These segments belong to {len(videos)} videos ({', '.join(videos)}): a joined clip is "
                             "made of one video's segments; export each video's segments separately.")
    source, fallback = clip_sources(ctx, segments[0]["video_id"])
    out = joined_clip_path(ctx.config.clips_path, segments[0]["video_id"], segments)
    try:
        return cut_spans(source, [(s["start_s"], s["end_s"]) for s in segments], out, fallback), segments
    except MvseError:
        raise
    except Exception as err:  # noqa: BLE001 - moviepy/ffmpeg errors vary; the person gets one message, the log the rest
        log.exception("joining segments %s failed", ids)
        raise MvseError(f"Joining segments {', '.join(map(str, ids))} into one clip failed ({first_line(err)}).") \
            from err


def export_span(ctx, video_id: str, start: float, end: float) -> tuple[Path, dict]:
    """[start, end) of a video as an MP4 (a highlight: times, not segments), made once then reused, and the video's
    row. InvalidRequest naming the fix for times outside the video or a span over ``MAX_EXPORT_S``; NotFound for an
    unknown video. Blocking: run it in a worker thread."""
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
    duration = float(video.get("duration_s") or 0.0)
    start, end = round(float(start), 2), round(float(end), 2)
    if not (0 <= start < end) or (duration and end > duration + 0.05):
        raise InvalidRequest(f"{start:.2f}-{end:.2f} s is not a span of this video (0-{duration:.2f} s): ask for "
                             "0 <= start < end <= its length.")
    if end - start > MAX_EXPORT_S:
        raise InvalidRequest(f"{end - start:.0f} s is longer than a clip may be ({MAX_EXPORT_S:.0f} s): cut a shorter "
                             "span.")
    source, fallback = clip_sources(ctx, video_id)
    # named by the video (readable prefix + a hash of the whole id) and the version of its file: a re-indexed,
    # changed file or another id that reads alike never gets this clip
    out = ctx.config.clips_path / (f"{overview.video_tag(video_id)}_span_{start:.2f}-{end:.2f}_"
                                   f"{overview.source_key(source)}.mp4")
    try:
        return cut_spans(source, [(start, end)], out, fallback), video
    except MvseError:
        raise
    except Exception as err:  # noqa: BLE001 - moviepy/ffmpeg errors vary; the person gets one message, the log the rest
        log.exception("cutting %s %.2f-%.2f failed", video_id, start, end)
        raise MvseError(f"Cutting {start:.2f}-{end:.2f} s of {video_id!r} failed ({first_line(err)}).") from err

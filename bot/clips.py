"""Export clip: cut one segment out of its video with moviepy, under data_dir/clips (reused when already cut)."""
from __future__ import annotations

import re
import uuid
from pathlib import Path


def clip_path(clips_dir: Path, video_id: str, segment_id: int, start: float, end: float) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", video_id)[:80] or "video"
    return clips_dir / f"{safe}_{segment_id}_{start:.2f}-{end:.2f}.mp4"


def cut_clip(source: Path, start: float, end: float, out: Path) -> Path:
    """Write [start, end) of ``source`` to ``out`` (H.264 + AAC). Blocking: run it in a worker thread."""
    if out.is_file() and out.stat().st_size > 0:
        return out
    from moviepy import VideoFileClip

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.{uuid.uuid4().hex[:8]}.part.mp4")  # concurrent exports never share a file
    with VideoFileClip(str(source)) as clip:
        end = min(float(end), float(clip.duration or end))
        if end <= start:
            raise ValueError(f"segment {start:.2f}-{end:.2f} s lies outside the video ({clip.duration:.2f} s)")
        sub = clip.subclipped(float(start), end)
        try:
            sub.write_videofile(str(tmp), codec="libx264", audio_codec="aac", preset="veryfast", logger=None)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        finally:
            sub.close()
    tmp.replace(out)
    return out

"""Stage 1, probe: duration, frame rate and size of a video, read from ``ffmpeg -i`` (no ffprobe is bundled)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Protocol

from core.ffmpeg import VideoInfo, ffmpeg_exe, parse_ffmpeg_banner
from indexer.errors import VideoError

__all__ = ["FfmpegProber", "Prober", "VideoInfo", "ffmpeg_exe", "parse_ffmpeg_banner"]

class Prober(Protocol):
    def probe(self, path: Path) -> VideoInfo: ...


class FfmpegProber:
    def probe(self, path: Path) -> VideoInfo:
        try:
            proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                                  capture_output=True, text=True, errors="replace", timeout=60)
        except subprocess.TimeoutExpired:
            raise VideoError(f"{path}: ffmpeg took more than 60 s to read the header") from None
        info = parse_ffmpeg_banner(proc.stderr)
        if info is None:
            last = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            reason = last[-1] if last else "no output"
            raise VideoError(f"{path}: not a readable video ({reason})")
        if info.duration_s <= 0:
            raise VideoError(f"{path}: the video has no duration")
        return info

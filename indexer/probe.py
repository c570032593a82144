"""Stage 1, probe: duration, frame rate and size of a video, read from ``ffmpeg -i`` (no ffprobe is bundled)."""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from indexer.errors import VideoError

_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (?P<rest>.*)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees|rotate\s*:\s*(-?\d+)")
_FPS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:fps|tbr)\b")


@dataclass(frozen=True)
class VideoInfo:
    """What the indexer needs to know of a video file before decoding it (size as displayed, after rotation)."""
    duration_s: float
    fps: float
    width: int
    height: int


class Prober(Protocol):
    def probe(self, path: Path) -> VideoInfo: ...


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def parse_ffmpeg_banner(text: str) -> VideoInfo | None:
    """Duration, fps and size from the stream listing ``ffmpeg -i FILE`` prints; None without a video stream."""
    d = _DURATION.search(text)
    v = _VIDEO.search(text)
    if not d or not v:
        return None
    rest = v.group("rest")
    size = _SIZE.search(rest)
    fps = _FPS.search(rest)
    if not size:
        return None
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
    width, height = int(size.group(1)), int(size.group(2))
    rot = _ROTATION.search(text[v.start():])
    if rot and round(abs(float(rot.group(1) or rot.group(2)))) % 180 == 90:
        width, height = height, width  # ffmpeg auto-rotates when decoding: frames come out upright
    return VideoInfo(duration_s=duration, fps=float(fps.group(1)) if fps else 25.0, width=width, height=height)


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

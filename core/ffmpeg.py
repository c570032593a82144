"""ffmpeg, the one media tool every layer uses: where its executable is (the one imageio-ffmpeg bundles; no ffprobe
is bundled) and what its stream listing (``ffmpeg -i FILE``) says of a video."""
from __future__ import annotations

import re
from dataclasses import dataclass

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

"""Stage 3, frames: the video is decoded ONCE, by one ffmpeg pass at a fixed low rate and width.

Frames stream out in time order; the pipeline groups them by segment and picks caption frames, face
frames and the thumbnail frame from each group, so no frame is decoded twice and memory stays bounded.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from indexer.errors import VideoError
from indexer.probe import VideoInfo, ffmpeg_exe

DECODE_WIDTH = 640  # enough for face detection at det_size 640 and for thumbnails


@dataclass
class Frame:
    t: float
    rgb: np.ndarray  # H x W x 3 uint8


class FrameSource(Protocol):
    fps: float

    def frames(self, path: Path, info: VideoInfo) -> Iterator[Frame]: ...


def decode_size(info: VideoInfo, max_width: int = DECODE_WIDTH) -> tuple[int, int]:
    w = min(info.width, max_width)
    h = int(round(info.height * w / info.width / 2)) * 2
    return w - (w % 2), max(2, h)


def ffmpeg_decode_command(path: Path, fps: float, width: int, height: int) -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-an", "-sn",
            "-vf", f"fps={fps}:start_time=0:round=up,scale={width}:{height}", "-pix_fmt", "rgb24",
            "-f", "rawvideo", "pipe:1"]


class FfmpegFrames:
    def __init__(self, fps: float = 2.0, max_width: int = DECODE_WIDTH):
        self.fps = fps
        self.max_width = max_width

    def frames(self, path: Path, info: VideoInfo) -> Iterator[Frame]:
        w, h = decode_size(info, self.max_width)
        size = w * h * 3
        proc = subprocess.Popen(ffmpeg_decode_command(path, self.fps, w, h), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        count = 0
        try:
            while True:
                buf = proc.stdout.read(size)
                if len(buf) < size:
                    break
                yield Frame(t=count / self.fps, rgb=np.frombuffer(buf, np.uint8).reshape(h, w, 3))
                count += 1
        finally:
            proc.stdout.close()
            err = proc.stderr.read().decode(errors="replace").strip()
            proc.stderr.close()
            code = proc.wait()
        if count == 0:
            raise VideoError(f"{path}: ffmpeg decoded no frames ({err.splitlines()[-1] if err else f'exit {code}'})")


def pick_evenly(items: list, n: int) -> list:
    """n items spread evenly over the list (repeating when it is shorter)."""
    if not items:
        return []
    idx = np.linspace(0, len(items) - 1, num=n) if n > 1 else [(len(items) - 1) / 2]
    return [items[int(round(i))] for i in idx]

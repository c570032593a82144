"""Stage 2, segments: shot cuts from PySceneDetect, then shots capped at ``segment_max_s`` and slivers merged."""
from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from typing import Protocol

from indexer.errors import VideoError


class ShotDetector(Protocol):
    def cuts(self, path: Path) -> list[float]:
        """Times (seconds) where a new shot starts, excluding 0."""


class SceneDetectShots:
    """PySceneDetect's ContentDetector (HSV difference between consecutive frames)."""

    def __init__(self, threshold: float = 27.0, min_scene_s: float = 0.5):
        self.threshold = threshold
        self.min_scene_s = min_scene_s

    def cuts(self, path: Path) -> list[float]:
        import logging

        from scenedetect import ContentDetector, detect

        logging.getLogger("pyscenedetect").setLevel(logging.WARNING)

        try:
            scenes = detect(str(path), ContentDetector(threshold=self.threshold, min_scene_len=f"{self.min_scene_s}s"),
                            show_progress=False)
        except Exception as err:  # noqa: BLE001 - any decoder failure is this video's failure
            raise VideoError(f"{path}: shot detection failed ({type(err).__name__}: {err})") from err
        return [float(start.seconds) for start, _ in scenes[1:]]


def plan_segments(duration: float, cuts: list[float], max_s: float, min_s: float) -> list[tuple[float, float]]:
    """Non-overlapping [start, end) spans covering the video: shots split to <= max_s, slivers < min_s merged.

    A merged sliver can make its neighbour up to ``max_s + min_s`` long; that is preferred over a cut
    in the middle of a shot.
    """
    bounds = [0.0] + sorted(c for c in set(round(c, 3) for c in cuts) if 0 < c < duration) + [duration]
    spans: list[list[float]] = []
    for a, b in pairwise(bounds):
        n = max(1, math.ceil((b - a) / max_s - 1e-9))
        step = (b - a) / n
        spans.extend([a + i * step, a + (i + 1) * step] for i in range(n))
    merged: list[list[float]] = []
    for span in spans:
        if merged and (span[1] - span[0] < min_s or merged[-1][1] - merged[-1][0] < min_s):
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    if len(merged) > 1 and merged[-1][1] - merged[-1][0] < min_s:
        last = merged.pop()
        merged[-1][1] = last[1]
    return [(round(a, 3), round(b, 3)) for a, b in merged]

"""Stage 7, preview: one JPEG per segment, ``<thumbnails>/<video_id>/<segment_id>.jpg``.

Written to ``<segment_id>.jpg.part`` beside it and renamed, so a reader never sees half a JPEG; a ``.part`` left
by a killed run, and the file of a segment that no longer exists, are removed by ``indexer.leftovers``."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def encode_thumbnail(rgb: np.ndarray, width: int) -> bytes:
    img = Image.fromarray(rgb)
    if img.width > width:
        img = img.resize((width, max(1, round(img.height * width / img.width))), Image.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def thumbnail_path(root: Path, video_id: str, segment_id: int) -> Path:
    return root / video_id / f"{segment_id}.jpg"


def write_thumbnail(root: Path, video_id: str, segment_id: int, data: bytes) -> Path:
    path = thumbnail_path(root, video_id, segment_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jpg.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except BaseException:       # a full disk, a stop signal: no .part is left behind
        tmp.unlink(missing_ok=True)
        raise
    return path

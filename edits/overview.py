"""The editor timeline's media: a video's audio waveform and its filmstrip, made with ffmpeg on first request and
kept under ``data_dir/overview``.

Both are made from the file the player plays (``db.videos.playable_file``), so what the timeline draws lines up
with what the player shows.

- **Waveform**: ffmpeg decodes the first audio track to mono 8 kHz 16-bit samples on a pipe, read in chunks (two
  hours are 115 MB of samples: never in memory at once); each ``STEP_S`` bucket keeps its peak absolute amplitude,
  scaled 0..255 to the loudest bucket. The scale has a floor (-40 dBFS): a near-silent track stays near zero
  instead of drawing its hiss at full height.
- **Filmstrip**: ``filmstrip_tiles(duration)`` frames, frame i standing for time (i + 0.5) * duration / n, each
  ``TILE_HEIGHT`` px high, side by side in one JPEG. A short video (``DECODE_ALL_PIXELS``: about a minute of 720p)
  is decoded once and the first frame at or after each time kept. A longer one is never decoded as a whole: ffmpeg
  seeks to each time and decodes only the keyframe at or before it (``-skip_frame nokey``), ``SEEK_BATCH`` seeks
  per ffmpeg run, runs in parallel; the cost grows with the number of tiles, hardly with the length (measured on 2
  cores: 30 min, 2 h of 360p and 10 min of 1080p in 2-5 s). With keyframes further apart than the tiles,
  neighbouring tiles show the same keyframe.

Cache: files named by the video id and a key of the source (path, size, modification time), so a changed source
is made again and its old files removed. Each file is written to a ``*.part`` name and renamed when complete; one
lock per video and kind in this process makes concurrent requests wait for one computation, and two processes at
worst compute the same thing twice, each renaming a complete file into place.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import subprocess
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.config import Config, usable_cpus
from core.errors import Forbidden, MvseError, NotFound
from core.ffmpeg import ffmpeg_exe, parse_ffmpeg_banner
from db.videos import get_video, playable_file

log = logging.getLogger(__name__)

FORMAT = 1                      # part of the cache key: bump when what is computed changes
STEP_S = 0.05                   # one waveform peak per 50 ms
SAMPLE_RATE = 8000
SAMPLES_PER_STEP = round(STEP_S * SAMPLE_RATE)
CHUNK_STEPS = 2000              # read 100 s of samples (1.6 MB) at a time
PEAK_FLOOR = 328                # -40 dBFS of a 16-bit sample: the least "loudest bucket" the scale uses
MAX_TILES = 120
TILE_HEIGHT = 54
DECODE_ALL_PIXELS = 60 * 30 * 1280 * 720    # decode the whole video when it is at most about a minute of 720p
SEEK_BATCH = 8                  # seeks per ffmpeg run: each input holds the file's index (~25 MB for 2 h of MP4)
JPEG_QUALITY = 80

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Probe:
    """What ffmpeg says of the source file (``duration_s`` and size None without a video stream)."""
    duration_s: float | None
    fps: float | None
    width: int | None
    height: int | None
    has_audio: bool


def playable_source(db, cfg: Config, video_id: str) -> tuple[dict, Path | None, str | None]:
    """The video's row, its playable file and, when there is none, why. NotFound only when the video does not
    exist: a video without media still has a timeline, with the reason shown."""
    with db.connection() as conn:
        row = get_video(conn, video_id)
        try:
            return row, playable_file(conn, cfg, video_id), None
        except (NotFound, Forbidden) as err:
            return row, None, err.message


def filmstrip_tiles(duration_s: float) -> int:
    return min(MAX_TILES, max(1, math.ceil(duration_s / 2)))


def source_key(path: Path) -> str:
    """Changes when the file does (another path, size or modification time) or what is made of it (``FORMAT``).
    NotFound when the file went away meanwhile."""
    try:
        stat = path.stat()
    except OSError as err:
        raise NotFound(f"The video's file {path.name} cannot be read ({err.strerror or err}).") from None
    return hashlib.sha1(f"{FORMAT}\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def probe(path: Path) -> Probe:
    try:
        banner = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                                text=True, errors="replace", timeout=60).stderr
    except subprocess.TimeoutExpired:
        banner = ""
    info = parse_ffmpeg_banner(banner)
    return Probe(duration_s=info.duration_s if info else None, fps=info.fps if info else None,
                 width=info.width if info else None, height=info.height if info else None,
                 has_audio=re.search(r"Stream #\S+.*?: Audio:", banner) is not None)


# ---------------------------------------------------------------- cache files
def video_tag(video_id: str) -> str:
    """The file-name prefix of a video's files: readable, and unique through a hash of the whole id."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", video_id)[:60] or "video"
    return f"{safe}-{hashlib.sha1(video_id.encode()).hexdigest()[:8]}"


def _cache_file(cfg: Config, video_id: str, kind: str, key: str, ext: str) -> Path:
    return cfg.overview_path / f"{video_tag(video_id)}.{kind}-{key}.{ext}"


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_files(cfg: Config, video_id: str) -> int:
    """Delete every timeline file of a video (when it leaves the library); returns how many."""
    if not cfg.overview_path.is_dir():
        return 0
    files = [f for f in cfg.overview_path.glob(f"{video_tag(video_id)}.*") if ".part" not in f.name]
    for f in files:
        f.unlink(missing_ok=True)
    return len(files)


def _drop_older(cfg: Config, video_id: str, kind: str, keep: set[Path]) -> None:
    """Remove this video's files of this kind but ``keep`` (made from an earlier version of its source); temporary
    files are left to their writers."""
    for old in cfg.overview_path.glob(f"{video_tag(video_id)}.{kind}-*"):
        if old not in keep and ".part" not in old.name:
            old.unlink(missing_ok=True)


# ---------------------------------------------------------------- waveform
def waveform_file(cfg: Config, video_id: str, path: Path) -> Path:
    """The waveform of ``path`` as a JSON file ``{"step", "duration", "peaks", "reason"}``, made once per version of
    the file; ``reason`` says why ``peaks`` is empty (no audio track). MvseError when ffmpeg cannot decode the
    audio (not kept: the next request tries again). Blocking: run it in a worker thread."""
    out = _cache_file(cfg, video_id, "waveform", source_key(path), "json")
    with _lock(f"{video_id}\0waveform"):
        if not out.is_file():
            info = probe(path)
            if info.has_audio:
                peaks, decoded_s = _audio_peaks(path, info.duration_s)
                reason = None
            else:
                peaks, decoded_s, reason = np.zeros(0, np.uint8), 0.0, "the video has no audio track"
            doc = {"step": STEP_S, "duration": info.duration_s or decoded_s, "peaks": peaks.tolist(),
                   "reason": reason}
            _write_atomic(out, json.dumps(doc, separators=(",", ":")).encode())
            _drop_older(cfg, video_id, "waveform", {out})
    return out


def _audio_peaks(path: Path, duration_s: float | None) -> tuple[np.ndarray, float]:
    """Peak per ``STEP_S`` of the first audio track, scaled 0..255 (uint8), and the seconds decoded."""
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
           "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    chunk_bytes = CHUNK_STEPS * SAMPLES_PER_STEP * 2
    parts: list[np.ndarray] = []
    samples = 0
    with tempfile.TemporaryFile() as errors, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors) as proc:
        watchdog = threading.Timer(120 + (duration_s or 0) / 10, proc.kill)    # 2 h: 14 min (it takes ~10 s)
        watchdog.start()
        try:
            while chunk := proc.stdout.read(chunk_bytes):
                pcm = np.frombuffer(chunk, dtype="<i2", count=len(chunk) // 2).astype(np.int32)
                samples += len(pcm)
                full = len(pcm) - len(pcm) % SAMPLES_PER_STEP
                parts.append(np.abs(pcm[:full]).reshape(-1, SAMPLES_PER_STEP).max(axis=1))
                if full < len(pcm):                                 # the last, partial bucket
                    parts.append(np.abs(pcm[full:]).max(keepdims=True))
            rc = proc.wait()
        finally:
            watchdog.cancel()
        if rc != 0:
            errors.seek(0)
            lines = [ln for ln in errors.read().decode(errors="replace").splitlines() if ln.strip()]
            raise MvseError(f"ffmpeg could not decode the audio of {path.name} (exit code {rc}: "
                            f"{lines[-1] if lines else 'killed or no output'}).")
    peaks = np.concatenate(parts) if parts else np.zeros(0, np.int32)
    loudest = max(int(peaks.max(initial=0)), PEAK_FLOOR)
    return np.clip(np.rint(peaks * (255 / loudest)), 0, 255).astype(np.uint8), samples / SAMPLE_RATE


# ---------------------------------------------------------------- filmstrip
def filmstrip(cfg: Config, video_id: str, path: Path) -> dict:
    """The filmstrip of ``path``: ``{"sprite": Path, "key", "times", "tile_width", "tile_height"}``, made once per
    version of the file (``key``). MvseError when ffmpeg reads no picture of it (not kept). Blocking: run it in a
    worker thread."""
    key = source_key(path)
    sprite = _cache_file(cfg, video_id, "filmstrip", key, "jpg")
    meta = sprite.with_suffix(".json")
    with _lock(f"{video_id}\0filmstrip"):
        if not (meta.is_file() and sprite.is_file()):
            doc = _make_filmstrip(path, probe(path), sprite)
            _write_atomic(meta, json.dumps(doc).encode())       # written last: its presence means both are whole
            _drop_older(cfg, video_id, "filmstrip", {sprite, meta})
        doc = json.loads(meta.read_text())
    return {"sprite": sprite, "key": key, **doc}


def _make_filmstrip(path: Path, info: Probe, sprite: Path) -> dict:
    if not info.duration_s or not info.width or not info.height:
        raise MvseError(f"ffmpeg finds no video stream with a duration in {path.name}: there is no filmstrip.")
    n = filmstrip_tiles(info.duration_s)
    step = info.duration_s / n
    times = [round((i + 0.5) * step, 3) for i in range(n)]
    width = max(2, round(TILE_HEIGHT * info.width / info.height / 2) * 2)
    if info.duration_s * (info.fps or 30) * info.width * info.height <= DECODE_ALL_PIXELS:
        tiles = _frames_decoding_all(path, step, n, width)
    else:
        batches = [times[i:i + SEEK_BATCH] for i in range(0, n, SEEK_BATCH)]
        with ThreadPoolExecutor(max_workers=min(len(batches), usable_cpus())) as pool:
            tiles = [t for batch in pool.map(lambda b: _keyframes(path, b, width), batches) for t in batch]
    if all(t is None for t in tiles):
        raise MvseError(f"ffmpeg could not read any frame of {path.name} for the filmstrip.")
    black = np.zeros((TILE_HEIGHT, width, 3), np.uint8)
    image = np.concatenate([black if t is None else t for t in tiles], axis=1)
    from PIL import Image

    sprite.parent.mkdir(parents=True, exist_ok=True)
    tmp = sprite.with_name(f"{sprite.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        Image.fromarray(image).save(tmp, "JPEG", quality=JPEG_QUALITY)
        tmp.replace(sprite)
    finally:
        tmp.unlink(missing_ok=True)
    return {"times": times, "tile_width": width, "tile_height": TILE_HEIGHT}


def _rgb_frames(cmd: list[str], width: int, count: int, timeout_s: float) -> np.ndarray | None:
    """ffmpeg's raw RGB output as an array (frames, TILE_HEIGHT, width, 3); None when it failed or gave nothing."""
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        log.warning("ffmpeg took more than %.0f s for a filmstrip: %s", timeout_s, " ".join(cmd[-12:]))
        return None
    frame = TILE_HEIGHT * width * 3
    got = len(proc.stdout) // frame
    if proc.returncode != 0 or got == 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        log.warning("ffmpeg made no filmstrip frame (exit code %s): %s", proc.returncode,
                    lines[-1][:200] if lines else "no output")
        return None
    return np.frombuffer(proc.stdout[:got * frame], np.uint8).reshape(got, TILE_HEIGHT, width, 3)[:count]


def _frames_decoding_all(path: Path, step: float, n: int, width: int) -> list[np.ndarray | None]:
    """Decode the whole (short) video once, keeping the first frame at or after each tile's time."""
    pick = f"select='gte(t,(selected_n+0.5)*{step:.6f})',scale={width}:{TILE_HEIGHT},setsar=1"
    frames = _rgb_frames([ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-an", "-sn", "-dn",
                          "-vf", pick, "-frames:v", str(n), "-fps_mode", "passthrough", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], width, n, timeout_s=300)
    got = [] if frames is None else list(frames)
    return got + [None] * (n - len(got))


def _keyframes(path: Path, times: list[float], width: int) -> list[np.ndarray | None]:
    """For each time, the keyframe at or before it, from one ffmpeg run seeking once per time (an input each,
    side by side in one output frame); one run per time when that fails, a missing frame None."""
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin"]
    for t in times:
        cmd += ["-threads", "1", "-noaccurate_seek", "-skip_frame", "nokey", "-an", "-sn", "-dn", "-ss", f"{t:.3f}",
                "-i", str(path)]
    chains = [f"[{i}:v]setpts=0,scale={width}:{TILE_HEIGHT},setsar=1" for i in range(len(times))]
    if len(times) == 1:
        graph = chains[0] + "[out]"
    else:
        graph = (";".join(f"{c}[v{i}]" for i, c in enumerate(chains)) + ";"
                 + "".join(f"[v{i}]" for i in range(len(times))) + f"hstack=inputs={len(times)}[out]")
    cmd += ["-filter_complex", graph, "-map", "[out]", "-frames:v", "1", "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    row = _rgb_frames(cmd, width * len(times), 1, timeout_s=60 + 5 * len(times))
    if row is not None:
        return list(row[0].reshape(TILE_HEIGHT, len(times), width, 3).transpose(1, 0, 2, 3))
    if len(times) == 1:
        return [None]
    return [tile for t in times for tile in _keyframes(path, [t], width)]

"""Media that plays: a browser-playable copy ("proxy") of a video whose own file browsers cannot play.

Chromium shows a black player for HEVC, Matroska, AVI, MPEG-2 and the like (DEMUXER_ERROR_NO_SUPPORTED_STREAMS).
At index time such a file gets an H.264/AAC MP4 copy, ``data_dir/proxies/<video_id>.mp4``, which the editor plays;
clips are still cut from the original, which stays the source of truth (``db.videos``: ``playable_file`` /
``media_file``). The copy is written to ``<video_id>.mp4.<random>.part`` beside it and renamed when complete.

THE RULE (this module is the one place that decides, conservatively: in doubt, make a copy). A file plays as it
is when ffmpeg reads it as one of

    container (ffmpeg demuxer, file extension)     video codecs        audio codecs (or no audio)
    mov/mp4 demuxer, .mp4 or .m4v                  h264, vp9, av1      aac, mp3, opus
    matroska/webm demuxer, .webm                   vp8, vp9, av1       opus, vorbis

with 8-bit 4:2:0 pixels (yuv420p / yuvj420p) in every video stream. Anything else gets a copy: HEVC (Chromium
decodes it only with hardware help), .mkv and .mov (even with H.264 inside: the .mov/.mkv extensions and their
MIME types are not guaranteed), AVI, MPEG-2/TS, 10-bit or 4:2:2 H.264, AC-3 audio, a file whose streams cannot
be read from ffmpeg's listing.

The copy: H.264 High (libx264 ``veryfast``, CRF ``indexer.proxy_crf``, yuv420p, at most
``indexer.proxy_max_height`` lines, video bitrate capped at ``MAX_VIDEO_KBPS``), AAC 128 kb/s stereo, ``+faststart``
(the player starts before the whole file arrives). It carries a stamp (MP4 ``comment``) naming the source's size
and modification time and the settings: a re-index of an unchanged source reuses it. Making it can fail (a disk
full, a stream ffmpeg cannot decode); the video is indexed all the same (its segments are useful) with the reason
recorded, and the editor says there is no playable media and why.
"""
from __future__ import annotations

import logging
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import first_line
from indexer import shutdown
from indexer.leftovers import remove_stale_parts
from indexer.probe import ffmpeg_exe

log = logging.getLogger(__name__)

MP4_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
WEBM_DEMUXER = "matroska,webm"
# (demuxer, extensions) → (video codecs, audio codecs) that browsers play: see THE RULE above.
PLAYABLE = {
    (MP4_DEMUXER, (".mp4", ".m4v")): ({"h264", "vp9", "av1"}, {"aac", "mp3", "opus"}),
    (WEBM_DEMUXER, (".webm",)): ({"vp8", "vp9", "av1"}, {"opus", "vorbis"}),
}
PLAYABLE_PIXELS = {"yuv420p", "yuvj420p"}
STAMP_VERSION = "mvse-proxy/1"
MAX_VIDEO_KBPS = 4000                # a cap over CRF for busy scenes: ~1.8 GB per hour of video at most
AUDIO_KBPS = 128
POLL_S = 0.5                         # how often a running encode looks for a stop signal

_INPUT = re.compile(r"^Input #0, (?P<demuxer>[^,]+(?:,[^,\s]+)*), from ", re.M)
_STREAM = re.compile(r"^\s*Stream #0:\d+\S*: (?P<kind>Video|Audio): (?P<codec>[\w-]+)(?P<rest>.*)$", re.M)
_PIXELS = re.compile(r",\s*(?P<pix>(?:yuvj?|gbr|rgb|bgr|gray|nv|p0|pal|monow?|ya|argb|rgba|bgra|abgr)\w*)")
_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_COMMENT = re.compile(r"^\s+comment\s*:\s*(?P<text>.*?)\s*$", re.M)


@dataclass
class MediaInfo:
    """What ffmpeg's listing says about a file's container and streams (attached pictures left out)."""
    demuxer: str
    suffix: str
    video: list[tuple[str, str]] = field(default_factory=list)     # (codec, pixel format or "")
    audio: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    comment: str | None = None


def parse_media(text: str, suffix: str) -> MediaInfo | None:
    """The container and streams from what ``ffmpeg -i FILE`` prints; None when it names no input."""
    found = _INPUT.search(text)
    if not found:
        return None
    info = MediaInfo(demuxer=found.group("demuxer"), suffix=suffix.lower())
    for s in _STREAM.finditer(text):
        if "(attached pic)" in s.group("rest"):
            continue
        if s.group("kind") == "Video":
            pix = _PIXELS.search(s.group("rest"))
            info.video.append((s.group("codec"), pix.group("pix") if pix else ""))
        else:
            info.audio.append(s.group("codec"))
    d = _DURATION.search(text)
    if d:
        info.duration_s = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
    comment = _COMMENT.search(text[found.start():text.find("Stream #", found.start())])
    info.comment = comment.group("text") if comment else None
    return info


def read_media(path: Path) -> MediaInfo | None:
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                              text=True, errors="replace", timeout=60)
    except subprocess.TimeoutExpired:
        return None
    return parse_media(proc.stderr, path.suffix)


def unplayable_reason(info: MediaInfo | None) -> str | None:
    """None when browsers play the file as it is (THE RULE above); else what they cannot play, in words."""
    if info is None:
        return "streams that ffmpeg's listing does not name"
    if not info.video:
        return "no video stream"
    allowed = next((codecs for (demuxer, suffixes), codecs in PLAYABLE.items()
                    if info.demuxer == demuxer and info.suffix in suffixes), None)
    problems = []
    if allowed is None:         # the container alone needs a copy; name the streams no container would save
        problems.append(f"the {info.suffix or info.demuxer} container")
        allowed = (set().union(*(v for v, _ in PLAYABLE.values())), set().union(*(a for _, a in PLAYABLE.values())))
    video_ok, audio_ok = allowed
    problems += [f"{codec.upper()} video" for codec in dict.fromkeys(c for c, _ in info.video) if codec not in video_ok]
    problems += [f"{pix} pixels" for pix in dict.fromkeys(p for _, p in info.video) if pix not in PLAYABLE_PIXELS]
    problems += [f"{codec.upper()} audio" for codec in dict.fromkeys(info.audio) if codec not in audio_ok]
    return ", ".join(problems) or None


def proxy_target(cfg, video_id: str) -> Path:
    return cfg.proxies_path / f"{video_id}.mp4"


def source_stamp(cfg, source: Path) -> str:
    """Names the source file's version and the copy's settings: a copy with another stamp is remade."""
    st = source.stat()
    return (f"{STAMP_VERSION} source={st.st_size}:{st.st_mtime_ns} height={cfg.indexer.proxy_max_height} "
            f"crf={cfg.indexer.proxy_crf}")


def is_current(proxy: Path, stamp: str) -> bool:
    """``proxy`` is a complete copy made with ``stamp`` that browsers play."""
    if not proxy.is_file() or proxy.stat().st_size == 0:
        return False
    info = read_media(proxy)
    return info is not None and info.comment == stamp and unplayable_reason(info) is None and info.duration_s > 0


def encode_command(cfg, source: Path, out: Path, stamp: str) -> list[str]:
    cap = cfg.indexer.proxy_max_height
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(source),
            "-map", "0:V:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
            "-vf", f"scale=-2:'min({cap},trunc(ih/2)*2)',format=yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", str(cfg.indexer.proxy_crf), "-profile:v", "high",
            "-maxrate", f"{MAX_VIDEO_KBPS}k", "-bufsize", f"{2 * MAX_VIDEO_KBPS}k",
            "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2",
            "-movflags", "+faststart", "-metadata", f"comment={stamp}", "-f", "mp4", str(out)]


def make_proxy(cfg, source: Path, out: Path, stamp: str, duration_s: float) -> None:
    """Encode ``source`` into ``out`` through a ``.part`` file. Stops (and removes the part) on a stop signal;
    raises RuntimeError with ffmpeg's last words when it fails."""
    shutdown.check()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out.parent)        # what killed runs left of copies (a live writer's part is kept)
    tmp = out.with_name(f"{out.name}.{uuid.uuid4().hex[:8]}.part")
    deadline = time.monotonic() + 300 + 5 * max(duration_s, 0.0)   # far beyond veryfast's pace: a hung ffmpeg
    proc = subprocess.Popen(encode_command(cfg, source, tmp, stamp), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            try:
                _, err = proc.communicate(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                shutdown.check()
                if time.monotonic() > deadline:
                    raise RuntimeError("ffmpeg took too long and was stopped") from None
        if proc.returncode != 0:
            last = [ln.strip() for ln in err.decode(errors="replace").splitlines() if ln.strip()]
            raise RuntimeError(f"ffmpeg exited with {proc.returncode}: {last[-1] if last else 'no message'}")
        tmp.replace(out)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        tmp.unlink(missing_ok=True)
        raise


def playable_media(cfg, source: Path, video_id: str, info: MediaInfo | None) -> dict:
    """The video's ``proxy_path`` and ``proxy_error`` columns after making sure it has media browsers play: no
    copy when its own file plays; a copy (reused when current) when it does not; the reason when making the copy
    failed. ``info``: the source's ``read_media``. Never raises for a bad file (only ``shutdown.Stopped`` goes
    through)."""
    target = proxy_target(cfg, video_id)
    reason = unplayable_reason(info)
    if reason is None:
        try:
            target.unlink(missing_ok=True)  # the source became playable: an old copy is of no use
        except OSError as err:
            log.warning("could not remove the playable copy %s, no longer needed (%s)", target, err)
        return {"proxy_path": None, "proxy_error": None}
    if not cfg.indexer.proxies:
        return {"proxy_path": None, "proxy_error": f"browsers do not play its file ({reason}), and playable "
                                                   "copies are turned off (indexer.proxies in the config)."}
    try:
        stamp = source_stamp(cfg, source)
        if is_current(target, stamp):
            return {"proxy_path": str(target), "proxy_error": None}
        t0 = time.perf_counter()
        make_proxy(cfg, source, target, stamp, info.duration_s if info else 0.0)
        log.info("made a playable copy of %s (%s) in %.1f s: %s", source, reason, time.perf_counter() - t0, target)
        return {"proxy_path": str(target), "proxy_error": None}
    except Exception as err:  # noqa: BLE001 - the video's segments are still worth indexing; the reason is kept
        why = f"browsers do not play its file ({reason}), and making a playable copy failed ({first_line(err)})."
        log.warning("%s: %s Fix the cause and re-index it with --force.", source, why)
        return {"proxy_path": None, "proxy_error": why}

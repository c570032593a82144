"""Highlights: a video's best moments as ready-to-cut clips, from what viewers point to and what is said and seen.

Two signals, each a list of moments (a peak time, a span, a weight, evidence):
- **viewer comments** with timestamps (``db.comments.comment_moments``: mentions within a few seconds grouped,
  weighted by likes, a comment's weight spread over its own stamps), when the video has comments
  (``python -m indexer comments``);
- **what is said and seen** (``search.summary.key_moments``: Gemini's map-reduce summary of the captions and
  transcript, or the offline extractive fallback), always.

Fusion: each signal's weights are scaled to 0..1 by its best moment, comments counting ``COMMENT_WEIGHT`` and the
summary ``SUMMARY_WEIGHT``. Each moment becomes a clip of ``PAD_S`` either side of its peak (a longer commented range
is kept whole, up to ``MAX_CLIP_S``), its ends moved to a shot change within ``SNAP_S`` when there is one, inside
the video. Clips are taken best first; one that overlaps a clip already taken is merged into it (scores add up,
reasons are kept) unless the union would pass ``MAX_CLIP_S``. With a member, only clips where that member is on
screen (a segment tagged with them overlaps the clip) are kept. Each clip names its reasons ("38 comments at 3:15:
'…'", "summary: …", "Danielle on screen") and the segment at its peak (thumbnail, editor link).
"""
from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field

from core.errors import InvalidRequest
from core.records import clock, one_line
from db.members import resolve_members
from db.segments import get_segments, video_segment_ids
from db.videos import get_video

log = logging.getLogger(__name__)

DEFAULT_N = 5
MAX_N = 20
PAD_S = 10.0                 # a clip spans its peak ± 10 s, as the original "hot clips"
MAX_CLIP_S = 60.0            # a commented range is kept whole up to this
MERGED_MAX_S = 40.0          # a clip grows by taking in neighbouring moments up to this
MAX_REASONS = 3              # reasons shown per clip (the strongest first), then who is on screen
SNAP_S = 3.0                 # an end moves to a shot change this close
COMMENT_WEIGHT = 1.0
SUMMARY_WEIGHT = 0.7
SUMMARY_MOMENTS = 2 * MAX_N   # asked of the summary whatever n: its (Gemini) answer is cached once
SAME_SIGNAL = 0.25           # a signal's further moments inside one clip count a quarter
EVIDENCE_CHARS = 80


@dataclass
class Clip:
    """A candidate clip; ``score`` sums its signals: each signal's strongest moment in it at full weight, its
    other moments here at ``SAME_SIGNAL`` of theirs, together at most ``SAME_SIGNAL`` of the strongest (two signals
    agreeing outrank one signal repeating itself)."""
    start_s: float
    end_s: float
    peak_s: float
    score: float
    reasons: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    weights: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.weights:
            self.weights = {source: [self.score] for source in self.sources} or {"": [self.score]}

    def overlaps(self, other: Clip) -> bool:
        return self.start_s < other.end_s and other.start_s < self.end_s

    def absorb(self, other: Clip, stretch: bool = True) -> None:
        """Take in an overlapping moment: its weights and reasons; its span only when its peak lies outside this one
        (a moment inside the clip already is in it) and ``stretch``."""
        if stretch and not self.start_s <= other.peak_s <= self.end_s:
            self.start_s, self.end_s = min(self.start_s, other.start_s), max(self.end_s, other.end_s)
        for source, values in other.weights.items():
            self.weights.setdefault(source, []).extend(values)
        self.score = sum(max(v) * (1 + min(SAME_SIGNAL, SAME_SIGNAL * (sum(v) - max(v)) / max(v)))
                         if max(v) > 0 else 0.0 for v in self.weights.values())
        self.reasons += [r for r in other.reasons if r not in self.reasons]
        self.sources |= other.sources


def _snap(t: float, cuts: list[float], lo: float, hi: float) -> float:
    """The cut nearest ``t`` within SNAP_S and [lo, hi], else ``t`` (``cuts`` sorted)."""
    i = bisect.bisect_left(cuts, t - SNAP_S)
    near = [b for b in cuts[i:bisect.bisect_right(cuts, t + SNAP_S)] if lo <= b <= hi]
    return min(near, key=lambda b: abs(b - t)) if near else t


def _window(peak: float, start: float, end: float, duration: float, shots: list[float]) -> tuple[float, float]:
    """Peak ± PAD_S, widened to the moment's own span (up to MAX_CLIP_S), ends snapped to shot changes."""
    a, b = min(start, peak - PAD_S), max(end, peak + PAD_S)
    if b - a > MAX_CLIP_S:
        a, b = max(a, peak - MAX_CLIP_S / 2), min(b, peak + MAX_CLIP_S / 2)
    a, b = max(0.0, a), min(duration, b) if duration else b
    cuts = sorted({0.0, *shots, *([duration] if duration else [])})     # the video's ends are cuts too
    a = _snap(a, cuts, 0.0, min(peak, b) - 1.0)
    b = _snap(b, cuts, max(peak, a) + 1.0, duration or b)
    return round(a, 3), round(b, 3)


def _comment_clips(moments: list[dict], duration: float, shots: list[float]) -> list[Clip]:
    best = max((m["weight"] for m in moments), default=0.0)
    clips = []
    for m in moments:
        if best <= 0:
            break
        a, b = _window(m["time_s"], m["start_s"], m["end_s"], duration, shots)
        count = f"{m['mentions']} comment{'s' if m['mentions'] != 1 else ''}"
        likes = f" ({m['likes']} likes)" if m.get("likes") else ""
        quote = f": ‘{one_line(m['evidence'][0]['text'], EVIDENCE_CHARS)}’" if m.get("evidence") else ""
        clips.append(Clip(a, b, m["time_s"], COMMENT_WEIGHT * m["weight"] / best,
                          [f"{count} at {clock(m['time_s'])}{likes}{quote}"], {"comments"}))
    return clips


def _summary_clips(summary: dict, duration: float, shots: list[float]) -> list[Clip]:
    label = "summary" if summary["method"] == "gemini" else "said and seen"
    clips = []
    for m in summary["moments"]:
        a, b = _window(m["time_s"], m["start_s"], m["end_s"], duration, shots)
        clips.append(Clip(a, b, m["time_s"], SUMMARY_WEIGHT * float(m.get("score") or 0.0),
                          [f"{label}: {one_line(m['reason'], 3 * EVIDENCE_CHARS)}"] if m.get("reason") else [],
                          {"summary"}))
    return clips


def fuse(candidates: list[Clip], n: int) -> list[Clip]:
    """Best first. A candidate overlapping one clip already taken joins it (its score and reasons; its span too when
    its peak lies outside the clip and the union stays within ``MERGED_MAX_S``); one overlapping two clips, or that
    would stretch a clip too far, is left out. Taken clips never overlap."""
    taken: list[Clip] = []
    for c in sorted(candidates, key=lambda c: -c.score):
        hits = [t for t in taken if t.overlaps(c)]
        if not hits:
            taken.append(c)
        elif len(hits) == 1:
            hits[0].absorb(c, stretch=max(hits[0].end_s, c.end_s) - min(hits[0].start_s, c.start_s) <= MERGED_MAX_S)
    return sorted(taken, key=lambda c: -c.score)[:n]


def _on_screen(segments: list[dict], a: float, b: float) -> list[dict]:
    return [s for s in segments if s["start_s"] < b and a < s["end_s"]]


def highlights(ctx, video_id: str, member: str | None = None, n: int = DEFAULT_N) -> dict:
    """The video's top ``n`` clips (optionally where ``member`` is on screen), best first, with their reasons.

    Returns ``{"video_id", "title", "duration_s", "member", "highlights": [{"rank", "start", "end", "peak",
    "score", "reasons", "sources", "members", "segment_id", "thumbnail"}], "methods": {"comments", "summary"},
    "notices": [...]}``. NotFound for an unknown video, InvalidRequest for an unknown member or a bad ``n``.
    """
    from db.comments import comment_moments
    from search.summary import key_moments

    if not 1 <= int(n) <= MAX_N:
        raise InvalidRequest(f"n={n}: ask for 1 to {MAX_N} highlights.")
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
        segments = get_segments(conn, video_segment_ids(conn, video_id))
        wanted = resolve_members(conn, [member]) if member and member.strip() else []
        duration = float(video.get("duration_s") or max((s["end_s"] for s in segments), default=0.0))
        moments = comment_moments(conn, video_id, duration)
    name = wanted[0][1] if wanted else None
    shots = sorted(float(b) for b in video.get("shot_boundaries") or [])
    summary = key_moments(ctx, video_id, member=name, n=SUMMARY_MOMENTS)   # one cached answer for every n
    summary = {**summary, "moments": summary["moments"][:max(10, 2 * int(n))]}
    candidates = _comment_clips(moments, duration, shots) + _summary_clips(summary, duration, shots)
    if name:
        candidates = [c for c in candidates
                      if any(name in _names(s) for s in _on_screen(segments, c.start_s, c.end_s))]
    out = []
    for rank, clip in enumerate(fuse(candidates, int(n)), 1):
        seen = _on_screen(segments, clip.start_s, clip.end_s)
        members = sorted({m for s in seen for m in _names(s)}, key=lambda m: (m != name, m))   # theirs first
        clip.reasons = clip.reasons[:MAX_REASONS]
        if members:
            clip.reasons.append(f"{', '.join(members)} on screen")
        at_peak = min(seen, key=lambda s: (not (s["start_s"] <= clip.peak_s < s["end_s"]), not s.get("thumbnail"),
                                           abs(s["start_s"] - clip.peak_s)), default=None)
        out.append({"rank": rank, "start": clip.start_s, "end": clip.end_s, "peak": round(clip.peak_s, 3),
                    "score": round(clip.score, 4), "reasons": clip.reasons, "sources": sorted(clip.sources),
                    "members": members, "segment_id": at_peak["id"] if at_peak else None,
                    "thumbnail": bool(at_peak and at_peak.get("thumbnail"))})
    notices = [summary["notice"]] if summary.get("notice") else []
    return {"video_id": video_id, "title": video["title"], "duration_s": duration, "member": name,
            "highlights": out,
            "methods": {"comments": (f"{len(moments)} commented moment{'s' if len(moments) != 1 else ''}"
                                     if moments else None),
                        "summary": summary["method"] + (f" ({summary['model']})" if summary.get("model") else "")},
            "notices": notices}


def _names(segment: dict) -> list[str]:
    return [m["name"] if isinstance(m, dict) else m for m in segment.get("members", [])]

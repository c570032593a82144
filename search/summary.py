"""A video's key moments from what is said and seen: one of the signals behind highlights.

``key_moments(ctx, video_id, member=None, n=10)`` answers
``{"video_id", "method": "gemini" | "offline", "model", "moments", "signals", "notice", "cached"}``, the moments
best first, each ``{"start_s", "end_s", "time_s", "score", "reason", "segment_ids"}``: ``time_s`` the moment's
peak (the loudest instant offline, when the sound was measured) or centre, ``score`` relative to the best (1.0),
``reason`` one line of plain text, ``segment_ids`` the segments it overlaps now. ``notice`` says why Gemini was
not used or failed and which signal was missing, for the page to show; ``signals`` what the ranking read.

**Gemini** (when ``gemini.api_key`` is set: ``ctx.translator``) reads the video's timeline text, one line per
segment in time order: times, caption (the edited one when there is one), Korean caption, transcript, members on
screen (``timeline_line``). The lines are cut into parts of at most ``gemini.context_chars`` characters (default
60,000: a 2-hour video of 2,000 segments is about five parts; ``timeline_parts``). MAP asks Gemini for each
part's key moments (up to ``max(n, MIN_MAP_K)``; ``MAP_WORKERS`` parts at a time, each request limited by
``gemini.moments_timeout_s``); REDUCE asks for the video's top n among all the parts' candidates (a one-part video
skips it: its map already ranked the whole video). Every answer is validated: numbers, end after start, inside the
part (the video, for the reduce), a non-empty reason made one short line; with a member, overlapping a segment
that member is tagged on. Invalid items are dropped and logged, and nothing valid left counts as a failure.
The result is kept in ``video_summaries`` per video, model and request (n, member, part size) under a hash of the
title and timeline text: a second request costs no Gemini call, and an edit of the segments (times, captions,
members) changes the text, so the next request asks again. Any failure (quota, timeout, network, unusable
answers) falls back to the offline ranking, and ``notice`` says why.

**Offline** each segment scores ``W_CENTRAL`` × centrality (the cosine of its text embedding to the mean of the
video's, relative to the most central; 0 without an embedding) + ``W_MEMBERS`` × members on screen (counted up to
``MEMBERS_FULL``) + ``W_LOUD`` × loudness (mean and peak of the audio waveform over the segment, 0..1, from
``edits.overview.waveform_file``; only when the video has playable media with sound, else that weight is left out,
the others scaled up, and ``notice`` says why). The best n segments with a score above 0 are the moments
(segments of a video never overlap); each reason names what made it score. The cosines are computed by pgvector in
the query that reads the segments: 2,000 segments of a 2-hour video take about 0.1 s once its waveform exists (the
first request for a video decodes its audio: a few seconds for 2 hours).

A member (name or alias) keeps, in both paths, only moments where that member is on screen.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from core.errors import MvseError
from core.gemini import MOMENTS_THEN, GeminiUnavailable
from core.records import one_line
from db.members import resolve_members
from db.segments import segment_members
from db.summaries import cached_summary, segments_with_centrality, store_summary
from db.videos import get_video
from edits.overview import playable_source, waveform_file

log = logging.getLogger(__name__)

MAX_MOMENTS = 50          # n above this is taken as this
PROMPT_VERSION = 1          # part of the cache key: bump when the prompts or the timeline format change
MAP_WORKERS = 4             # map requests at a time
MIN_MAP_K = 5               # moments asked of each part, at least
FIELD_CHARS = 300           # of one caption or transcript in a timeline line
REASON_CHARS = 160
TIME_SLACK_S = 1.0          # an answer's times may stray this far outside its range (rounding), then are clamped
# Offline weights (sum 1): how central the segment's text is, who is on screen, how loud it is.
W_CENTRAL, W_MEMBERS, W_LOUD = 0.5, 0.2, 0.3
MEMBERS_FULL = 3            # members on screen that count fully
CENTRAL_SAYS = 0.8          # relative centrality from which a reason calls the segment central …
RELATED_SAYS = 0.5          # … related to the video (below: off its main thread; said only when nothing else is)
LOUD_SAYS = 0.5             # loudness from which a reason mentions it

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class TimelineRow:
    """One segment as the key moments read it."""
    id: int
    start_s: float
    end_s: float
    caption: str = ""           # the edited caption, else the automatic one
    caption_ko: str = ""
    transcript: str = ""
    members: tuple[str, ...] = ()
    member_ids: frozenset[int] = frozenset()
    cosine: float = 0.0         # of its text embedding to the mean of the video's (0: none, or pointing away)


@dataclass
class TimelinePart:
    start_s: float
    end_s: float
    text: str


def key_moments(ctx, video_id: str, member: str | None = None, n: int = 10) -> dict:
    """The video's top ``n`` moments (see the module docstring); NotFound for an unknown video, InvalidRequest for
    an unknown member."""
    n = max(1, min(int(n), MAX_MOMENTS))
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
        who = resolve_members(conn, [member])[0] if member and member.strip() else None
        rows = _timeline_rows(conn, video_id)
    if not rows:
        return _answer(video_id, "offline", None, [], [], ["The video has no segments yet: index it first."])
    if who is not None and not any(who[0] in r.member_ids for r in rows):
        return _answer(video_id, "offline", None, [], [], [f"{who[1]} is not tagged on screen in this video."])
    translator = ctx.translator
    if translator is None or not hasattr(translator, "map_moments"):
        notice = f"Gemini is not configured (set gemini.api_key): {MOMENTS_THEN}."
    else:
        try:
            found, cached = _by_gemini(ctx, translator, video, rows, who, n)
            return _answer(video_id, "gemini", translator.model, _gemini_moments(found, rows), ["timeline"], [],
                           cached=cached)
        except GeminiUnavailable as err:
            notice = err.notice
    moments, signals, notes = _offline(ctx, video_id, rows, who, n)
    return _answer(video_id, "offline", None, moments, signals, [notice, *notes])


def _answer(video_id: str, method: str, model: str | None, moments: list[dict], signals: list[str],
            notices: list[str], cached: bool = False) -> dict:
    return {"video_id": video_id, "method": method, "model": model, "moments": moments, "signals": signals,
            "notice": " ".join(notices) or None, "cached": cached}


def _timeline_rows(conn, video_id: str) -> list[TimelineRow]:
    """The video's segments in time order, with members and their cosine to the video's mean embedding."""
    rows = segments_with_centrality(conn, video_id)
    members = segment_members(conn, [r["id"] for r in rows])
    return [TimelineRow(id=r["id"], start_s=float(r["start_s"]), end_s=float(r["end_s"]),
                        caption=one_line(r["caption_edited"] or r["caption_auto"], FIELD_CHARS),
                        caption_ko=one_line(r["caption_ko"], FIELD_CHARS),
                        transcript=one_line(r["transcript"], FIELD_CHARS),
                        members=tuple(m["name"] for m in members[r["id"]]),
                        member_ids=frozenset(m["member_id"] for m in members[r["id"]]),
                        cosine=_positive(r["cosine"]))
            for r in rows]


def _positive(value) -> float:
    """A cosine as a score: NULL (no embedding) or NaN (a zero mean) as 0, below 0 as 0."""
    return float(value) if value is not None and math.isfinite(value) and value > 0 else 0.0


# ---------------------------------------------------------------- Gemini: timeline, map, reduce, cache
def timeline_line(row: TimelineRow) -> str:
    """``[start-end] caption | ko: … | said: … | on screen: A, B`` (what the map prompt describes)."""
    parts = [f"[{row.start_s:.1f}-{row.end_s:.1f}] {row.caption or '(no caption)'}"]
    if row.caption_ko:
        parts.append(f"ko: {row.caption_ko}")
    if row.transcript:
        parts.append(f"said: {row.transcript}")
    if row.members:
        parts.append(f"on screen: {', '.join(row.members)}")
    return " | ".join(parts)


def timeline_parts(rows: list[TimelineRow], context_chars: int) -> list[TimelinePart]:
    """The timeline cut at line ends into parts of at most ``context_chars`` characters (a longer line is a part of
    its own), each with the time range of its segments."""
    parts: list[TimelinePart] = []
    lines: list[str] = []
    size, first, last_end = 0, 0.0, 0.0
    for row in rows:
        line = timeline_line(row)
        if lines and size + 1 + len(line) > context_chars:
            parts.append(TimelinePart(first, last_end, "\n".join(lines)))
            lines, size = [], 0
        if not lines:
            first, last_end = row.start_s, row.end_s
        lines.append(line)
        size += len(line) + (1 if size else 0)
        last_end = max(last_end, row.end_s)
    if lines:
        parts.append(TimelinePart(first, last_end, "\n".join(lines)))
    return parts


def _by_gemini(ctx, translator, video: dict, rows: list[TimelineRow], who: tuple[int, str] | None,
               n: int) -> tuple[list[dict], bool]:
    """The validated moments ``{start_s, end_s, reason}`` best first, and whether they came from the cache;
    GeminiUnavailable when Gemini fails or leaves nothing valid."""
    context_chars = ctx.config.gemini.context_chars
    member_name = who[1] if who else None
    timeline = "\n".join(timeline_line(r) for r in rows)
    request = f"n={n} member={member_name or '-'} part={context_chars}"
    digest = hashlib.sha256(f"{PROMPT_VERSION}\0{video['title']}\0{timeline}".encode()).hexdigest()
    spans = [(r.start_s, r.end_s) for r in rows if who[0] in r.member_ids] if who else None
    duration = max(float(video.get("duration_s") or 0.0), max(r.end_s for r in rows))
    with _lock(f"{video['id']}\0{translator.model}\0{request}"):     # one computation for requests at once
        found = _cached(ctx.db, video["id"], translator.model, request, digest)
        if found is not None:
            return found, True
        parts = timeline_parts(rows, context_chars)
        per_part = _map_parts(translator, video["title"], parts, max(n, MIN_MAP_K), member_name, spans)
        if not any(per_part):
            raise GeminiUnavailable(f"Gemini found no usable key moments: {MOMENTS_THEN}.")
        if len(parts) == 1:
            moments = per_part[0]
        else:
            answer = translator.reduce_moments(video["title"], duration, _candidates(per_part, context_chars), n,
                                               member_name)
            moments = _validated(answer, 0.0, duration, spans, "reduce")
        moments = _without_overlaps(moments)[:n]
        if not moments:
            raise GeminiUnavailable(f"Gemini found no usable key moments: {MOMENTS_THEN}.")
        _store(ctx.db, video["id"], translator.model, request, digest, moments)
    return moments, False


def _map_parts(translator, title: str, parts: list[TimelinePart], k: int, member: str | None,
               spans: list[tuple[float, float]] | None) -> list[list[dict]]:
    """Each part's validated moments, asked ``MAP_WORKERS`` at a time; the first failure ends it (the parts not
    started are not asked)."""
    def one(i: int, part: TimelinePart) -> list[dict]:
        answer = translator.map_moments(title, part.start_s, part.end_s, part.text, k, member)
        return _validated(answer, part.start_s, part.end_s, spans, f"map {i + 1}/{len(parts)}")[:k]

    pool = ThreadPoolExecutor(max_workers=min(MAP_WORKERS, len(parts)), thread_name_prefix="moments")
    try:
        futures = [pool.submit(one, i, p) for i, p in enumerate(parts)]
        wait(futures, return_when=FIRST_EXCEPTION)
        for f in futures:
            if f.done() and f.exception() is not None:
                raise f.exception()
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _validated(answer: list, lo: float, hi: float, spans: list[tuple[float, float]] | None,
               step: str) -> list[dict]:
    """The answer's valid moments ``{start_s, end_s, reason}`` in its order; the others are logged and dropped."""
    good: list[dict] = []
    dropped: list[str] = []
    for item in answer:
        moment, why = _check(item, lo, hi, spans)
        if moment is None:
            dropped.append(f"{why}: {json.dumps(item, ensure_ascii=False, default=str)[:120]}")
        else:
            good.append(moment)
    if dropped:
        log.warning("key moments (%s, %.1f-%.1f s): dropped %d invalid item(s) of Gemini's %d: %s", step, lo, hi,
                    len(dropped), len(answer), "; ".join(dropped[:5]))
    return good


def _check(item, lo: float, hi: float, spans: list[tuple[float, float]] | None) -> tuple[dict | None, str | None]:
    if not isinstance(item, dict):
        return None, "not an object"
    start, end, reason = item.get("start"), item.get("end"), item.get("reason")
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) for t in (start, end)):
        return None, "times are not numbers"
    if start < lo - TIME_SLACK_S or end > hi + TIME_SLACK_S:
        return None, f"outside {lo:.1f}-{hi:.1f} s"
    start, end = max(float(start), lo), min(float(end), hi)
    if end <= start:
        return None, "ends before it starts"
    if not isinstance(reason, str) or not reason.strip():
        return None, "no reason"
    if spans is not None and not any(a < end and b > start for a, b in spans):
        return None, "the member is not on screen then"
    return {"start_s": round(start, 2), "end_s": round(end, 2), "reason": one_line(reason, REASON_CHARS)}, None


def _candidates(per_part: list[list[dict]], budget_chars: int) -> list[dict]:
    """The parts' moments for the reduce, in time order: each part's best first, then each part's second, …, as
    many as fit in ``budget_chars`` (so a very long video cannot overflow the request)."""
    out: list[dict] = []
    size = 0
    for rank in range(max(len(p) for p in per_part)):
        for part in per_part:
            if rank < len(part):
                m = part[rank]
                c = {"start": m["start_s"], "end": m["end_s"], "reason": m["reason"]}
                size += len(json.dumps(c, ensure_ascii=False)) + 2
                if size > budget_chars and out:
                    return sorted(out, key=lambda x: x["start"])
                out.append(c)
    return sorted(out, key=lambda x: x["start"])


def _without_overlaps(moments: list[dict]) -> list[dict]:
    kept: list[dict] = []
    for m in moments:
        if not any(k["start_s"] < m["end_s"] and m["start_s"] < k["end_s"] for k in kept):
            kept.append(m)
    return kept


def _gemini_moments(found: list[dict], rows: list[TimelineRow]) -> list[dict]:
    starts = np.array([r.start_s for r in rows])
    ends = np.array([r.end_s for r in rows])
    ids = np.array([r.id for r in rows])
    return [{"start_s": m["start_s"], "end_s": m["end_s"], "time_s": round((m["start_s"] + m["end_s"]) / 2, 2),
             "score": round(1 - i / len(found), 3), "reason": m["reason"],
             "segment_ids": ids[(starts < m["end_s"]) & (ends > m["start_s"])].tolist()}
            for i, m in enumerate(found)]


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def _cached(db, video_id: str, model: str, request: str, digest: str) -> list[dict] | None:
    with db.connection() as conn:
        return cached_summary(conn, video_id, model, request, digest)


def _store(db, video_id: str, model: str, request: str, digest: str, moments: list[dict]) -> None:
    with db.connection() as conn:
        store_summary(conn, video_id, model, request, digest, moments)


# ---------------------------------------------------------------- offline
def _offline(ctx, video_id: str, rows: list[TimelineRow], who: tuple[int, str] | None,
             n: int) -> tuple[list[dict], list[str], list[str]]:
    """(moments, signals used, notes for the notice)."""
    central = _centrality(rows)
    crowd = np.array([min(len(r.members), MEMBERS_FULL) for r in rows], np.float32) / MEMBERS_FULL
    loud, peak_t, why_not = _loudness(ctx, video_id, rows)
    weights = {"centrality": W_CENTRAL, "members": W_MEMBERS} if loud is None else \
        {"centrality": W_CENTRAL, "members": W_MEMBERS, "loudness": W_LOUD}
    total = sum(weights.values())
    terms = {"centrality": central, "members": crowd, "loudness": loud}
    score = sum((w / total) * terms[k] for k, w in weights.items())
    eligible = np.array([who is None or who[0] in r.member_ids for r in rows]) & (score > 0)
    order = [int(i) for i in np.argsort(-score, kind="stable") if eligible[i]]
    picked: list[int] = []
    for i in order:
        if len(picked) == n:
            break
        if not any(rows[j].start_s < rows[i].end_s and rows[i].start_s < rows[j].end_s for j in picked):
            picked.append(i)
    best = float(score[picked[0]]) if picked else 1.0
    moments = []
    for i in picked:
        r = rows[i]
        contributions = {k: w / total * float(terms[k][i]) for k, w in weights.items()}
        moments.append({"start_s": round(r.start_s, 2), "end_s": round(r.end_s, 2),
                        "time_s": round(float(peak_t[i]) if peak_t is not None else (r.start_s + r.end_s) / 2, 2),
                        "score": round(float(score[i]) / best, 3),
                        "reason": _reason(r, contributions, float(central[i]),
                                          None if loud is None else float(loud[i]), who),
                        "segment_ids": [r.id]})
    notes = [] if why_not is None else [f"Audio loudness was not used: {why_not}"]
    if not moments:
        notes.append("No segment has text, members on screen or sound to rank it by.")
    return moments, list(weights), notes


def _centrality(rows: list[TimelineRow]) -> np.ndarray:
    """Each segment's cosine to the video's mean embedding, relative to the most central segment's."""
    cos = np.array([r.cosine for r in rows], np.float32)
    top = float(cos.max(initial=0.0))
    return cos / top if top > 0 else cos


def _loudness(ctx, video_id: str, rows: list[TimelineRow]) -> tuple[np.ndarray | None, np.ndarray | None,
                                                                      str | None]:
    """Per segment: loudness 0..1 (half the mean, half the peak of the waveform over it) and the time of its peak;
    or None, None and why there is no sound to measure."""
    _, path, why = playable_source(ctx.db, ctx.config, video_id)
    if path is None:
        return None, None, why
    try:
        doc = json.loads(waveform_file(ctx.config, video_id, path).read_text())
    except MvseError as err:
        return None, None, err.message
    except OSError as err:                    # ffmpeg missing or the file unreadable: the other signals still count
        return None, None, f"the audio could not be read ({err})"
    if not doc.get("peaks"):
        reason = doc.get("reason") or "the video's audio is empty"
        return None, None, reason[0].upper() + reason[1:] + "."
    peaks = np.asarray(doc["peaks"], np.float32) / 255.0
    step = float(doc["step"])
    loud = np.zeros(len(rows), np.float32)
    peak_t = np.array([(r.start_s + r.end_s) / 2 for r in rows], np.float64)
    for i, r in enumerate(rows):
        a = max(0, int(r.start_s / step))
        window = peaks[a:max(a + 1, math.ceil(r.end_s / step))]
        if window.size:
            top = int(window.argmax())
            loud[i] = 0.5 * float(window.mean()) + 0.5 * float(window[top])
            peak_t[i] = min(max((a + top + 0.5) * step, r.start_s), r.end_s)
    return loud, peak_t, None


def _reason(row: TimelineRow, contributions: dict[str, float], central: float, loud: float | None,
            who: tuple[int, str] | None) -> str:
    """What made the segment score, biggest first: each signal past its threshold, at least the biggest one."""
    phrases = []
    for kind, value in sorted(contributions.items(), key=lambda kv: -kv[1]):
        if value <= 0:
            continue
        strong = (kind == "centrality" and central >= CENTRAL_SAYS) or kind == "members" or \
            (kind == "loudness" and loud is not None and loud >= LOUD_SAYS)
        if strong or not phrases:
            phrases.append(_phrase(kind, row, who, central))
    return "; ".join(phrases)


def _phrase(kind: str, row: TimelineRow, who: tuple[int, str] | None, central: float) -> str:
    if kind == "centrality":
        said = row.caption or row.caption_ko or row.transcript
        how = "central to the video" if central >= CENTRAL_SAYS else \
            "related to the video" if central >= RELATED_SAYS else "off the video's main thread"
        return f"{how}: '{one_line(said, 60)}'" if said else how
    if kind == "loudness":
        return "loud moment (audio peak)"
    names = list(row.members)
    if who is not None and who[1] in names:
        names.remove(who[1])
        names.insert(0, who[1])
    if len(names) > 3:
        names = names[:3] + [f"{len(names) - 3} more"]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{listed} on screen"

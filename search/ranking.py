"""Fusing ranked lists, collapsing near-duplicate moments, and the confidence band of a result.

Reciprocal rank fusion: ``score(d) = Σ_lists 1 / (RRF_K + rank_d)`` (rank from 1), plus a small bonus for a
segment whose caption was edited by a person, so an edited caption outranks an automatic one that says the
same thing (their vectors are equal; their full-text ranks already differ by weight A vs C).

Confidence band, calibrated on the all-MiniLM-L6-v2 score distribution measured in tests/search
(paraphrases of the right segment: cosine about 0.45–0.75, the right segment for a Korean query over
English captions about 0.3; unrelated segments: below about 0.22). Evidence is the best of the cosine
similarity and a text score ``0.3 + 0.5 × (share of the query's words found)``: ``high`` ≥ 0.45,
``medium`` ≥ 0.28, else ``low``. A result whose fused score is under a third of the top
result's is at most ``medium``. For member-only queries the evidence is the face confidence (manual tags
count as 1.0): ``high`` ≥ 0.7, ``medium`` ≥ 0.5.
"""
from __future__ import annotations

from dataclasses import dataclass, field

RRF_K = 60
EDITED_BONUS = 0.5 / (RRF_K + 1)
HIGH, MEDIUM = 0.45, 0.28
FACE_HIGH, FACE_MEDIUM = 0.7, 0.5
DUP_GAP_S = 0.5          # segments at most this far apart in time are "adjacent"
DUP_COSINE = 0.92        # and this similar (or with the same text) are one moment


def rrf(lists: list[list[tuple[int, float]]], k: int = RRF_K) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranked in lists:
        for rank, (sid, _) in enumerate(ranked, start=1):
            scores[sid] = scores.get(sid, 0.0) + 1.0 / (k + rank)
    return scores


def order(scores: dict[int, float]) -> list[int]:
    """Best first; ties broken by id so every page of a query is cut from the same list."""
    return sorted(scores, key=lambda sid: (-round(scores[sid], 12), sid))


@dataclass
class Group:
    """One moment: the best-ranked segment plus its near-duplicate neighbours."""
    lead: int
    members: list[int] = field(default_factory=list)


def collapse(ranked: list[int], info: dict[int, dict], pairs: list[tuple[int, int, float | None]]) -> list[Group]:
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
        if a not in parent or b not in parent or not alike(info[a], info[b], cos):
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


def alike(a: dict, b: dict, cosine: float | None) -> bool:
    ta, tb = " ".join((a.get("text") or "").lower().split()), " ".join((b.get("text") or "").lower().split())
    if ta and ta == tb:
        return True
    return cosine is not None and cosine >= DUP_COSINE


def band(evidence: float, high: float = HIGH, medium: float = MEDIUM) -> str:
    if evidence >= high:
        return "high"
    if evidence >= medium:
        return "medium"
    return "low"


def text_evidence(coverage: float) -> float:
    return 0.3 + 0.5 * coverage if coverage > 0 else 0.0


def confidence(cosine: float | None, coverage: float, fused: float, top_fused: float) -> str:
    evidence = max(cosine if cosine is not None else 0.0, text_evidence(coverage))
    b = band(evidence)
    if b == "high" and top_fused > 0 and fused < top_fused / 3:
        b = "medium"
    return b


def face_confidence(conf: float | None) -> str:
    return band(conf or 0.0, FACE_HIGH, FACE_MEDIUM)

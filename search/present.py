"""The last step of a search: one page of ranked moments as results in the app's segment shape
(``core.records.SegmentRecord``) plus what a person needs to trust them: ``why`` (member and face score,
matching words, meaning similarity, edited caption), the ``confidence`` band and the signed edit link."""
from __future__ import annotations

from dataclasses import dataclass

from core.auth import make_edit_url
from core.records import SegmentRecord, segment_record
from core.textindex import found_in, index_tokens
from core.urls import Urls
from search import ranking
from search.query import ParsedQuery


class SearchResult(SegmentRecord):
    score: float
    edit_url: str
    confidence: str              # "high" | "medium" | "low" (calibration: search/ranking.py)
    why: list[str]
    similarity: float | None     # cosine of the best query text
    evidence: dict               # {"meaning": z (query's own spread), "words": IDF-weighted share found}
    merged_segment_ids: list[int]


@dataclass
class Evidence:
    """How one candidate matched: see search.ranking."""
    score: float
    cosine: float | None = None
    z: float | None = None
    words: float = 0.0
    band: str = "low"


def segment_tokens(seg: dict) -> set[str]:
    """Index tokens of what a segment says: caption (edited or automatic), Korean caption, transcript."""
    return set(index_tokens(" ".join(filter(None, (seg["caption"], seg["caption_ko"], seg["transcript"])))))


def word_hits(qtokens: list[set[str]], seg: dict) -> dict[str, list[str]]:
    """Query words found, per field."""
    fields = {"caption": seg["caption"], "Korean caption": seg["caption_ko"] or "", "transcript": seg["transcript"]}
    field_tokens = {name: set(index_tokens(value)) for name, value in fields.items()}
    hits: dict[str, list[str]] = {}
    for toks in qtokens:
        for name, ftoks in field_tokens.items():
            h = found_in(toks, ftoks)
            if h:
                hits[name] = sorted(set(hits.get(name, [])) | h)
    return hits


def _member_evidence(members: list[dict], parsed: ParsedQuery) -> tuple[list[str], float | None]:
    """``why`` lines for the members the query named, and the weakest of their face scores (manual = 1.0)."""
    wanted = {m.id for m in parsed.members}
    why: list[str] = []
    face = None
    for m in members:
        if m["member_id"] in wanted:
            conf = 1.0 if m["source"] == "manual" else m["confidence"]
            face = conf if face is None else min(face, conf or 0.0)
            how = "tagged by hand" if m["source"] == "manual" else f"face {m['confidence']:.2f}" \
                if m["confidence"] is not None else "tagged"
            why.append(f"member: {m['name']} ({how})")
    return why, face


def result(ctx, group: ranking.Group, row: dict, seg: dict, parsed: ParsedQuery, qtokens: list[set[str]],
           evidence: Evidence, actor: str) -> SearchResult:
    """One result: ``row`` from ``db.segments.get_segments`` (members attached), ``seg`` the ranking's view of
    the same segment (``retrieval.candidate_details``)."""
    has_text = bool(qtokens)
    why, face = _member_evidence(row["members"], parsed)
    hits = word_hits(qtokens, seg)
    why += [f"{name} words: {', '.join(words[:8])}" for name, words in hits.items()]
    if evidence.cosine is not None and has_text:
        why.append(f"meaning match {evidence.cosine:.2f}")
    if seg["edited"] and has_text:
        why.append("edited caption")
    if len(group.members) > 1:
        why.append(f"{len(group.members) - 1} near-identical neighbouring segment(s) merged")
    band = evidence.band if has_text else ranking.face_confidence(face)
    return SearchResult(
        **segment_record(row, Urls(ctx.config.public_url)),
        score=round(float(evidence.score), 6),
        edit_url=make_edit_url(ctx.config, row["video_id"], row["id"], actor),
        confidence=band, why=why,
        similarity=round(evidence.cosine, 4) if evidence.cosine is not None else None,
        evidence={"meaning": None if evidence.z is None else round(evidence.z, 2), "words": round(evidence.words, 2)},
        merged_segment_ids=group.members[1:],
    )

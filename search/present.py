"""The last step of a search: one page of ranked moments as results in the app's segment shape
(``core.records.SegmentRecord``) plus what a person needs to trust them: ``why`` (member and face score,
matching words, meaning similarity, edited caption), the ``confidence`` band and the signed edit link."""
from __future__ import annotations

from core.auth import make_edit_url
from core.records import SegmentRecord, segment_record
from core.textindex import index_tokens
from core.urls import Urls
from search import ranking
from search.query import ParsedQuery


class SearchResult(SegmentRecord):
    score: float
    edit_url: str
    confidence: str              # "high" | "medium" | "low" (calibration: search/ranking.py)
    why: list[str]
    similarity: float | None
    merged_segment_ids: list[int]


def word_hits(qtokens: list[set[str]], seg: dict) -> tuple[dict[str, list[str]], float]:
    """Query words found per field, and the best share of one query text's words found anywhere."""
    fields = {"caption": seg["caption"], "Korean caption": seg["caption_ko"] or "", "transcript": seg["transcript"]}
    field_tokens = {name: set(index_tokens(value)) for name, value in fields.items()}
    hits: dict[str, list[str]] = {}
    coverage = 0.0
    for toks in qtokens:
        if not toks:
            continue
        found: set[str] = set()
        for name, ftoks in field_tokens.items():
            h = toks & ftoks
            if h:
                hits[name] = sorted(set(hits.get(name, [])) | h)
                found |= h
        coverage = max(coverage, len(found) / len(toks))
    return hits, coverage


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
           cosine: float | None, fused: float, top: float, actor: str) -> SearchResult:
    """One result: ``row`` from ``db.segments.get_segments`` (members attached), ``seg`` the ranking's view of
    the same segment (``retrieval.candidate_details``)."""
    has_text = bool(qtokens)
    why, face = _member_evidence(row["members"], parsed)
    hits, coverage = word_hits(qtokens, seg)
    why += [f"{name} words: {', '.join(words[:8])}" for name, words in hits.items()]
    if cosine is not None and has_text:
        why.append(f"meaning match {cosine:.2f}")
    if seg["edited"] and has_text:
        why.append("edited caption")
    if len(group.members) > 1:
        why.append(f"{len(group.members) - 1} near-identical neighbouring segment(s) merged")
    band = ranking.confidence(cosine, coverage, fused, top) if has_text else ranking.face_confidence(face)
    return SearchResult(
        **segment_record(row, Urls(ctx.config.public_url)),
        score=round(float(fused), 6),
        edit_url=make_edit_url(ctx.config, row["video_id"], row["id"], actor),
        confidence=band, why=why,
        similarity=round(cosine, 4) if cosine is not None else None,
        merged_segment_ids=group.members[1:],
    )

"""The last step of a search: one page of ranked moments as results in the app's segment shape
(``core.records.SegmentRecord``) plus what a person needs to trust them:

- ``snippet``: the text that matched (caption, edited caption, transcript or Korean caption), cut to a readable
  length around the first matched word, with the matched words' positions (``marks``) for the web page and
  Slack to highlight;
- ``why``: the evidence in words ("Danielle on screen (face 0.91)", "said: sinbad",
  "very close in meaning", "caption written by a person");
- ``confidence``: the calibrated band (search/ranking.py), and the signed edit link.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from core.auth import make_edit_url
from core.records import SegmentRecord, segment_record
from core.textindex import found_in, index_tokens, marks_word, word_spans
from core.urls import Urls
from search import ranking
from search.query import ParsedQuery

SNIPPET_CHARS = 140         # a snippet longer than this is cut around its first matched word
BAND_LABELS = {"high": "strong match", "medium": "possible match", "low": "weak match"}


class Snippet(TypedDict):
    field: str                  # "caption" | "edited caption" | "transcript" | "Korean caption"
    text: str
    marks: list[list[int]]      # [start, end) of each matched word in ``text``
    cut: bool                   # ``text`` is part of a longer text (the full one is in the result)


class SearchResult(SegmentRecord):
    score: float
    edit_url: str
    confidence: str              # "high" | "medium" | "low" (calibration: search/ranking.py)
    confidence_label: str        # the band in words: strong / possible / weak match
    snippet: Snippet
    transcript: str | None
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
    band_z: float | None = None     # the meaning evidence the band was judged on (None: not trusted)
    words: float = 0.0
    band: str = "low"


def segment_tokens(seg: dict) -> set[str]:
    """Index tokens of what a segment says: caption (edited or automatic), Korean caption, transcript."""
    return set(index_tokens(" ".join(filter(None, (seg["caption"], seg["caption_ko"], seg["transcript"])))))


def _fields(seg: dict) -> dict[str, str]:
    return {("edited caption" if seg["edited"] else "caption"): seg["caption"], "transcript": seg["transcript"],
            "Korean caption": seg["caption_ko"] or ""}


def word_hits(qtokens: list[set[str]], seg: dict) -> dict[str, list[str]]:
    """Query words found, per field."""
    fields = _fields(seg)
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
            if m["source"] == "manual":
                why.append(f"{m['name']} tagged by hand")
            elif m["confidence"] is not None:
                why.append(f"{m['name']} on screen (face {m['confidence']:.2f})")
            else:
                why.append(f"{m['name']} tagged")
    return why, face


def snippet(seg: dict, qtokens: list[set[str]]) -> Snippet:
    """The field with the most matched words (the caption when none matched), cut around its first match."""
    query = set().union(*qtokens) if qtokens else set()
    best = None
    for field, text in _fields(seg).items():
        if not text:
            continue
        marks = [[a, b] for a, b, word in word_spans(text) if query and marks_word(query, word)]
        if best is None or len(marks) > len(best[2]):
            best = (field, text, marks)
    if best is None:
        return Snippet(field="caption", text="", marks=[], cut=False)
    field, text, marks = best
    if len(text) <= SNIPPET_CHARS:
        return Snippet(field=field, text=text, marks=marks, cut=False)
    first = marks[0][0] if marks else 0
    start = 0 if first < SNIPPET_CHARS // 3 else text.rfind(" ", 0, first - SNIPPET_CHARS // 4) + 1
    end = text.rfind(" ", start, start + SNIPPET_CHARS)
    end = end if end > first else min(len(text), start + SNIPPET_CHARS)
    prefix = "…" if start > 0 else ""
    shift = len(prefix) - start
    kept = [[a + shift, b + shift] for a, b in marks if a >= start and b <= end]
    return Snippet(field=field, text=prefix + text[start:end] + ("…" if end < len(text) else ""), marks=kept,
                   cut=True)


def _meaning_words(evidence: Evidence, calibration: ranking.Calibration) -> str | None:
    if evidence.z is None or evidence.band_z is None:
        return None
    if evidence.band_z >= calibration.high:
        return "very close in meaning"
    if evidence.band_z >= calibration.medium:
        return "close in meaning"
    return "loosely related in meaning"


def result(ctx, group: ranking.Group, row: dict, seg: dict, parsed: ParsedQuery, qtokens: list[set[str]],
           evidence: Evidence, actor: str) -> SearchResult:
    """One result: ``row`` from ``db.segments.get_segments`` (members attached), ``seg`` the ranking's view of
    the same segment (``retrieval.candidate_details``)."""
    has_text = bool(qtokens)
    why, face = _member_evidence(row["members"], parsed)
    hits = word_hits(qtokens, seg)
    why += [f"said: {', '.join(words[:8])}" if name == "transcript" else f"words in the {name}: {', '.join(words[:8])}"
            for name, words in hits.items()]
    meaning = _meaning_words(evidence, ranking.calibration_for(ctx.embedder.name)) if has_text else None
    if meaning:
        why.append(meaning)
    if seg["edited"] and has_text:
        why.append("caption written by a person")
    if len(group.members) > 1:
        n = len(group.members) - 1
        why.append(f"also covers {n} near-identical moment{'s' if n > 1 else ''} next to it")
    band = evidence.band if has_text else ranking.face_confidence(face)
    return SearchResult(
        **segment_record(row, Urls(ctx.config.public_url)),
        score=round(float(evidence.score), 6),
        edit_url=make_edit_url(ctx.config, row["video_id"], row["id"], actor),
        confidence=band, confidence_label=BAND_LABELS[band], snippet=snippet(seg, qtokens),
        transcript=seg["transcript"] or None, why=why,
        similarity=round(evidence.cosine, 4) if evidence.cosine is not None else None,
        evidence={"meaning": None if evidence.z is None else round(evidence.z, 2), "words": round(evidence.words, 2)},
        merged_segment_ids=group.members[1:],
    )

"""The one search function behind Slack and the web: ``search_segments``.

    query → clean → member names found (filter) → [Korean query also translated to English by Gemini]
          → per query text: full-text ∥ (embed the query → pgvector cosine), one pooled connection each
          → reciprocal rank fusion → near-duplicates collapsed
          → page (offset/limit, stable) → results with why + confidence → Korean captions + summary (Gemini)

Gemini problems never fail a search: the answer comes in English with a ``notice``.
"""
from __future__ import annotations

import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import numpy as np

from core.auth import make_edit_url
from core.errors import MvseError
from core.textindex import index_tokens, query_tokens
from db.embeddings import recorded_embedding_model
from db.segments import segment_members
from search import ranking, retrieval, translations
from search.gemini import GeminiUnavailable
from search.query import (
    ParsedQuery,
    clean_query,
    find_member,
    has_hangul,
    load_aliases,
    parse_query,
)

log = logging.getLogger(__name__)

SMALL_POOL = 100          # candidates per retriever for the first pages (every page ≤ 50 deep cuts the same list)
LARGE_POOL = 1000         # for deeper pages; beyond this the list ends (next_offset None)
SUMMARY_CAPTIONS = 5
SUMMARY_KIND = "summary:ko"       # the summaries' kind in the translations cache (beside target languages)
_LEGS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="search-leg")   # retrievers run side by side


def _pool_size(window: int) -> int:
    return SMALL_POOL if window <= SMALL_POOL // 2 else LARGE_POOL


class _Gemini:
    """Calls to the translator for one search: stops at the first failure and remembers its notice.

    Each call is limited by the SDK timeout (``gemini.timeout_s``); no call starts once that much time has
    been spent on Gemini in this search, so a search waits at most about twice the timeout.
    """

    def __init__(self, translator):
        self.translator = translator
        self.spent = 0.0
        self.notice: str | None = None if translator is not None else \
            "Gemini is not configured (set gemini.api_key): captions are shown in English."

    @property
    def usable(self) -> bool:
        return self.translator is not None and self.notice is None

    def call(self, fn, *args):
        if not self.usable:
            return None
        if self.spent >= getattr(self.translator, "timeout_s", 8.0):
            self.notice = "Gemini is slow right now: some captions are shown in English."
            return None
        t0 = time.perf_counter()
        try:
            return fn(*args)
        except GeminiUnavailable as err:
            self.notice = err.notice
            return None
        finally:
            self.spent += time.perf_counter() - t0


def _empty(query: str, notice: str | None, **extra) -> dict:
    return {"query": query, "results": [], "next_offset": None, "summary": None, "notice": notice, **extra}


def search_segments(ctx, query: str, *, limit: int = 10, offset: int = 0, member: str | None = None,
                    video: str | None = None, actor: str = "web") -> dict:
    """Search the library. See the module docstring; the result shape is fixed (DESIGN.md, /api/search)."""
    started = time.perf_counter()
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    text, truncated = clean_query(query)
    notices: list[str] = []
    if truncated:
        notices.append(f"The query was shortened to its first {len(text)} characters.")
    member_arg, _ = clean_query(member) if member else ("", False)
    video_arg, _ = clean_query(video) if video else ("", False)

    with ctx.db.connection() as conn:
        aliases = load_aliases(conn)
        parsed = parse_query(text, aliases, truncated)
        filters = retrieval.Filters(member_ids=[m.id for m in parsed.members], video_id=video_arg or None)
        if member_arg:
            m = find_member(aliases, member_arg)
            if m is None:
                return _empty(text, f"No member called {member_arg!r}. Check the spelling, or add the name as an alias "
                                    "(python -m indexer enroll NAME --alias ALIAS).", members=[])
            if m.id not in filters.member_ids:
                parsed.members.append(m)
                filters.member_ids.append(m.id)
        if filters.video_id and conn.execute("SELECT 1 FROM videos WHERE id = %s",
                                             (filters.video_id,)).fetchone() is None:
            return _empty(text, f"No video with id {filters.video_id!r}.", members=[m.name for m in parsed.members])
        recorded = recorded_embedding_model(conn)

    if not parsed.text and not filters.active:
        return _empty(text, "Type what you are looking for, e.g. a person, an action or words from a caption.",
                      members=[])

    gemini = _Gemini(ctx.translator)
    texts = [parsed.text] if parsed.text else []
    query_en = None
    if parsed.text and has_hangul(parsed.text) and gemini.usable:
        query_en = _translate_cached(ctx, gemini, [parsed.text], "en").get(parsed.text)
        if query_en and query_en.strip().lower() != parsed.text.lower():
            texts.append(query_en)

    window = offset + limit
    pool = _pool_size(window)
    cosines: dict[int, float] = {}
    paths: list[str] = []
    if texts:
        # Words need no vector: the full-text legs run while the query is embedded, the vector legs after.
        text_jobs = [_start_leg(ctx.db, partial(retrieval.text_candidates, tokens=query_tokens(t), n=pool,
                                                filters=filters)) for t in texts]
        qvecs, vector_notice = _embed_query(ctx, texts, recorded)
        if vector_notice:
            notices.append(vector_notice)
        vector_jobs = [] if vector_notice else [
            _start_leg(ctx.db, partial(retrieval.vector_candidates, qvec=qvec, n=pool,
                                       ef_search=ctx.config.search.ef_search, filters=filters, need=window + limit))
            for qvec in qvecs]
        lists = [job.result() for job in text_jobs]
        for job in vector_jobs:
            hits, path = job.result()
            paths.append(path)
            lists.append(hits)
            for sid, dist in hits:
                cosines[sid] = max(cosines.get(sid, -1.0), 1.0 - dist)
        scores = ranking.rrf(lists)
    else:
        with ctx.db.connection() as conn:
            scores = {sid: conf for sid, conf in retrieval.member_listing(conn, pool, filters)}
        paths.append("listing")
    with ctx.db.connection() as conn:
        info = _details(conn, list(scores))
        scores = {sid: score for sid, score in scores.items() if sid in info}     # deleted meanwhile
        if texts:
            for sid in scores:
                if info[sid]["edited"]:
                    scores[sid] += ranking.EDITED_BONUS
        ranked = ranking.order(scores)
        groups = ranking.collapse(ranked, info, _adjacent_with_cosines(conn, info))
        page = groups[offset:window]
        members_of = segment_members(conn, [g.lead for g in page])

    qtokens = [set(query_tokens(t)) for t in texts]
    top = scores[groups[0].lead] if groups else 0.0
    results = [_result(ctx, g, info[g.lead], members_of[g.lead], parsed, qtokens, cosines.get(g.lead),
                       scores[g.lead], top, bool(texts), actor) for g in page]

    _add_korean(ctx, gemini, results, info)
    summary = _summary(ctx, gemini, text, results)
    if gemini.notice and (results or ctx.translator is not None):
        notices.append(gemini.notice)
    return {
        "query": text,
        "results": results,
        "next_offset": window if len(groups) > window else None,
        "summary": summary,
        "notice": " ".join(notices) or None,
        "members": [m.name for m in parsed.members],
        "video": filters.video_id,
        "query_en": query_en,
        "retrieval": paths,
        "took_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _start_leg(db, leg) -> Future:
    """Start one retriever on its own pooled connection. The caller holds no connection while it waits,
    and each worker holds at most one, so a busy pool only makes a search wait its turn."""
    def run():
        with db.connection() as conn:
            return leg(conn)

    return _LEGS.submit(run)


def _adjacent_with_cosines(conn, info: dict[int, dict]) -> list[tuple[int, int, float | None]]:
    """Neighbouring candidates, with their embeddings' cosine where their words alone do not make them alike."""
    pairs = ranking.adjacent(info)
    unsure = [(a, b) for a, b in pairs if not ranking.alike(info[a], info[b], None)]
    cosines = retrieval.pair_cosines(conn, unsure)
    return [(a, b, cosines.get((a, b))) for a, b in pairs]


def _embed_query(ctx, texts: list[str], recorded: dict | None) -> tuple[np.ndarray, str | None]:
    """Query vectors (from the context's cache of recent queries), or a notice saying why meaning search is
    off (words still match)."""
    embedder = ctx.embedder
    try:
        if recorded and (recorded.get("name") != embedder.name or int(recorded.get("dim", -1)) != int(embedder.dim)):
            return np.zeros((0, 1), dtype=np.float32), (
                f"Meaning search is off: the library was embedded with {recorded.get('name')!r} but the configured "
                f"model is {embedder.name!r} (run `python -m indexer reembed`); matching words only.")
        return ctx.query_vectors.embed(texts), None
    except MvseError as err:           # the model cannot be loaded
        return np.zeros((0, 1), dtype=np.float32), f"Meaning search is off, matching words only: {err}"


def _details(conn, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = conn.execute(
        "SELECT s.id, s.video_id, v.title, s.start_s, s.end_s, s.caption_auto, s.caption_edited, s.caption_ko, "
        "s.transcript, s.thumbnail FROM segments s JOIN videos v ON v.id = s.video_id "
        "WHERE s.id = ANY(%s)", (ids,)).fetchall()
    out = {}
    for r in rows:
        caption = (r["caption_edited"] or r["caption_auto"] or "").strip()
        out[r["id"]] = {
            "video_id": r["video_id"], "title": r["title"], "start": float(r["start_s"]), "end": float(r["end_s"]),
            "caption": caption, "edited": bool(r["caption_edited"]), "caption_ko": r["caption_ko"],
            "transcript": r["transcript"] or "", "thumbnail": r["thumbnail"],
            "text": " ".join(filter(None, [caption, r["transcript"]])),
        }
    return out


def _word_hits(qtokens: list[set[str]], seg: dict) -> tuple[dict[str, list[str]], float]:
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
            h = sorted(toks & ftoks)
            if h:
                hits.setdefault(name, [])
                hits[name] = sorted(set(hits[name]) | set(h))
                found |= set(h)
        coverage = max(coverage, len(found) / len(toks))
    return hits, coverage


def _result(ctx, group, seg: dict, members: list[dict], parsed: ParsedQuery, qtokens: list[set[str]],
            cosine: float | None, fused: float, top: float, has_text: bool, actor: str) -> dict:
    sid = group.lead
    why: list[str] = []
    wanted = {m.id for m in parsed.members}
    face = None
    for m in members:
        if m["member_id"] in wanted:
            conf = 1.0 if m["source"] == "manual" else m["confidence"]
            face = conf if face is None else min(face, conf or 0.0)
            how = "tagged by hand" if m["source"] == "manual" else f"face {m['confidence']:.2f}" \
                if m["confidence"] is not None else "tagged"
            why.append(f"member: {m['name']} ({how})")
    hits, coverage = _word_hits(qtokens, seg)
    for name, words in hits.items():
        why.append(f"{name} words: {', '.join(words[:8])}")
    if cosine is not None and has_text:
        why.append(f"meaning match {cosine:.2f}")
    if seg["edited"] and has_text:
        why.append("edited caption")
    if len(group.members) > 1:
        why.append(f"{len(group.members) - 1} near-identical neighbouring segment(s) merged")
    if has_text:
        conf_band = ranking.confidence(cosine, coverage, fused, top)
    else:
        conf_band = ranking.face_confidence(face)
    public = (ctx.config.public_url or "").rstrip("/")
    return {
        "segment_id": sid,
        "video_id": seg["video_id"],
        "video_title": seg["title"],
        "start": seg["start"],
        "end": seg["end"],
        "caption": seg["caption"],
        "caption_ko": seg["caption_ko"] or None,
        "members": [m["name"] for m in members],
        "score": round(float(fused), 6),
        "thumbnail_url": f"{public}/thumbnails/{sid}.jpg" if seg["thumbnail"] else None,
        "edit_url": make_edit_url(ctx.config, seg["video_id"], sid, actor),
        "confidence": conf_band,
        "why": why,
        "similarity": round(cosine, 4) if cosine is not None else None,
        "merged_segment_ids": group.members[1:],
    }


def _cached_answers(ctx, gemini: _Gemini, texts: list[str], kind: str, ask) -> dict[str, str]:
    """Gemini's answers for ``texts`` from the cache (per text, model and ``kind``), the rest from ``ask``
    (a list of texts → their answers in order), then cached. Cached answers are served even after a
    Gemini failure in this search."""
    model = gemini.translator.model
    with ctx.db.connection() as conn:
        found = translations.cached(conn, texts, model, kind)
    missing = [t for t in dict.fromkeys(texts) if t and t not in found]
    if missing:
        got = gemini.call(ask, missing)
        if got:
            new = dict(zip(missing, got))
            with ctx.db.connection() as conn:
                translations.store(conn, new, model, kind)
            found.update(new)
    return found


def _translate_cached(ctx, gemini: _Gemini, texts: list[str], lang: str) -> dict[str, str]:
    """Translations of ``texts`` into ``lang`` (cached per text and model)."""
    return _cached_answers(ctx, gemini, texts, lang, lambda missing: gemini.translator.translate(missing, lang))


def _summary(ctx, gemini: _Gemini, query: str, results: list[dict]) -> str | None:
    """The one-line Korean summary of the best results, cached per query and captions (an edited caption
    asks again)."""
    captions = [r["caption"] for r in results[:SUMMARY_CAPTIONS] if r["caption"]]
    if not captions or gemini.translator is None:
        return None
    key = json.dumps({"query": query, "captions": captions}, ensure_ascii=False)
    return _cached_answers(ctx, gemini, [key], SUMMARY_KIND,
                           lambda _: [gemini.translator.summarize(query, captions)]).get(key)


def _add_korean(ctx, gemini: _Gemini, results: list[dict], info: dict) -> None:
    """Fill caption_ko from the segment, else from the translation cache / Gemini."""
    need = [r["caption"] for r in results if not r["caption_ko"] and r["caption"] and not has_hangul(r["caption"])]
    if not need or gemini.translator is None:
        return
    ko = _translate_cached(ctx, gemini, need, "ko")
    for r in results:
        if not r["caption_ko"] and r["caption"] in ko:
            r["caption_ko"] = ko[r["caption"]]

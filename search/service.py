"""The one search function behind Slack and the web: ``search_segments``, in four steps.

    1. understand: clean the query, find member names (a filter), check member= / video=, and for a Korean
       query also its English (the local query translator, else Gemini)                 → ``_understand``
    2. retrieve: per query text, full-text ∥ (embed the query → pgvector cosine), one pooled connection each,
       and the query words' weights; every candidate's meaning on the query's own scale → ``_retrieve``
    3. score and collapse: meaning + rare words found (search/ranking.py), edited captions ahead,
       near-duplicates merged                                                           → ``_rank``
    4. present: the page (offset/limit, stable) as results with snippet, why and a calibrated confidence
       (``search.present``); "no close match" when even the best is weak; then Korean captions + summary
       (``search.korean``)

Translator problems never fail a search: the answer comes in English with a ``notice``.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from core.errors import MvseError
from core.textindex import query_tokens, stem
from db.embeddings import recorded_embedding_model
from db.segments import segment_members
from db.videos import find_video
from search import korean, present, ranking, retrieval, scale
from search.query import ParsedQuery, clean_query, find_member, has_hangul, load_aliases, parse_query

SMALL_POOL = 100          # candidates per retriever for the first pages (every page ≤ 50 deep cuts the same list)
LARGE_POOL = 1000         # for deeper pages; beyond this the list ends (next_offset None)
NO_MATCH = "No close match; nearest moments:"
_LEGS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="search-leg")   # retrievers run side by side


@dataclass
class _Request:
    """What the query asks for, once understood."""
    text: str                                    # the cleaned query, as shown back
    parsed: ParsedQuery
    filters: retrieval.Filters
    recorded_model: dict | None                  # the embedding model the library was embedded with
    texts: list[str] = field(default_factory=list)   # texts to retrieve with: the query's words, its English
    query_en: str | None = None
    notices: list[str] = field(default_factory=list)


@dataclass
class _Candidates:
    scores: dict[int, float]                     # ranking score per segment id (see search.ranking)
    cosines: dict[int, float] = field(default_factory=dict)     # best cosine over the query texts
    z: dict[int, float] = field(default_factory=dict)           # the same in units of the query's spread
    z_trusted: dict[int, float] = field(default_factory=dict)   # z of the texts the model can read (for bands)
    words: dict[int, float] = field(default_factory=dict)       # IDF-weighted share of the query words found
    paths: list[str] = field(default_factory=list)
    meaning_trusted: bool = False                               # some query text was read by a model that can
    qvecs: np.ndarray | None = None                             # the query texts' vectors (None: meaning off)
    weights: list[dict[str, float]] = field(default_factory=list)   # per query text: its words' IDF weights


def _answer(query: str, notice: str | None, **extra) -> dict:
    return {"query": query, "results": [], "next_offset": None, "summary": None, "notice": notice,
            "notices": [notice] if notice else [], "no_match": False, **extra}


def search_segments(ctx, query: str, *, limit: int = 10, offset: int = 0, member: str | None = None,
                    video: str | None = None, actor: str = "web") -> dict:
    """Search the library. See the module docstring. The result's shape is fixed (``GET /api/search`` in
    ../shared/DESIGN.md); fields may be added."""
    started = time.perf_counter()
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    request = _understand(ctx, query, member, video)
    if isinstance(request, dict):
        return request
    gemini = korean.GeminiSession(ctx.translator)
    try:
        request.query_en = korean.english_query(ctx.db, gemini, request.parsed.text, ctx.query_translator)
    except MvseError as err:             # the local query translator failed: search in Korean only
        request.notices.append(f"The query could not be translated: {err.message or err}")
    if request.query_en:
        request.texts.append(request.query_en)
    window = offset + limit
    candidates = _retrieve(ctx, request, window, limit)
    with ctx.db.connection() as conn:
        info, groups = _rank(ctx, conn, candidates, request.texts)
        page = groups[offset:window]
        members = segment_members(conn, [g.lead for g in page])
    rows = {g.lead: {**info[g.lead]["row"], "members": members[g.lead]} for g in page}
    qtokens = [set(query_tokens(t)) for t in request.texts]
    results = [present.result(ctx, g, rows[g.lead], info[g.lead], request.parsed, qtokens,
                              _evidence(ctx, candidates, g.lead), actor) for g in page]
    no_match = bool(request.texts and groups) and _evidence(ctx, candidates, groups[0].lead).band == "low"
    korean.add_korean_captions(ctx.db, gemini, results)
    summary = korean.summary(ctx.db, gemini, request.text, results)
    if gemini.notice and (results or ctx.translator is not None):
        request.notices.append(gemini.notice)
    return {
        "query": request.text, "results": results, "next_offset": window if len(groups) > window else None,
        "summary": summary, "notice": " ".join(request.notices + ([NO_MATCH] if no_match else [])) or None,
        "notices": request.notices, "no_match": no_match,
        "members": [m.name for m in request.parsed.members], "video": request.filters.video_id,
        "query_en": request.query_en, "retrieval": candidates.paths,
        "took_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _understand(ctx, query: str, member: str | None, video: str | None) -> _Request | dict:
    """The request, or the answer itself when there is nothing to search (an unknown member or video, or
    an empty query)."""
    text, truncated = clean_query(query)
    notices = [f"The query was shortened to its first {len(text)} characters."] if truncated else []
    member_arg = clean_query(member)[0] if member else ""
    video_arg = clean_query(video)[0] if video else ""
    with ctx.db.connection() as conn:
        aliases = load_aliases(conn)
        parsed = parse_query(text, aliases, truncated)
        filters = retrieval.Filters(member_ids=[m.id for m in parsed.members], video_id=video_arg or None)
        if member_arg:
            m = find_member(aliases, member_arg)
            if m is None:
                return _answer(text, f"No member called {member_arg!r}. Check the spelling, or add the name as an "
                                     "alias (python -m indexer enroll NAME --alias ALIAS).", members=[])
            if m.id not in filters.member_ids:
                parsed.members.append(m)
                filters.member_ids.append(m.id)
        if filters.video_id and find_video(conn, filters.video_id) is None:
            return _answer(text, f"No video with id {filters.video_id!r}.", members=[m.name for m in parsed.members])
        recorded = recorded_embedding_model(conn)
    if parsed.members and not query_tokens(parsed.text):
        parsed.text = ""                     # "Minji and Danielle": only names (and glue words) were asked for
    if not parsed.text and not filters.active:
        return _answer(text, "Type what you are looking for, e.g. a person, an action or words from a caption.",
                       members=[])
    return _Request(text, parsed, filters, recorded, texts=[parsed.text] if parsed.text else [], notices=notices)


def _retrieve(ctx, request: _Request, window: int, limit: int) -> _Candidates:
    """The candidates of every retriever (their scores come in ``_rank``), the query vectors and the words'
    weights. Words need no vector: the full-text legs and the weights run while the query is embedded, the
    vector legs after. A query of member names only lists the members' segments."""
    pool = SMALL_POOL if window <= SMALL_POOL // 2 else LARGE_POOL
    if not request.texts:
        with ctx.db.connection() as conn:
            listing = retrieval.member_listing(conn, pool, request.filters)
        return _Candidates(scores=dict(listing), paths=["listing"])
    def text_legs(common: frozenset[str]) -> list:
        return [_start_leg(ctx.db, partial(retrieval.text_candidates, tokens=query_tokens(t), n=pool,
                                           filters=request.filters, common=common)) for t in request.texts]

    common = scale.common_words(ctx.db)
    text_jobs = text_legs(common)
    weights_job = _LEGS.submit(_word_weights, ctx.db, request.texts)
    qvecs, vector_notice = _embed_query(ctx, request.texts, request.recorded_model)
    if vector_notice:
        request.notices.append(vector_notice)
        if common:          # words are all there is: rank every match, the common words' too
            text_jobs = text_legs(frozenset())
    vector_jobs = [] if vector_notice else [
        _start_leg(ctx.db, partial(retrieval.vector_candidates, qvec=qvec, n=pool,
                                   ef_search=ctx.config.search.ef_search, filters=request.filters,
                                   need=window + limit))
        for qvec in qvecs]
    ids = {sid for job in text_jobs for sid, _ in job.result()}
    out = _Candidates(scores={}, qvecs=None if vector_notice else qvecs)
    for job in vector_jobs:
        found, path = job.result()
        out.paths.append(path)
        ids |= {sid for sid, _ in found}
    out.scores = {sid: 0.0 for sid in ids}
    out.weights = weights_job.result()
    return out


def _meaning(ctx, texts: list[str], info: dict[int, dict], out: _Candidates) -> None:
    """Every candidate's best cosine over the query texts (read with its details), and the same in units of each
    query's spread over the library. A Korean text read by a model that cannot read Korean ranks (it is all
    there is) but earns no confidence."""
    reference = scale.reference(ctx.db, ctx.embedder)
    reads_korean = ranking.calibration_for(ctx.embedder.name).reads_korean
    for i, (text, qvec) in enumerate(zip(texts, out.qvecs, strict=True)):
        mean, std = scale.spread(reference, qvec)
        trusted = reads_korean or not has_hangul(text)
        out.meaning_trusted |= trusted
        for sid, seg in info.items():
            cos = seg["cosines"][i]
            if cos is None:
                continue
            z = (cos - mean) / std
            out.cosines[sid] = max(out.cosines.get(sid, -1.0), cos)
            out.z[sid] = max(out.z.get(sid, -math.inf), z)
            if trusted:
                out.z_trusted[sid] = max(out.z_trusted.get(sid, -math.inf), z)


def _rank(ctx, conn, candidates: _Candidates, texts: list[str]) -> tuple[dict[int, dict], list[ranking.Group]]:
    """The candidates' details and their moments best first (see search.ranking for the score), near-duplicates
    merged. Candidates deleted since retrieval are dropped."""
    qvecs = candidates.qvecs if candidates.qvecs is not None and texts else ()
    info = retrieval.candidate_details(conn, list(candidates.scores), list(qvecs))
    if len(qvecs):
        _meaning(ctx, texts, info, candidates)
    if texts:
        stems = {form for w in candidates.weights for t in w for form in (t, stem(t))}
        for sid, seg in info.items():
            said = " ".join(filter(None, (seg["caption"], seg["caption_ko"], seg["transcript"]))).lower()
            if not any(s in said for s in stems):          # no query word or stem in it: 0, quickly
                candidates.words[sid] = 0.0
                continue
            found = present.segment_tokens(seg)
            candidates.words[sid] = max((ranking.coverage(w, found) for w in candidates.weights), default=0.0)
        if candidates.meaning_trusted:      # only what the model can read ranks by meaning (not its Korean)
            candidates.scores = {sid: ranking.score(candidates.z_trusted.get(sid, 0.0), candidates.words[sid],
                                                    seg["edited"]) for sid, seg in info.items()}
        else:
            candidates.scores = {sid: ranking.words_score(candidates.z.get(sid, 0.0), candidates.words[sid],
                                                          seg["edited"]) for sid, seg in info.items()}
    else:
        candidates.scores = {sid: s for sid, s in candidates.scores.items() if sid in info}
    duplicate = ranking.calibration_for(ctx.embedder.name).duplicate
    return info, ranking.collapse(ranking.order(candidates.scores), info, _adjacent_with_cosines(conn, info, duplicate),
                                  duplicate)


def _word_weights(db, texts: list[str]) -> list[dict[str, float]]:
    """Per query text, its tokens' IDF weights over the library (counts cached: search.scale)."""
    tokens = [query_tokens(t) for t in texts]
    counts, size = scale.word_counts(db, [t for ts in tokens for t in ts])
    return [ranking.idf_weights(ts, counts, size) for ts in tokens]


def _evidence(ctx, candidates: _Candidates, sid: int) -> present.Evidence:
    words = candidates.words.get(sid, 0.0)
    trusted = candidates.z_trusted.get(sid)
    return present.Evidence(score=candidates.scores[sid], cosine=candidates.cosines.get(sid),
                            z=candidates.z.get(sid), band_z=trusted, words=words,
                            band=ranking.band(ctx.embedder.name, trusted, words))


def _start_leg(db, leg) -> Future:
    """Start one retriever on its own pooled connection. The caller holds no connection while it waits,
    and each worker holds at most one, so a busy pool only makes a search wait its turn."""
    def run():
        with db.connection() as conn:
            return leg(conn)

    return _LEGS.submit(run)


def _adjacent_with_cosines(conn, info: dict[int, dict], duplicate: float) -> list[tuple[int, int, float | None]]:
    """Neighbouring candidates, with their embeddings' cosine where their words alone do not make them alike."""
    pairs = ranking.adjacent(info)
    unsure = [(a, b) for a, b in pairs if not ranking.alike(info[a], info[b], None, duplicate)]
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

"""The two retrievers behind hybrid search: pgvector cosine (HNSW or exact) and PostgreSQL full-text.

Each returns ``[(segment_id, score)]`` best first, ordered deterministically (score, then id).

pgvector 0.6 has no iterative index scan: a ``WHERE`` filter applied after an HNSW scan sees only the
``ef_search`` nearest rows and can return fewer rows than asked. Filtered searches therefore take their own
path: the member's own HNSW index when the filter is one member who has one (``db.member_vectors``: members
on many segments); exact distances over the filtered rows when they are few (counted, up to
``EXACT_FILTER_MAX``) or too rare for an HNSW scan to find enough of them (share × 1000 < 1.5 × rows wanted,
the share estimated by the planner from its statistics); else an HNSW scan of the library with over-fetch
(``ef_search`` = 1.5 × rows wanted ÷ share, then the maximum), falling back to exact search when that still
cannot fill the page.

Full-text search ranks every segment that contains a query word, so its cost follows how common the words
are. Words on more than ``common_word_rows`` segments (by PostgreSQL's statistics of the ``tsv`` column:
"person", "holding" in a large library's automatic captions) are left out of the full-text query: 5 % of the
library, at least 1,000 and at most ``COMMON_WORD_ROWS`` segments (a small library ranks all its matches, they are
few). Their matches would be ranked almost at random anyway, meaning search still sees them, and the words still
count in the ranking of every candidate. Ranking them cost a 20k-segment library about half of a search's time.
A filter is applied to the word matches, not the other way round.
"""
from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import psycopg

from core.textindex import tsquery_of, tsquery_term
from db.member_vectors import indexed_members

EXACT_FILTER_MAX = 3_000      # filtered rows up to which exact distance is cheaper than the HNSW detour (bench)
MAX_EF_SEARCH = 1000          # pgvector's upper bound for hnsw.ef_search
COMMON_WORD_ROWS = 10_000     # words on more segments than this are too common to rank by (see above) …
COMMON_WORD_SHARE = 0.05      # … or on more than this share of a library's segments,
COMMON_WORD_FLOOR = 1_000     # once that share is more than this many segments
STATISTICS_ROWS = 50_000      # from this library size, word weights come from PostgreSQL's statistics alone
# Full-text weights {D, C, B, A}: A = members + edited caption, B = Korean caption + transcript, C = auto caption.
TEXT_WEIGHTS = "{0.05, 0.2, 0.5, 1.0}"


@dataclass
class Filters:
    member_ids: list[int] = field(default_factory=list)   # every one must be on the segment
    video_id: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.member_ids or self.video_id)

    def sql(self, alias: str = "s") -> tuple[str, list]:
        parts, params = [], []
        for mid in self.member_ids:
            parts.append(f"EXISTS (SELECT 1 FROM segment_members sm WHERE sm.segment_id = {alias}.id "
                         "AND sm.member_id = %s)")
            params.append(mid)
        if self.video_id is not None:
            parts.append(f"{alias}.video_id = %s")
            params.append(self.video_id)
        return (" AND ".join(parts) or "TRUE"), params


def count_filtered(conn: psycopg.Connection, filters: Filters, cap: int) -> int:
    """An upper bound of the rows passing the filter, counted up to ``cap`` + 1.

    Each part of the filter is counted on its own index (index-only) and the smallest count is the bound:
    the exact path then scans at most that many rows.
    """
    counts = []
    for mid in filters.member_ids:
        counts.append(conn.execute("SELECT count(*) AS n FROM (SELECT 1 FROM segment_members WHERE member_id = %s "
                                   "LIMIT %s) x", (mid, cap + 1)).fetchone()["n"])
    if filters.video_id is not None:
        counts.append(conn.execute("SELECT count(*) AS n FROM (SELECT 1 FROM segments WHERE video_id = %s "
                                   "LIMIT %s) x", (filters.video_id, cap + 1)).fetchone()["n"])
    return int(min(counts)) if counts else cap + 1


def planned_share(conn: psycopg.Connection, filters: Filters) -> float:
    """The planner's estimate of the share of segments passing the filter (its statistics; no rows read)."""
    where, params = filters.sql()
    plan = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM segments s WHERE {where}", params,
                        prepare=False).fetchone()
    rows = float(next(iter(plan.values()))[0]["Plan"]["Plan Rows"])
    return rows / max(estimated_rows(conn), rows, 1.0)


def estimated_rows(conn: psycopg.Connection) -> float:
    """The planner's row estimate for segments (free; -1 before the first ANALYZE)."""
    row = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'segments'::regclass").fetchone()
    return float(row["reltuples"])


def vector_exact(conn: psycopg.Connection, qvec: np.ndarray, n: int, filters: Filters) -> list[tuple[int, float]]:
    """Exact cosine distance over the filtered rows. ``+ 0`` keeps the planner off the HNSW index.

    With a member filter (and no video) the vectors come from that member's entries in the index
    ``segment_members_vectors`` (migration 003): consecutive pages, no table reads, so the cost follows the
    member's segments, not the library. With a video, the video's segments are read by its index.
    """
    if filters.member_ids and filters.video_id is None:
        where, params = Filters(member_ids=filters.member_ids[1:]).sql("m")
        sql = (f"SELECT m.id, (m.embedding <=> %s) + 0 AS dist FROM (SELECT segment_id AS id, embedding "
               f"FROM segment_members WHERE member_id = %s) m WHERE m.embedding IS NOT NULL AND {where} "
               f"ORDER BY 2, 1 LIMIT %s")
        params = [qvec, filters.member_ids[0], *params, n]
    else:
        where, params = filters.sql()
        sql = (f"SELECT s.id, (s.embedding <=> %s) + 0 AS dist FROM segments s "
               f"WHERE {where} AND s.embedding IS NOT NULL ORDER BY 2, 1 LIMIT %s")
        params = [qvec, *params, n]
    rows = conn.execute(sql, params, prepare=False).fetchall()
    return [(r["id"], float(r["dist"])) for r in rows]


def vector_hnsw(conn: psycopg.Connection, qvec: np.ndarray, n: int, ef_search: int,
                filters: Filters | None = None) -> list[tuple[int, float]]:
    conn.execute(f"SET LOCAL hnsw.ef_search = {int(min(max(ef_search, n), MAX_EF_SEARCH))}")
    where, params = (filters or Filters()).sql()
    rows = conn.execute(
        f"SELECT s.id, s.embedding <=> %s AS dist FROM segments s WHERE {where} AND s.embedding IS NOT NULL "
        f"ORDER BY s.embedding <=> %s LIMIT %s",
        [qvec, *params, qvec, n],
    ).fetchall()
    # The index returns approximate order; make ties (and the page boundary) deterministic.
    return sorted(((r["id"], float(r["dist"])) for r in rows), key=lambda t: (t[1], t[0]))


def vector_member_hnsw(conn: psycopg.Connection, qvec: np.ndarray, n: int, ef_search: int,
                       member_id: int) -> list[tuple[int, float]]:
    """The member's nearest segments from the member's own HNSW index (db/member_vectors.py). The member id
    is written into the SQL (an int) so the planner can match the partial index's predicate."""
    conn.execute(f"SET LOCAL hnsw.ef_search = {int(min(max(ef_search, n), MAX_EF_SEARCH))}")
    rows = conn.execute(
        f"SELECT segment_id AS id, embedding <=> %s AS dist FROM segment_members WHERE member_id = {int(member_id)} "
        f"ORDER BY embedding <=> %s LIMIT %s", [qvec, qvec, n]).fetchall()
    return sorted(((r["id"], float(r["dist"])) for r in rows), key=lambda t: (t[1], t[0]))


def vector_candidates(conn: psycopg.Connection, qvec: np.ndarray, n: int, ef_search: int, filters: Filters,
                      exact_max: int = EXACT_FILTER_MAX,
                      need: int | None = None) -> tuple[list[tuple[int, float]], str]:
    """Up to ``n`` nearest segments by cosine distance, and the path taken (for diagnostics and the benchmark).

    A filtered HNSW scan is accepted when it yields at least ``need`` rows (default ``n``): the rows the
    caller's page needs. The scans are deterministic, so every page that the first scan can fill is cut
    from the same list; a deeper page widens the scan or goes exact.
    """
    need = n if need is None else min(need, n)
    if not filters.active:
        return vector_hnsw(conn, qvec, n, ef_search), "hnsw"
    if len(filters.member_ids) == 1 and filters.video_id is None and filters.member_ids[0] in indexed_members(conn):
        rows = vector_member_hnsw(conn, qvec, n, ef_search, filters.member_ids[0])
        if len(rows) >= need:
            return rows, "hnsw-member"
    bound = count_filtered(conn, filters, exact_max)
    if bound <= exact_max:
        return vector_exact(conn, qvec, n, filters), "exact"
    # The scan sees ef_search rows before the filter keeps a share of them: expect share × ef_search rows.
    share = max(planned_share(conn, filters), bound / max(estimated_rows(conn), bound))
    ef_needed = math.ceil(1.5 * need / share)
    if ef_needed > MAX_EF_SEARCH:
        return vector_exact(conn, qvec, n, filters), "exact-selective"
    for ef in dict.fromkeys((min(MAX_EF_SEARCH, max(ef_search, ef_needed)), MAX_EF_SEARCH)):
        rows = vector_hnsw(conn, qvec, n, ef, filters)
        if len(rows) >= need:
            return rows, "hnsw-filtered"
    return vector_exact(conn, qvec, n, filters), "exact-fallback"


def common_word_rows(library_rows: int) -> int:
    """On how many segments a word is too common to rank the library's matches of it (see the module docstring)."""
    return min(COMMON_WORD_ROWS, max(COMMON_WORD_FLOOR, int(COMMON_WORD_SHARE * library_rows)))


def common_words(conn: psycopg.Connection, max_rows: int | None = None) -> set[str]:
    """Index words on more than ``max_rows`` segments (default: ``common_word_rows`` of the library), by ANALYZE's
    statistics of ``tsv``."""
    stats = word_statistics(conn)
    if stats and max_rows is None:
        max_rows = common_word_rows(int(estimated_rows(conn)))
    return {w for w, n in stats.items() if n > max_rows}


def text_candidates(conn: psycopg.Connection, tokens: list[str], n: int, filters: Filters,
                    common: Collection[str] | None = None) -> list[tuple[int, float]]:
    """Full-text matches of any of ``tokens`` (index tokens: words, Hangul bigrams), ranked by ts_rank with
    edited captions (weight A) above automatic ones (C). Tokens in ``common`` (default: ``common_words``) are
    dropped first."""
    if common is None:
        common = common_words(conn) if tokens else set()
    tsquery = tsquery_of([t for t in tokens if t not in common])
    if not tsquery:
        return []
    where, params = filters.sql("h")
    rows = conn.execute(
        f"WITH h AS MATERIALIZED (SELECT s.id, s.video_id, ts_rank('{TEXT_WEIGHTS}'::float4[], s.tsv, q) AS rank "
        f"FROM segments s, to_tsquery('simple', %s) q WHERE s.tsv @@ q) "
        f"SELECT h.id, h.rank FROM h WHERE {where} ORDER BY h.rank DESC, h.id LIMIT %s",
        [tsquery, *params, n],
    ).fetchall()
    return [(r["id"], float(r["rank"])) for r in rows]


# The ordering of a member's segments in a member-only search; the same text as in the index
# segment_members_listing (db/migrations/002_member_listing.sql), so the index is used.
LISTING_CONFIDENCE = ("(CASE WHEN sm.source = 'manual' THEN 1.0::real "
                      "ELSE COALESCE(sm.confidence, 0.0::real) END)")


def member_listing(conn: psycopg.Connection, n: int, filters: Filters) -> list[tuple[int, float]]:
    """When the query names only members (or only a video): their segments, surest face match first
    (manual tags count as 1.0), then in indexing order; a video alone lists its segments in time order."""
    if not filters.member_ids:
        where, params = filters.sql()
        rows = conn.execute(f"SELECT s.id, 0.0 AS conf FROM segments s WHERE {where} "
                            f"ORDER BY s.video_id, s.start_s, s.id LIMIT %s", [*params, n]).fetchall()
    else:
        rest = Filters(member_ids=filters.member_ids[1:], video_id=filters.video_id)
        where, params = rest.sql()
        rows = conn.execute(
            f"SELECT s.id, {LISTING_CONFIDENCE} AS conf FROM segment_members sm "
            "JOIN segments s ON s.id = sm.segment_id "
            f"WHERE sm.member_id = %s AND {where} ORDER BY {LISTING_CONFIDENCE} DESC, sm.segment_id LIMIT %s",
            [filters.member_ids[0], *params, n]).fetchall()
    return [(r["id"], float(r["conf"])) for r in rows]


def document_counts(conn: psycopg.Connection, tokens: list[str], cap: int = COMMON_WORD_ROWS) -> dict[str, int]:
    """On how many segments each index token occurs, in one round trip. The words in PostgreSQL's statistics of
    ``tsv`` (its most common ones) take their count from there; any other word is rarer than the least common of
    them, so it is counted only up to that (and ``cap``): counting a frequent word would read much of the table."""
    stats = word_statistics(conn)
    out = {t: stats[t] for t in tokens if t in stats}
    rest = [t for t in dict.fromkeys(tokens) if t not in out]
    if rest and stats and estimated_rows(conn) >= STATISTICS_ROWS:
        # A large library: a word off the list is rarer than its least common word; how much rarer barely moves
        # its weight (a logarithm), so it is not worth a query.
        return {**out, **{t: min(stats.values()) // 2 for t in rest}}
    if rest:
        limit = max(1, min(cap, min(stats.values(), default=cap)))
        rows = conn.execute(
            "SELECT t.token, (SELECT count(*) FROM (SELECT 1 FROM segments WHERE tsv @@ to_tsquery('simple', t.term) "
            "LIMIT %s) x) AS n FROM unnest(%s::text[], %s::text[]) AS t(token, term)",
            (limit, rest, [tsquery_term(t) for t in rest])).fetchall()
        out.update({r["token"]: int(r["n"]) for r in rows})
    return out


def word_statistics(conn: psycopg.Connection) -> dict[str, int]:
    """Estimated segment counts of the most common index words (ANALYZE's statistics of ``tsv``)."""
    row = conn.execute(
        "SELECT st.most_common_elems::text::text[] AS words, st.most_common_elem_freqs AS freqs, c.reltuples "
        "FROM pg_stats st JOIN pg_class c ON c.oid = 'segments'::regclass WHERE st.schemaname = current_schema() "
        "AND st.tablename = 'segments' AND st.attname = 'tsv'").fetchone()
    if not row or not row["words"]:
        return {}
    # most_common_elem_freqs ends with three summary numbers after the per-word frequencies
    return {w: int(f * row["reltuples"]) for w, f in zip(row["words"], row["freqs"], strict=False)}


def library_size(conn: psycopg.Connection) -> int:
    """The number of segments: the planner's estimate once the table was analysed at a size worth estimating,
    else counted."""
    estimate = estimated_rows(conn)
    if estimate >= 10_000:
        return int(estimate)
    return int(conn.execute("SELECT count(*) AS n FROM segments").fetchone()["n"])


def sample_embeddings(conn: psycopg.Connection, n: int) -> np.ndarray:
    """About ``n`` embeddings of segments picked at random by id (the primary key: no table scan), or every
    one of a small library; an empty array when nothing is embedded yet."""
    bounds = conn.execute("SELECT min(id) AS lo, max(id) AS hi FROM segments").fetchone()
    if bounds["lo"] is None:
        return np.zeros((0, 0), dtype=np.float32)
    lo, hi = int(bounds["lo"]), int(bounds["hi"])
    if hi - lo < 2 * n:
        ids = list(range(lo, hi + 1))
    else:
        ids = sorted(set(np.random.default_rng().integers(lo, hi + 1, size=2 * n).tolist()))
    rows = conn.execute("SELECT embedding FROM segments WHERE id = ANY(%s) AND embedding IS NOT NULL LIMIT %s",
                        (ids, n)).fetchall()
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(r["embedding"].to_numpy(), dtype=np.float32) for r in rows])


def candidate_details(conn: psycopg.Connection, ids: list[int], qvecs=()) -> dict[int, dict]:
    """What ranking and the results need of each candidate, in one round trip: video, time, caption (edited or
    not), words, the row for the result (``row``: the columns of ``db.segments.get_segments`` but members), and
    its cosine to each query vector (``cosines``; None without an embedding)."""
    if not ids:
        return {}
    cosine_columns = "".join(f", 1 - (s.embedding <=> %s) AS c{i}" for i in range(len(qvecs)))
    rows = conn.execute(
        "SELECT s.id, s.video_id, v.title AS video_title, s.start_s, s.end_s, s.caption_auto, s.caption_edited, "
        f"s.caption_ko, s.transcript, s.thumbnail, s.version{cosine_columns} FROM segments s "
        "JOIN videos v ON v.id = s.video_id WHERE s.id = ANY(%s)", [*qvecs, ids], prepare=False).fetchall()
    out = {}
    for r in rows:
        cosines = [r.pop(f"c{i}") for i in range(len(qvecs))]          # what is left is the result's row
        caption = (r["caption_edited"] or r["caption_auto"] or "").strip()
        out[r["id"]] = {
            "video_id": r["video_id"], "start": float(r["start_s"]), "end": float(r["end_s"]), "caption": caption,
            "edited": bool(r["caption_edited"]), "caption_ko": r["caption_ko"], "transcript": r["transcript"] or "",
            "text": " ".join(filter(None, [caption, r["transcript"]])),
            "cosines": [None if c is None else float(c) for c in cosines], "row": r,
        }
    return out


def pair_cosines(conn: psycopg.Connection, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], float | None]:
    """Cosine similarity of each pair of segments' embeddings (None where one has no embedding)."""
    if not pairs:
        return {}
    rows = conn.execute(
        "SELECT p.a, p.b, 1 - (a.embedding <=> b.embedding) AS cos FROM unnest(%s::bigint[], %s::bigint[]) p(a, b) "
        "JOIN segments a ON a.id = p.a JOIN segments b ON b.id = p.b",
        ([a for a, _ in pairs], [b for _, b in pairs])).fetchall()
    return {(r["a"], r["b"]): None if r["cos"] is None else float(r["cos"]) for r in rows}

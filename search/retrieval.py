"""The two retrievers behind hybrid search: pgvector cosine (HNSW or exact) and PostgreSQL full-text.

Each returns ``[(segment_id, score)]`` best first, ordered deterministically (score, then id).

pgvector 0.6 has no iterative index scan: a ``WHERE`` filter applied after an HNSW scan sees only the
``ef_search`` nearest rows and can return fewer rows than asked. Filtered searches therefore take their own
path: exact distances over the filtered rows when they are few (``EXACT_FILTER_MAX``) or too rare for an
HNSW scan to find enough of them (share × 1000 < 1.5 × rows wanted); else an HNSW scan with over-fetch
(``ef_search`` = 1.5 × rows wanted ÷ share, then the maximum), falling back to exact search when that still
cannot fill the page.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import psycopg

EXACT_FILTER_MAX = 3_000      # filtered rows up to which exact distance is cheaper than the HNSW detour (bench)
MAX_EF_SEARCH = 1000          # pgvector's upper bound for hnsw.ef_search
COUNT_CAP = 50_000            # filtered rows are counted up to this (index-only) to estimate the filter's share
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

    Each part of the filter is counted on its own index (index-only, cheap at any size) and the smallest
    count is the bound: the exact path then scans at most that many rows.
    """
    counts = []
    for mid in filters.member_ids:
        counts.append(conn.execute("SELECT count(*) AS n FROM (SELECT 1 FROM segment_members WHERE member_id = %s "
                                   "LIMIT %s) x", (mid, cap + 1)).fetchone()["n"])
    if filters.video_id is not None:
        counts.append(conn.execute("SELECT count(*) AS n FROM (SELECT 1 FROM segments WHERE video_id = %s "
                                   "LIMIT %s) x", (filters.video_id, cap + 1)).fetchone()["n"])
    return int(min(counts)) if counts else cap + 1


def estimated_rows(conn: psycopg.Connection) -> float:
    """The planner's row estimate for segments (free; -1 before the first ANALYZE)."""
    return float(conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'segments'::regclass").fetchone()["reltuples"])


def vector_exact(conn: psycopg.Connection, qvec: np.ndarray, n: int, filters: Filters) -> list[tuple[int, float]]:
    """Exact cosine distance over the filtered rows. ``+ 0`` keeps the planner off the HNSW index.

    With a member filter the scan starts from that member's rows in ``segment_members`` (an index), so its
    cost follows the filtered rows, not the library.
    """
    if filters.member_ids:
        rest = Filters(member_ids=filters.member_ids[1:], video_id=filters.video_id)
        where, params = rest.sql()
        sql = (f"SELECT s.id, (s.embedding <=> %s) + 0 AS dist FROM segment_members sm0 "
               f"JOIN segments s ON s.id = sm0.segment_id WHERE sm0.member_id = %s AND {where} "
               f"AND s.embedding IS NOT NULL ORDER BY 2, 1 LIMIT %s")
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


def vector_candidates(conn: psycopg.Connection, qvec: np.ndarray, n: int, ef_search: int, filters: Filters,
                      exact_max: int = EXACT_FILTER_MAX, need: int | None = None) -> tuple[list[tuple[int, float]], str]:
    """Up to ``n`` nearest segments by cosine distance, and the path taken (for diagnostics and the benchmark).

    A filtered HNSW scan is accepted when it yields at least ``need`` rows (default ``n``): the rows the
    caller's page needs. The scans are deterministic, so every page that the first scan can fill is cut
    from the same list; a deeper page widens the scan or goes exact.
    """
    need = n if need is None else min(need, n)
    if not filters.active:
        return vector_hnsw(conn, qvec, n, ef_search), "hnsw"
    bound = count_filtered(conn, filters, max(exact_max, COUNT_CAP))
    if bound <= exact_max:
        return vector_exact(conn, qvec, n, filters), "exact"
    # The scan sees ef_search rows before the filter keeps a share of them: expect share × ef_search rows.
    share = bound / max(estimated_rows(conn), bound)
    ef_needed = math.ceil(1.5 * need / share)
    if ef_needed > MAX_EF_SEARCH:
        return vector_exact(conn, qvec, n, filters), "exact-selective"
    for ef in dict.fromkeys((min(MAX_EF_SEARCH, max(ef_search, ef_needed)), MAX_EF_SEARCH)):
        rows = vector_hnsw(conn, qvec, n, ef, filters)
        if len(rows) >= need:
            return rows, "hnsw-filtered"
    return vector_exact(conn, qvec, n, filters), "exact-fallback"


def text_candidates(conn: psycopg.Connection, tsquery: str, n: int, filters: Filters) -> list[tuple[int, float]]:
    """Full-text matches ranked by ts_rank_cd with edited captions (A) above automatic ones (C)."""
    if not tsquery:
        return []
    where, params = filters.sql()
    rows = conn.execute(
        f"SELECT s.id, ts_rank_cd('{TEXT_WEIGHTS}'::float4[], s.tsv, q) AS rank "
        f"FROM segments s, to_tsquery('simple', %s) q WHERE s.tsv @@ q AND {where} "
        f"ORDER BY rank DESC, s.id LIMIT %s",
        [tsquery, *params, n],
    ).fetchall()
    return [(r["id"], float(r["rank"])) for r in rows]


def member_listing(conn: psycopg.Connection, n: int, filters: Filters) -> list[tuple[int, float]]:
    """When the query names only members (or only a video): their segments, surest face match first
    (manual tags count as 1.0), then by video and time."""
    where, params = filters.sql()
    if not filters.member_ids:
        rows = conn.execute(f"SELECT s.id, 0.0 AS conf FROM segments s WHERE {where} "
                            f"ORDER BY s.video_id, s.start_s, s.id LIMIT %s", [*params, n]).fetchall()
    else:
        rows = conn.execute(
            f"SELECT s.id, CASE WHEN sm.source = 'manual' THEN 1.0 ELSE COALESCE(sm.confidence, 0) END AS conf "
            f"FROM segment_members sm JOIN segments s ON s.id = sm.segment_id "
            f"WHERE sm.member_id = %s AND {where} ORDER BY conf DESC, s.video_id, s.start_s, s.id LIMIT %s",
            [filters.member_ids[0], *params, n]).fetchall()
    return [(r["id"], float(r["conf"])) for r in rows]


def adjacent_pairs(conn: psycopg.Connection, ids: list[int], gap_s: float) -> list[tuple[int, int, float | None]]:
    """Pairs (earlier, later, cosine) among ``ids`` that are neighbours in time in one video (gap ≤ ``gap_s``)."""
    if len(ids) < 2:
        return []
    rows = conn.execute(
        "SELECT a.id AS a, b.id AS b, 1 - (a.embedding <=> b.embedding) AS cos FROM segments a "
        "JOIN segments b ON b.video_id = a.video_id AND b.id <> a.id AND b.start_s >= a.start_s "
        "AND b.start_s - a.end_s <= %s WHERE a.id = ANY(%s) AND b.id = ANY(%s)",
        (gap_s, ids, ids)).fetchall()
    return [(r["a"], r["b"], None if r["cos"] is None else float(r["cos"])) for r in rows]

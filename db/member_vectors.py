"""HNSW indexes of their own for members on many segments.

A member-filtered search over a member tagged on many segments cannot read all their vectors (exact
search grows with the member), and an HNSW scan of the whole library keeps only the member's share of what
it sees (pgvector 0.6 cannot filter inside the scan). A partial HNSW index over that member's rows of
``segment_members`` (which carry a copy of the segment's embedding, migration 003) answers such a search
like an unfiltered one. ``ensure_member_indexes`` builds one for every member on at least
``MEMBER_INDEX_MIN_ROWS`` segments; the indexer runs it after each run that adds or re-embeds segments.
"""
from __future__ import annotations

import psycopg

MEMBER_INDEX_MIN_ROWS = 20_000     # below this, exact distance over the member's vectors is as fast (bench)
_PREFIX = "segment_members_hnsw_"


def member_index_name(member_id: int) -> str:
    return f"{_PREFIX}{int(member_id)}"


def indexed_members(conn: psycopg.Connection) -> set[int]:
    rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                        "AND tablename = 'segment_members' AND indexname LIKE %s", (_PREFIX + "%",)).fetchall()
    return {int(_row_value(r)[len(_PREFIX):]) for r in rows}


def ensure_member_indexes(conn: psycopg.Connection, min_rows: int = MEMBER_INDEX_MIN_ROWS) -> list[int]:
    """Build the missing indexes of members on ``min_rows`` segments or more; returns their member ids."""
    dim = _row_value(conn.execute("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'segment_members'::regclass "
                                  "AND attname = 'embedding'").fetchone())
    if dim <= 0:                     # no embedding model recorded yet: nothing to index
        return []
    have = indexed_members(conn)
    frequent = [_row_value(r) for r in conn.execute(
        "SELECT member_id FROM segment_members GROUP BY member_id HAVING count(*) >= %s ORDER BY member_id",
        (min_rows,)).fetchall()]
    built = []
    for member_id in frequent:
        if member_id in have:
            continue
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute(f"CREATE INDEX {member_index_name(member_id)} ON segment_members "
                     f"USING hnsw (embedding vector_cosine_ops) WHERE member_id = {int(member_id)}")
        built.append(member_id)
    return built


def _row_value(row):
    return next(iter(row.values())) if isinstance(row, dict) else row[0]

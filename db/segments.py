"""Shared segment queries: reading a segment with its members, and refreshing what search reads.

Every writer (indexer, editor, Slack modal) calls ``refresh_search_fields`` in the same transaction as its
change, so search sees edited text the moment the change commits.
"""
from __future__ import annotations

from typing import Iterable

import psycopg

from core.textindex import SegmentText
from db.embeddings import ensure_embedding_model

SEGMENT_COLUMNS = ("id, video_id, start_s, end_s, caption_auto, caption_edited, caption_ko, transcript, "
                   "thumbnail, version, created_at, updated_at")


def segment_members(conn: psycopg.Connection, segment_ids: Iterable[int]) -> dict[int, list[dict]]:
    ids = list(segment_ids)
    out: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = conn.execute(
        "SELECT sm.segment_id, m.id AS member_id, m.name, sm.confidence, sm.source "
        "FROM segment_members sm JOIN members m ON m.id = sm.member_id "
        "WHERE sm.segment_id = ANY(%s) ORDER BY sm.confidence DESC NULLS LAST, m.name",
        (ids,),
    ).fetchall()
    for r in rows:
        out[r["segment_id"]].append({"member_id": r["member_id"], "name": r["name"],
                                     "confidence": r["confidence"], "source": r["source"]})
    return out


def get_segments(conn: psycopg.Connection, segment_ids: Iterable[int]) -> list[dict]:
    """Segments (dict rows) with a ``members`` list each, in start order."""
    ids = list(segment_ids)
    if not ids:
        return []
    rows = conn.execute(f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE id = ANY(%s) ORDER BY video_id, start_s",
                        (ids,)).fetchall()
    members = segment_members(conn, [r["id"] for r in rows])
    for r in rows:
        r["members"] = members[r["id"]]
    return rows


def segment_text(row: dict) -> SegmentText:
    return SegmentText(
        members=[m["name"] for m in row.get("members", [])],
        caption_auto=row.get("caption_auto"),
        caption_edited=row.get("caption_edited"),
        caption_ko=row.get("caption_ko"),
        transcript=row.get("transcript"),
    )


def refresh_search_fields(conn: psycopg.Connection, segment_ids: Iterable[int], embedder) -> int:
    """Recompute search_text, tsv and embedding of the given segments from their current rows."""
    rows = get_segments(conn, segment_ids)
    if not rows:
        return 0
    ensure_embedding_model(conn, embedder.name, embedder.dim)
    texts = [segment_text(r) for r in rows]
    vectors = embedder.embed([t.embedding_text() for t in texts])
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE segments SET search_text = %s, embedding = %s, tsv = "
            "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') || "
            "setweight(to_tsvector('simple', %s), 'C') WHERE id = %s",
            [
                (t.embedding_text(), vec, p["A"], p["B"], p["C"], r["id"])
                for r, t, vec, p in zip(rows, texts, vectors, (t.weighted_tsvector_parts() for t in texts))
            ],
        )
    return len(rows)

"""SQL of the highlights' key moments (``search.summary``): a video's segments with their place in its meaning, and
the cache of Gemini's answers (``video_summaries``, migration 008)."""
from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb


def segments_with_centrality(conn: psycopg.Connection, video_id: str) -> list[dict]:
    """The video's segments in time order, each with ``cosine``: its cosine to the video's mean embedding, computed
    by pgvector (the stored embeddings are normalised, so the mean of the rows is the mean direction; reading 2,000
    vectors into Python instead costs most of a second). NULL for a segment without embedding."""
    return conn.execute(
        "WITH centre AS (SELECT avg(embedding) AS v FROM segments WHERE video_id = %(v)s AND embedding IS NOT NULL) "
        "SELECT s.id, s.start_s, s.end_s, s.caption_auto, s.caption_edited, s.caption_ko, s.transcript, "
        "1 - (s.embedding <=> centre.v) AS cosine FROM segments s CROSS JOIN centre WHERE s.video_id = %(v)s "
        "ORDER BY s.start_s, s.id", {"v": video_id}).fetchall()


def cached_summary(conn: psycopg.Connection, video_id: str, model: str, request: str, digest: str) -> list | None:
    row = conn.execute("SELECT result FROM video_summaries WHERE video_id = %s AND model = %s AND request = %s "
                       "AND content_hash = %s", (video_id, model, request, digest)).fetchone()
    return row["result"] if row else None


def store_summary(conn: psycopg.Connection, video_id: str, model: str, request: str, digest: str,
                  moments: list[dict]) -> None:
    """Keep the answer, replacing the one of an earlier version of the timeline."""
    conn.execute("INSERT INTO video_summaries (video_id, model, request, content_hash, result) "
                 "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (video_id, model, request) DO UPDATE SET "
                 "content_hash = EXCLUDED.content_hash, result = EXCLUDED.result, created_at = now()",
                 (video_id, model, request, digest, Jsonb(moments)))

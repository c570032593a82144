"""Stored face detections: the SQL of re-matching them after a member's gallery changed (``edits.rematch``).

Candidates are found by an exact scan of ``face_detections.embedding`` in SQL, not with an HNSW index: a member
can own tens of thousands of detections and re-matching needs *all* of them within a distance, while pgvector
0.6's HNSW returns at most ``hnsw.ef_search`` (≤ 1000) nearest rows per query vector and has no range search.
The scan keeps the vectors in the database (only the few candidates come back to Python); migration 010 keeps
them in the table's rows so the scan reads the heap once.
"""
from __future__ import annotations

from typing import Iterable

import psycopg


def face_models_of(conn: psycopg.Connection, member_ids: list[int]) -> list[str]:
    """Face models the members have gallery faces or matched detections of."""
    rows = conn.execute(
        "SELECT model FROM member_faces WHERE member_id = ANY(%(m)s) "
        "UNION SELECT DISTINCT model FROM face_detections WHERE member_id = ANY(%(m)s) ORDER BY 1",
        {"m": list(member_ids)}).fetchall()
    return [r["model"] for r in rows]


def member_gallery(conn: psycopg.Connection, model: str, member_ids: list[int]) -> list[str]:
    """The embeddings of the members' gallery faces of one model, as pgvector text (they go back as parameters)."""
    rows = conn.execute("SELECT embedding::text AS embedding FROM member_faces WHERE model = %s "
                        "AND member_id = ANY(%s) ORDER BY id", (model, list(member_ids))).fetchall()
    return [r["embedding"] for r in rows]


def rematch_candidates(conn: psycopg.Connection, model: str, member_ids: list[int], gallery: list[str],
                       min_similarity: float, parallel_workers: int = 4) -> list[dict]:
    """Detections of ``model`` matched to one of ``member_ids``, or with a cosine similarity of at least
    ``min_similarity`` to one of the ``gallery`` vectors: (id, embedding, member_id, similarity), by id.

    One pass over the table: ``(embedding <=> g) + 0`` keeps the planner off any vector index (see above)."""
    conn.execute("SELECT set_config('max_parallel_workers_per_gather', %s, true)", (str(parallel_workers),))
    return conn.execute(
        "SELECT d.id, d.embedding, d.member_id, d.similarity FROM face_detections d "
        "WHERE d.model = %(model)s AND (d.member_id = ANY(%(members)s) OR EXISTS ("
        "  SELECT 1 FROM unnest(%(gallery)s::text[]::vector[]) g WHERE (d.embedding <=> g) + 0 <= %(dist)s)) "
        "ORDER BY d.id",
        {"model": model, "members": list(member_ids), "gallery": list(gallery),
         "dist": 1.0 - min_similarity}).fetchall()


def set_detection_matches(conn: psycopg.Connection, updates: Iterable[tuple[int | None, float, int]]) -> None:
    """(member_id, similarity, detection id) for each detection re-matched."""
    with conn.cursor() as cur:
        cur.executemany("UPDATE face_detections SET member_id = %s, similarity = %s WHERE id = %s", list(updates))


def segments_of_detections(conn: psycopg.Connection, detection_ids: list[int]) -> list[int]:
    """The segments the detections fall in (by time inside the segment, as the indexer assigns them)."""
    rows = conn.execute(
        "SELECT DISTINCT s.id FROM face_detections d JOIN segments s ON s.video_id = d.video_id "
        "AND s.start_s <= d.t_s AND d.t_s < s.end_s WHERE d.id = ANY(%s) ORDER BY s.id",
        (list(detection_ids),)).fetchall()
    return [r["id"] for r in rows]


def lock_segments(conn: psycopg.Connection, segment_ids: list[int]) -> dict[int, str]:
    """Lock the segments' rows (in id order) against concurrent edits; segment id → video id."""
    rows = conn.execute("SELECT id, video_id FROM segments WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                        (list(segment_ids),)).fetchall()
    return {r["id"]: r["video_id"] for r in rows}


def segment_face_matches(conn: psycopg.Connection, segment_ids: list[int]) -> list[dict]:
    """(segment_id, member_id, similarity) of every stored detection inside the segments, all models."""
    return conn.execute(
        "SELECT s.id AS segment_id, d.member_id, d.similarity FROM segments s JOIN face_detections d "
        "ON d.video_id = s.video_id AND d.t_s >= s.start_s AND d.t_s < s.end_s WHERE s.id = ANY(%s) "
        "ORDER BY s.id, d.t_s, d.id", (list(segment_ids),)).fetchall()


def auto_tags_of(conn: psycopg.Connection, segment_ids: list[int]) -> set[tuple[int, int]]:
    """(segment_id, member_id) of the segments' 'auto' tags."""
    rows = conn.execute("SELECT segment_id, member_id FROM segment_members WHERE segment_id = ANY(%s) "
                        "AND source = 'auto'", (list(segment_ids),)).fetchall()
    return {(r["segment_id"], r["member_id"]) for r in rows}


def delete_auto_tags(conn: psycopg.Connection, segment_ids: list[int]) -> None:
    conn.execute("DELETE FROM segment_members WHERE segment_id = ANY(%s) AND source = 'auto'", (list(segment_ids),))


def member_names(conn: psycopg.Connection, member_ids: Iterable[int]) -> dict[int, str]:
    rows = conn.execute("SELECT id, name FROM members WHERE id = ANY(%s)", (list(member_ids),)).fetchall()
    return {r["id"]: r["name"] for r in rows}

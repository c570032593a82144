"""Unknown faces: the SQL of the clusters of unmatched face detections (``edits.clusters``, migration 011).

Clustering itself happens in numpy (``edits.clusters.update_clusters``): the centroids are few, and each run reads
only the detections not clustered yet, in chunks of ids. Sizes and centroids of clusters whose detections left
(matched to a member since, or their video removed) are recounted here, in SQL.
"""
from __future__ import annotations

import psycopg

LOCK_KEY = 7_011_001        # one clustering run at a time (a transaction-level advisory lock)


def lock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))


def release_matched(conn: psycopg.Connection) -> int:
    """Detections matched to a member since they were clustered leave their cluster; returns how many left."""
    return conn.execute("UPDATE face_detections SET cluster_id = NULL WHERE cluster_id IS NOT NULL "
                        "AND member_id IS NOT NULL").rowcount


def recount(conn: psycopg.Connection) -> int:
    """Recount every cluster whose size changed (its centroid: the mean of the detections left in it); empty
    clusters are deleted. Returns how many clusters were deleted."""
    conn.execute(
        "WITH counts AS (SELECT c.id, count(d.id) AS n FROM face_clusters c "
        "  LEFT JOIN face_detections d ON d.cluster_id = c.id GROUP BY c.id) "
        "UPDATE face_clusters c SET size = counts.n, updated_at = now(), "
        "  centroid = COALESCE((SELECT avg(d.embedding) FROM face_detections d WHERE d.cluster_id = c.id), c.centroid) "
        "FROM counts WHERE counts.id = c.id AND counts.n <> c.size")
    return conn.execute("DELETE FROM face_clusters WHERE size = 0").rowcount


def models_to_cluster(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT DISTINCT model FROM face_detections WHERE member_id IS NULL AND cluster_id IS NULL "
                        "ORDER BY model").fetchall()
    return [r["model"] for r in rows]


def centroids(conn: psycopg.Connection, model: str) -> list[dict]:
    """(id, centroid, size) of the model's clusters, by id."""
    return conn.execute("SELECT id, centroid, size FROM face_clusters WHERE model = %s ORDER BY id",
                        (model,)).fetchall()


def unclustered(conn: psycopg.Connection, model: str, after_id: int, limit: int) -> list[dict]:
    """(id, embedding) of the next unmatched, unclustered detections of the model, by id."""
    return conn.execute("SELECT id, embedding FROM face_detections WHERE model = %s AND member_id IS NULL "
                        "AND cluster_id IS NULL AND id > %s ORDER BY id LIMIT %s", (model, after_id, limit)).fetchall()


def insert_cluster(conn: psycopg.Connection, model: str, centroid, size: int) -> int:
    return conn.execute("INSERT INTO face_clusters (model, centroid, size) VALUES (%s, %s, %s) RETURNING id",
                        (model, centroid, size)).fetchone()["id"]


def update_cluster(conn: psycopg.Connection, cluster_id: int, centroid, size: int) -> None:
    conn.execute("UPDATE face_clusters SET centroid = %s, size = %s, updated_at = now() WHERE id = %s",
                 (centroid, size, cluster_id))


def assign(conn: psycopg.Connection, detection_ids: list[int], cluster_ids: list[int]) -> None:
    conn.execute("UPDATE face_detections d SET cluster_id = u.c FROM unnest(%s::bigint[], %s::bigint[]) AS u(id, c) "
                 "WHERE d.id = u.id", (list(detection_ids), list(cluster_ids)))


def shown_clusters(conn: psycopg.Connection, min_size: int, limit: int) -> list[dict]:
    """(id, model, size) of the clusters of at least ``min_size`` faces, the largest first."""
    return conn.execute("SELECT id, model, size FROM face_clusters WHERE size >= %s ORDER BY size DESC, id LIMIT %s",
                        (min_size, limit)).fetchall()


def best_faces(conn: psycopg.Connection, cluster_ids: list[int], per_cluster: int) -> list[dict]:
    """The cluster's best detections: the detector's most confident, nearest the centroid first
    (cluster_id, id, video_id, t_s, bbox, det_score, model, embedding)."""
    return conn.execute(
        "SELECT c.id AS cluster_id, d.* FROM face_clusters c CROSS JOIN LATERAL ("
        "  SELECT d.id, d.video_id, d.t_s, d.bbox, d.det_score, d.model, d.embedding FROM face_detections d "
        "  WHERE d.cluster_id = c.id "
        "  ORDER BY COALESCE(d.det_score, 0) - (d.embedding <=> c.centroid) DESC, d.id LIMIT %s) d "
        "WHERE c.id = ANY(%s) ORDER BY c.id", (per_cluster, list(cluster_ids))).fetchall()


def appearances(conn: psycopg.Connection, cluster_ids: list[int]) -> list[dict]:
    """Where the clusters' faces appear: (cluster_id, video_id, title, faces, first_s, segment_id of the first),
    the videos with most faces first."""
    return conn.execute(
        "SELECT a.*, (SELECT s.id FROM segments s WHERE s.video_id = a.video_id AND s.start_s <= a.first_s "
        "  AND a.first_s < s.end_s ORDER BY s.start_s LIMIT 1) AS segment_id "
        "FROM (SELECT d.cluster_id, d.video_id, v.title, count(*) AS faces, min(d.t_s) AS first_s "
        "  FROM face_detections d JOIN videos v ON v.id = d.video_id WHERE d.cluster_id = ANY(%s) "
        "  GROUP BY d.cluster_id, d.video_id, v.title) a ORDER BY a.cluster_id, a.faces DESC, a.video_id",
        (list(cluster_ids),)).fetchall()


def detection(conn: psycopg.Connection, detection_id: int) -> dict | None:
    return conn.execute("SELECT id, video_id, t_s, bbox, det_score, model, embedding, cluster_id "
                        "FROM face_detections WHERE id = %s", (detection_id,)).fetchone()


def video_size(conn: psycopg.Connection, video_id: str) -> dict | None:
    return conn.execute("SELECT width, height, title FROM videos WHERE id = %s", (video_id,)).fetchone()

"""The indexer's SQL: one video's rows written (or replaced) in the caller's single transaction."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg

from db.segments import refresh_search_fields
from indexer.errors import EditsWouldBeLost
from indexer.matching import Gallery, as_array, vote
from indexer.thumbnails import write_thumbnail


@dataclass
class FaceRow:
    t: float
    bbox: tuple[float, float, float, float]
    det_score: float
    embedding: np.ndarray
    member_id: int | None = None
    similarity: float | None = None


@dataclass
class SegmentRow:
    start: float
    end: float
    caption: str | None = None
    transcript: str | None = None
    thumbnail_jpeg: bytes | None = None
    members: dict[int, float] = field(default_factory=dict)


def get_video(conn: psycopg.Connection, video_id: str) -> dict | None:
    return conn.execute("SELECT * FROM videos WHERE id = %s", (video_id,)).fetchone()


def edits_of(conn: psycopg.Connection, video_id: str) -> list[str]:
    """What people changed on this video's segments (empty when nothing would be lost by replacing them)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM segment_history WHERE video_id = %(v)s) AS history, "
        "(SELECT count(*) FROM segment_members sm JOIN segments s ON s.id = sm.segment_id "
        " WHERE s.video_id = %(v)s AND sm.source = 'manual') AS manual_tags, "
        "(SELECT count(*) FROM segments WHERE video_id = %(v)s AND caption_edited IS NOT NULL) AS edited_captions",
        {"v": video_id}).fetchone()
    return [f"{n} {k.replace('_', ' ')}" for k, n in row.items() if n]


def guard_edits(conn: psycopg.Connection, video_id: str, discard_edits: bool) -> None:
    found = edits_of(conn, video_id)
    if found and not discard_edits:
        raise EditsWouldBeLost(
            f"video {video_id} has edits ({', '.join(found)}); re-indexing would replace its segments. "
            "Fix: keep them (use `index --retag` to refresh member tags only), or re-run with "
            "--force --discard-edits to replace them.")


def record_failure(conn: psycopg.Connection, video_id: str, title: str, path: str, error: str) -> None:
    conn.execute(
        "INSERT INTO videos (id, title, path, status, error) VALUES (%s, %s, %s, 'failed', %s) "
        "ON CONFLICT (id) DO UPDATE SET status = 'failed', error = EXCLUDED.error, updated_at = now()",
        (video_id, title, path, error[:2000]))


def replace_video(conn: psycopg.Connection, video: dict, segments: list[SegmentRow], faces: list[FaceRow],
                  face_model: str | None, embedder, thumbnails_root: Path, written: list[Path]) -> list[int]:
    """Upsert the video as indexed and replace its segments, tags and face detections. Returns segment ids.

    Thumbnail files are written as segment ids become known; their paths are appended to ``written`` so the
    caller can delete them if the transaction fails.
    """
    conn.execute(
        "INSERT INTO videos (id, title, path, file_size, file_mtime, duration_s, fps, width, height, status, error, "
        "source, shot_boundaries, indexed_at) VALUES (%(id)s, %(title)s, %(path)s, %(file_size)s, %(file_mtime)s, "
        "%(duration_s)s, %(fps)s, %(width)s, %(height)s, 'indexed', NULL, %(source)s, %(shot_boundaries)s, now()) "
        "ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, path = EXCLUDED.path, file_size = EXCLUDED.file_size, "
        "file_mtime = EXCLUDED.file_mtime, duration_s = EXCLUDED.duration_s, fps = EXCLUDED.fps, "
        "width = EXCLUDED.width, height = EXCLUDED.height, status = 'indexed', error = NULL, "
        "source = EXCLUDED.source, shot_boundaries = EXCLUDED.shot_boundaries, indexed_at = now(), updated_at = now()",
        {"source": "indexer", **video})
    conn.execute("DELETE FROM segment_history WHERE video_id = %s", (video["id"],))
    conn.execute("DELETE FROM segments WHERE video_id = %s", (video["id"],))
    conn.execute("DELETE FROM face_detections WHERE video_id = %s", (video["id"],))
    ids: list[int] = []
    for seg in segments:
        sid = conn.execute(
            "INSERT INTO segments (video_id, start_s, end_s, caption_auto, transcript) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING id", (video["id"], seg.start, seg.end, seg.caption or None, seg.transcript)).fetchone()["id"]
        ids.append(sid)
        if seg.thumbnail_jpeg:
            path = write_thumbnail(thumbnails_root, video["id"], sid, seg.thumbnail_jpeg)
            written.append(path)
            conn.execute("UPDATE segments SET thumbnail = %s WHERE id = %s", (str(path), sid))
        for member_id, confidence in seg.members.items():
            conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence, source) "
                         "VALUES (%s, %s, %s, 'auto')", (sid, member_id, confidence))
    if faces:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO face_detections (video_id, t_s, bbox, det_score, model, embedding, member_id, similarity) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(video["id"], f.t, list(f.bbox), f.det_score, face_model, f.embedding, f.member_id, f.similarity)
                 for f in faces])
    refresh_search_fields(conn, ids, embedder)
    return ids


def retag_video(conn: psycopg.Connection, video_id: str, gallery_for, min_votes: int, embedder) -> int:
    """Re-match the stored face detections of one video and replace its 'auto' member tags (manual ones stay).

    ``gallery_for(model)`` returns the Gallery of a face model. Returns the number of segments tagged.
    """
    segs = conn.execute("SELECT id, start_s, end_s FROM segments WHERE video_id = %s ORDER BY start_s",
                        (video_id,)).fetchall()
    dets = conn.execute("SELECT id, t_s, model, embedding FROM face_detections WHERE video_id = %s ORDER BY t_s",
                        (video_id,)).fetchall()
    per_segment: dict[int, list] = {s["id"]: [] for s in segs}
    updates = []
    for d in dets:
        gallery: Gallery = gallery_for(d["model"])
        m = gallery.match(as_array(d["embedding"]))
        updates.append((m.member_id, m.similarity, d["id"]))
        for s in segs:
            if s["start_s"] <= d["t_s"] < s["end_s"]:
                per_segment[s["id"]].append(m)
                break
    with conn.cursor() as cur:
        cur.executemany("UPDATE face_detections SET member_id = %s, similarity = %s WHERE id = %s", updates)
    ids = [s["id"] for s in segs]
    conn.execute("DELETE FROM segment_members WHERE segment_id = ANY(%s) AND source = 'auto'", (ids,))
    tagged = 0
    for sid, matches in per_segment.items():
        votes = vote(matches, min_votes)
        tagged += bool(votes)
        for member_id, confidence in votes.items():
            conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence, source) "
                         "VALUES (%s, %s, %s, 'auto') ON CONFLICT (segment_id, member_id) DO NOTHING",
                         (sid, member_id, confidence))
    refresh_search_fields(conn, ids, embedder)
    return tagged

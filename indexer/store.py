"""The indexer's own SQL: one video's rows written (or replaced) in the caller's single transaction, and its
face detections re-matched. Rows shared with other writers go through ``db.videos`` / ``db.segments``.

Thumbnail files are written inside a video's transaction, before it commits, so writers hold the shared thumbnail
lock of ``db.videos`` for the whole transaction; the removal of unreferenced thumbnails (``indexer.leftovers``) runs
only under the exclusive one: it never takes the files of a video still being written for leftovers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg

from db.segments import add_members, insert_segment, refresh_search_fields
from db.videos import (
    hold_thumbnail_writers_lock,
    upsert_video,
    video_edits,
)
from indexer import shutdown
from indexer.errors import EditsWouldBeLost
from indexer.matching import Gallery, as_array, vote
from indexer.thumbnails import write_thumbnail

EMBED_BATCH = 64                        # segments embedded between two checks for a stop signal


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


def library_counts(conn: psycopg.Connection) -> tuple[list[dict], dict, list[dict], list[dict]]:
    """For ``indexer status``: videos per status; counts of segments, members, gallery and detected faces;
    the failed videos with their reasons; gallery faces per face model."""
    by_status = conn.execute("SELECT status, count(*) AS n FROM videos GROUP BY status ORDER BY status").fetchall()
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM segments) AS segments, (SELECT count(*) FROM members) AS members, "
        "(SELECT count(*) FROM member_faces) AS member_faces, (SELECT count(*) FROM face_detections) AS faces, "
        "(SELECT count(*) FROM face_detections WHERE member_id IS NULL) AS unmatched").fetchone()
    failed = conn.execute("SELECT id, path, error FROM videos WHERE status = 'failed' ORDER BY id").fetchall()
    models = conn.execute("SELECT model, count(*) AS n FROM member_faces GROUP BY model ORDER BY model").fetchall()
    return by_status, counts, failed, models


def captions_without_korean(conn: psycopg.Connection, video_id: str | None = None) -> list[dict]:
    """(id, caption) of segments with a caption (edited, else automatic) not in Korean and no Korean caption."""
    return conn.execute(
        "SELECT id, coalesce(caption_edited, caption_auto) AS caption FROM segments WHERE caption_ko IS NULL "
        "AND coalesce(caption_edited, caption_auto) IS NOT NULL AND coalesce(caption_edited, caption_auto) "
        "!~ '[가-힣]' AND (%(v)s::text IS NULL OR video_id = %(v)s) ORDER BY id", {"v": video_id}).fetchall()


def set_korean_caption(conn: psycopg.Connection, segment_id: int, caption_ko: str) -> bool:
    """Fill a missing Korean caption (never one a person wrote meanwhile); True if it was filled."""
    row = conn.execute("UPDATE segments SET caption_ko = %s, version = version + 1, updated_at = now() "
                       "WHERE id = %s AND caption_ko IS NULL RETURNING id", (caption_ko, segment_id)).fetchone()
    return row is not None


def thumbnails_of(conn: psycopg.Connection, video_id: str) -> list[str]:
    return [r["thumbnail"] for r in conn.execute("SELECT thumbnail FROM segments WHERE video_id = %s "
                                                 "AND thumbnail IS NOT NULL", (video_id,)).fetchall()]


class StoppableEmbedder:
    """The embedder, run in batches with a check for a stop signal between them: ``refresh_search_fields``
    embeds a whole video in one call (before it takes the model lock, so the batches must be made here)."""

    def __init__(self, embedder):
        self._embedder = embedder

    def __getattr__(self, name):
        return getattr(self._embedder, name)

    def embed(self, texts: list[str]) -> np.ndarray:
        parts = []
        for i in range(0, len(texts), EMBED_BATCH):
            shutdown.check()
            parts.append(self._embedder.embed(texts[i:i + EMBED_BATCH]))
        return np.vstack(parts) if parts else self._embedder.embed(texts)


def auto_tags(confidences: dict[int, float]) -> list[dict]:
    """Member tags found by a machine (face votes, legacy face tags): member id → confidence."""
    return [{"member_id": mid, "confidence": conf, "source": "auto"} for mid, conf in confidences.items()]


def clear_video_segments(conn: psycopg.Connection, video_id: str) -> None:
    """Remove a video's segments and their history before it is indexed or imported again."""
    conn.execute("DELETE FROM segment_history WHERE video_id = %s", (video_id,))
    conn.execute("DELETE FROM segments WHERE video_id = %s", (video_id,))


def guard_edits(conn: psycopg.Connection, video_id: str, discard_edits: bool) -> None:
    """EditsWouldBeLost when the video was edited (``db.videos.video_edits``) and edits are not to be discarded."""
    found = video_edits(conn, video_id)
    if found and not discard_edits:
        raise EditsWouldBeLost(
            f"video {video_id} has edits ({', '.join(found)}); re-indexing would replace its segments. "
            "Fix: keep them (use `index --retag` to refresh member tags only), or re-run with "
            "--force --discard-edits to replace them.")


def replace_video(conn: psycopg.Connection, video: dict, segments: list[SegmentRow], faces: list[FaceRow],
                  face_model: str | None, embedder, thumbnails_root: Path, written: list[Path]) -> list[int]:
    """Upsert the video as indexed and replace its segments, tags and face detections. Returns segment ids.

    Thumbnail files are written as segment ids become known; their paths are appended to ``written`` so the
    caller can delete them if the transaction fails. May stop (``shutdown.check``) between segments and between
    embedding batches; the caller's transaction is then rolled back.
    """
    hold_thumbnail_writers_lock(conn)
    upsert_video(conn, {**video, "source": "indexer"})
    clear_video_segments(conn, video["id"])
    conn.execute("DELETE FROM face_detections WHERE video_id = %s", (video["id"],))
    ids: list[int] = []
    for seg in segments:
        shutdown.check()
        sid = insert_segment(conn, {"video_id": video["id"], "start_s": seg.start, "end_s": seg.end,
                                    "caption_auto": seg.caption or None, "transcript": seg.transcript})
        ids.append(sid)
        if seg.thumbnail_jpeg:
            path = write_thumbnail(thumbnails_root, video["id"], sid, seg.thumbnail_jpeg)
            written.append(path)
            conn.execute("UPDATE segments SET thumbnail = %s WHERE id = %s", (str(path), sid))
        add_members(conn, sid, auto_tags(seg.members))
    if faces:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO face_detections (video_id, t_s, bbox, det_score, model, embedding, member_id, similarity) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(video["id"], f.t, list(f.bbox), f.det_score, face_model, f.embedding, f.member_id, f.similarity)
                 for f in faces])
    refresh_search_fields(conn, ids, StoppableEmbedder(embedder))
    return ids


def retag_video(conn: psycopg.Connection, video_id: str, gallery_for, min_votes: int,
                embedder) -> tuple[int, int]:
    """Re-match the stored face detections of one video and replace its 'auto' member tags (manual ones stay).

    ``gallery_for(model)`` returns the Gallery of a face model. Returns the video's numbers of segments and of
    stored faces.
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
    for sid, matches in per_segment.items():
        add_members(conn, sid, auto_tags(vote(matches, min_votes)))
    refresh_search_fields(conn, ids, embedder)
    return len(segs), len(dets)

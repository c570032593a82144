"""Videos: one by id (or not found), the library listing, and the video's media file on disk.

The media file is the one place that turns a video id into a path: the path comes from the database only,
never from a URL; a relative path is relative to ``library_dir`` (else the config file's folder); with
``library_dir`` set, a file that resolves (links followed) outside it is never served or cut.
"""
from __future__ import annotations

from pathlib import Path

import psycopg

from core.errors import Forbidden, NotFound

VIDEO_COLUMNS = ("id, title, path, file_size, file_mtime, duration_s, fps, width, height, status, error, source, "
                 "shot_boundaries, indexed_at")


def find_video(conn: psycopg.Connection, video_id: str, lock: bool = False) -> dict | None:
    """The video's row, or None. ``lock``: FOR UPDATE (edits of one video run one at a time)."""
    return conn.execute(f"SELECT {VIDEO_COLUMNS} FROM videos WHERE id = %s{' FOR UPDATE' if lock else ''}",
                        (video_id,)).fetchone()


def get_video(conn: psycopg.Connection, video_id: str, lock: bool = False) -> dict:
    """The video's row; NotFound when there is no such video."""
    row = find_video(conn, video_id, lock)
    if row is None:
        raise NotFound(f"Video {video_id!r} does not exist (removed from the library?).")
    return row


def upsert_video(conn: psycopg.Connection, video: dict) -> None:
    """Insert or update a video as indexed: the columns given in ``video`` (``id`` and any of the table's),
    status 'indexed', no error, indexed now. Column names come from the callers' code, never from input."""
    cols = list(video)
    updates = "".join(f"{c} = EXCLUDED.{c}, " for c in cols if c != "id")
    conn.execute(
        f"INSERT INTO videos ({', '.join(cols)}, status, indexed_at) VALUES ({', '.join(['%s'] * len(cols))}, "
        f"'indexed', now()) ON CONFLICT (id) DO UPDATE SET {updates}status = 'indexed', error = NULL, "
        "indexed_at = now(), updated_at = now()", list(video.values()))


def record_failure(conn: psycopg.Connection, video_id: str, title: str, path: str, error: str) -> None:
    conn.execute(
        "INSERT INTO videos (id, title, path, status, error) VALUES (%s, %s, %s, 'failed', %s) "
        "ON CONFLICT (id) DO UPDATE SET status = 'failed', error = EXCLUDED.error, updated_at = now()",
        (video_id, title, path, error[:2000]))


def indexed_video_ids(conn: psycopg.Connection) -> list[str]:
    return [r["id"] for r in conn.execute("SELECT id FROM videos WHERE status = 'indexed' ORDER BY id").fetchall()]


def list_videos(conn: psycopg.Connection) -> list[dict]:
    """Every video with its number of segments (``n``), by title."""
    columns = ", ".join("v." + c for c in VIDEO_COLUMNS.split(", "))
    return conn.execute(f"SELECT {columns}, count(s.id) AS n FROM videos v LEFT JOIN segments s ON s.video_id = v.id "
                        "GROUP BY v.id ORDER BY v.title, v.id").fetchall()


def inside(path: Path, folder: Path) -> bool:
    """``path`` exists and resolves (links followed) to a place under ``folder``."""
    try:
        path.resolve(strict=True).relative_to(folder.resolve())
        return True
    except (OSError, ValueError):
        return False


def media_file(conn: psycopg.Connection, cfg, video_id: str) -> Path:
    """The video's file: NotFound (no video, no file recorded, file gone) or Forbidden (outside the library)."""
    row = get_video(conn, video_id)
    if not row["path"]:
        raise NotFound(f"Video {video_id!r} has no file recorded (imported from metadata only): there is "
                       "nothing to play or cut.")
    path = Path(row["path"])
    library = cfg.library_path
    if not path.is_absolute():
        path = (library or cfg.base_dir) / path
    if library is not None and not inside(path, library):
        raise Forbidden(f"The file of video {video_id!r} is outside the library folder; it is not served.")
    if not path.is_file():
        raise NotFound(f"The file of video {video_id!r} is missing on disk ({path}). Restore it or re-index the "
                       "video.")
    return path.resolve()

"""Videos: one by id (or not found), the library listing, what people edited on a video, removing one, and the
video's media file on disk.

"Edited" has one definition, ``video_edits``: history entries, manual member tags or edited captions. The indexer
refuses to replace such a video and ``edits.videos.remove_video`` refuses to remove it unless told to.

Thumbnails (``<thumbnails>/<video_id>/<segment_id>.jpg``) are written inside an indexer's transaction, before it
commits, so for a while a live indexer's new files are referenced by no committed row. Writers therefore hold a
shared advisory lock for their whole transaction, and whoever removes thumbnails that no row names (the indexer's
leftovers sweep, removing a video) does so only under the exclusive one.

The media file is the one place that turns a video id into a path: the path comes from the database only,
never from a URL; a relative path is relative to ``library_dir`` (else the config file's folder); with
``library_dir`` set, a file that resolves (links followed) outside it is never served or cut.

A video whose own file browsers cannot play has a playable copy (``indexer.proxy``) under ``data_dir/proxies``:
the editor plays ``playable_file`` (that copy, else the video's own file), clips are cut from ``media_file`` (the
original, the source of truth). Copies are served only from inside the proxies folder, after resolving links.
"""
from __future__ import annotations

import re
from pathlib import Path

import psycopg

from core.errors import Forbidden, NotFound

THUMBNAIL_WRITERS_LOCK = 0x6D7673_7468  # advisory lock key ("mvs" "th"): see the module docstring
EDIT_KINDS = (("history", "history entry", "history entries"), ("manual_tags", "manual tag", "manual tags"),
              ("edited_captions", "edited caption", "edited captions"))
VIDEO_COLUMNS = ("id, title, path, file_size, file_mtime, duration_s, fps, width, height, status, error, source, "
                 "shot_boundaries, indexed_at, speech_error")


def find_video(conn: psycopg.Connection, video_id: str, lock: bool = False) -> dict | None:
    """The video's row, or None. ``lock``: FOR UPDATE (edits of one video run one at a time)."""
    return conn.execute(f"SELECT {VIDEO_COLUMNS} FROM videos WHERE id = %s{' FOR UPDATE' if lock else ''}",
                        (video_id,)).fetchone()


def videos_named(conn: psycopg.Connection, name: str, limit: int = 10) -> list[dict]:
    """Videos a person may mean by ``name``: the one with that id, else those with that title (case aside), else
    those whose title contains it; at most ``limit``, by title."""
    name = name.strip()
    if not name:
        return []
    row = find_video(conn, name)
    if row is not None:
        return [row]
    for where, arg in (("lower(title) = lower(%s)", name),
                       ("title ILIKE %s ESCAPE '\\'", "%" + re.sub(r"([\\%_])", r"\\\1", name) + "%")):
        rows = conn.execute(f"SELECT {VIDEO_COLUMNS} FROM videos WHERE {where} ORDER BY title, id LIMIT %s",
                            (arg, limit)).fetchall()
        if rows:
            return rows
    return []


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


def edits_by_video(conn: psycopg.Connection, video_ids: list[str] | None = None) -> dict[str, list[str]]:
    """What people changed on each video's segments, e.g. ``["2 history entries", "1 edited caption"]``, for the
    videos given (default: all); a video nobody edited is absent. The one definition of "edited"."""
    rows = conn.execute(
        "SELECT v.id, (SELECT count(*) FROM segment_history h WHERE h.video_id = v.id) AS history, "
        "(SELECT count(*) FROM segment_members sm JOIN segments s ON s.id = sm.segment_id "
        " WHERE s.video_id = v.id AND sm.source = 'manual') AS manual_tags, "
        "(SELECT count(*) FROM segments s WHERE s.video_id = v.id AND s.caption_edited IS NOT NULL) "
        "AS edited_captions FROM videos v WHERE %(ids)s::text[] IS NULL OR v.id = ANY(%(ids)s)",
        {"ids": video_ids}).fetchall()
    out = {}
    for r in rows:
        found = [f"{r[key]} {one if r[key] == 1 else many}" for key, one, many in EDIT_KINDS if r[key]]
        if found:
            out[r["id"]] = found
    return out


def video_edits(conn: psycopg.Connection, video_id: str) -> list[str]:
    """What people changed on this video's segments (empty when nothing would be lost by replacing them)."""
    return edits_by_video(conn, [video_id]).get(video_id, [])


def hold_thumbnail_writers_lock(conn: psycopg.Connection) -> None:
    """Shared with other writers, until this transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (THUMBNAIL_WRITERS_LOCK,))


def no_thumbnail_writers(conn: psycopg.Connection) -> bool:
    """Take the lock exclusively until this transaction ends if no indexer is writing; False if one is."""
    return conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (THUMBNAIL_WRITERS_LOCK,)).fetchone()["ok"]


def referenced_thumbnails(conn: psycopg.Connection, video_id: str) -> list[str]:
    """The thumbnail paths of a video that its segments use, or that a history entry would bring back on revert
    (a merge keeps one of its segments' thumbnails; the others live on in the entry's ``before``)."""
    rows = conn.execute(
        "SELECT thumbnail AS t FROM segments WHERE video_id = %(v)s AND thumbnail IS NOT NULL "
        "UNION SELECT jsonb_path_query(h.before || h.after, '$[*].thumbnail') #>> '{}' "
        "FROM segment_history h WHERE h.video_id = %(v)s", {"v": video_id}).fetchall()
    return [r["t"] for r in rows if r["t"]]


def delete_video(conn: psycopg.Connection, video_id: str) -> dict:
    """Delete the video's history, segments (with their member tags), face detections and the video row, in the
    caller's transaction. Returns how many of each went (``history``, ``segments``, ``tags``, ``faces``) and the
    thumbnail files its rows named (``thumbnails``), for the caller to delete once the transaction commits.
    The video's media file is not touched."""
    thumbnails = referenced_thumbnails(conn, video_id)
    tags = conn.execute("SELECT count(*) AS n FROM segment_members sm JOIN segments s ON s.id = sm.segment_id "
                        "WHERE s.video_id = %s", (video_id,)).fetchone()["n"]
    history = conn.execute("DELETE FROM segment_history WHERE video_id = %s", (video_id,)).rowcount
    segments = conn.execute("DELETE FROM segments WHERE video_id = %s", (video_id,)).rowcount
    faces = conn.execute("DELETE FROM face_detections WHERE video_id = %s", (video_id,)).rowcount
    conn.execute("DELETE FROM videos WHERE id = %s", (video_id,))
    return {"history": history, "segments": segments, "tags": tags, "faces": faces, "thumbnails": thumbnails}


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


def proxy_file(conn: psycopg.Connection, cfg, video_id: str) -> Path | None:
    """The video's playable copy when it has one on disk inside the proxies folder, else None."""
    row = conn.execute("SELECT proxy_path FROM videos WHERE id = %s", (video_id,)).fetchone()
    return _proxy_on_disk(cfg, row["proxy_path"]) if row else None


def _proxy_on_disk(cfg, recorded: str | None) -> Path | None:
    if not recorded:
        return None
    path = Path(recorded)
    return path.resolve() if inside(path, cfg.proxies_path) and path.is_file() else None


def playable_file(conn: psycopg.Connection, cfg, video_id: str) -> Path:
    """The file a browser plays: the video's playable copy when it needed one, else its own file (``media_file``).
    NotFound saying why when there is nothing to play (no file, a copy that failed or went missing)."""
    row = conn.execute("SELECT proxy_path, proxy_error FROM videos WHERE id = %s", (video_id,)).fetchone()
    if row is None:
        get_video(conn, video_id)       # raises NotFound, worded once
    if row["proxy_path"]:
        path = _proxy_on_disk(cfg, row["proxy_path"])
        if path is None:
            raise NotFound(f"The playable copy of video {video_id!r} is missing ({row['proxy_path']}), or outside "
                           f"{cfg.proxies_path}. Re-index the video to make it again: python -m indexer index "
                           "--force FILE.")
        return path
    if row["proxy_error"]:
        raise NotFound(f"Video {video_id!r} cannot be played: {row['proxy_error']} Once that is fixed, re-index it: "
                       "python -m indexer index --force FILE.")
    return media_file(conn, cfg, video_id)

"""Read-only queries behind the editor's pages and API: videos, their segments, members."""
from __future__ import annotations

from db.segments import get_segments
from editor import store
from editor.errors import NotFound

_VIDEO_COLUMNS = "id, title, path, duration_s, fps, width, height, status, shot_boundaries, indexed_at"


def _public_video(row: dict, segment_count: int | None = None) -> dict:
    out = {k: row[k] for k in ("id", "title", "duration_s", "fps", "width", "height", "status")}
    out["shot_boundaries"] = list(row.get("shot_boundaries") or [])
    out["media_url"] = f"/media/videos/{row['id']}"
    out["page_url"] = f"/videos/{row['id']}"
    out["has_file"] = bool(row.get("path"))
    if segment_count is not None:
        out["segment_count"] = segment_count
    return out


def videos(ctx) -> list[dict]:
    with ctx.db.connection() as conn:
        rows = conn.execute(
            f"SELECT {', '.join('v.' + c for c in _VIDEO_COLUMNS.split(', '))}, count(s.id) AS n "
            "FROM videos v LEFT JOIN segments s ON s.video_id = v.id GROUP BY v.id ORDER BY v.title, v.id").fetchall()
    return [_public_video(r, r["n"]) for r in rows]


def video_row(ctx, video_id: str) -> dict:
    with ctx.db.connection() as conn:
        row = conn.execute(f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE id = %s", (video_id,)).fetchone()
    if row is None:
        raise NotFound(f"Video {video_id!r} does not exist.")
    return row


def video_with_segments(ctx, video_id: str) -> dict:
    with ctx.db.connection() as conn:
        row = conn.execute(f"SELECT {_VIDEO_COLUMNS} FROM videos WHERE id = %s", (video_id,)).fetchone()
        if row is None:
            raise NotFound(f"Video {video_id!r} does not exist.")
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments WHERE video_id = %s", (video_id,)).fetchall()]
        segs = get_segments(conn, ids)
    return {"video": _public_video(row, len(segs)), "segments": [store.public_segment(s) for s in segs]}


def members(ctx) -> list[dict]:
    with ctx.db.connection() as conn:
        rows = conn.execute(
            "SELECT m.id, m.name, m.group_name, coalesce(array_agg(a.alias ORDER BY a.alias) "
            "FILTER (WHERE a.alias IS NOT NULL AND a.alias <> m.name), '{}') AS aliases "
            "FROM members m LEFT JOIN member_aliases a ON a.member_id = m.id GROUP BY m.id ORDER BY m.name").fetchall()
    return [{"id": r["id"], "name": r["name"], "group": r["group_name"], "aliases": list(r["aliases"])} for r in rows]

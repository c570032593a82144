"""SQL and checks the editing operations share: locking, snapshots of segments (with members), writing
them back, and the history table.

A snapshot is a JSON-ready dict of one segment row plus its members; ``segment_history`` keeps lists of
them (before/after) and a revert writes the ``before`` list back.
"""
from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from db.segments import get_segments
from db.videos import get_video
from edits.errors import EditError, NotFound, VersionConflict

SNAPSHOT_FIELDS = ("id", "video_id", "start_s", "end_s", "caption_auto", "caption_edited", "caption_ko",
                   "transcript", "thumbnail", "version")
CONTENT_FIELDS = ("video_id", "start_s", "end_s", "caption_auto", "caption_edited", "caption_ko", "transcript",
                  "thumbnail")
HISTORY_COLUMNS = ("id, video_id, operation, actor, created_at, segment_ids, before, after, reverts, reverted_by, "
                   "gallery")
# Gaps and overlaps smaller than this are rounding, not content.
EPS = 1e-6
MIN_LENGTH_S = 0.1


def lock_video(conn: psycopg.Connection, video_id: str) -> dict:
    """Lock the video row: structural edits of one video run one at a time (no overlap can slip in)."""
    return get_video(conn, video_id, lock=True)


def video_of_segment(conn: psycopg.Connection, segment_id: int) -> str:
    row = conn.execute("SELECT video_id FROM segments WHERE id = %s", (segment_id,)).fetchone()
    if row is None:
        raise NotFound(f"Segment {segment_id} does not exist (deleted or merged?). Reload the page.")
    return row["video_id"]


def load_segments(conn: psycopg.Connection, segment_ids: list[int]) -> list[dict]:
    """Segments with members, in start order; NotFound naming any id that does not exist."""
    rows = get_segments(conn, segment_ids)
    missing = sorted(set(segment_ids) - {r["id"] for r in rows})
    if missing:
        raise NotFound(f"Segment {', '.join(map(str, missing))} does not exist (deleted or merged?). Reload the page.")
    return rows


def check_version(seg: dict, expected: int | None) -> None:
    if expected is not None and int(expected) != seg["version"]:
        raise VersionConflict(
            f"Segment {seg['id']} was changed by someone else (version {seg['version']}, you edited version "
            f"{expected}). Reload to see the current state, then edit again.")


def snapshot(row: dict) -> dict:
    out = {k: row.get(k) for k in SNAPSHOT_FIELDS}
    out["members"] = [{"member_id": m["member_id"], "name": m["name"], "confidence": m["confidence"],
                       "source": m["source"]} for m in row.get("members", [])]
    return out


def same_content(a: dict, b: dict, ignore: tuple[str, ...] = ()) -> bool:
    """Two snapshots of a segment hold the same content (bounds, texts, members), whatever their versions."""
    def members(s):
        return sorted((m["member_id"], m["source"], None if m["confidence"] is None else round(m["confidence"], 4))
                      for m in s.get("members", []))
    return all(a.get(k) == b.get(k) for k in CONTENT_FIELDS if k not in ignore) and members(a) == members(b)


def snapshots(conn: psycopg.Connection, segment_ids: list[int]) -> list[dict]:
    return [snapshot(r) for r in get_segments(conn, segment_ids)]


def check_bounds(video: dict, start: float, end: float) -> None:
    if start < 0:
        raise EditError(f"Start {start:.2f} s is before the beginning of the video; use 0 or later.")
    if end <= start:
        raise EditError(f"End {end:.2f} s must be after start {start:.2f} s.")
    if end - start < MIN_LENGTH_S - EPS:
        raise EditError(f"A segment must be at least {MIN_LENGTH_S} s long ({start:.2f}-{end:.2f} s is shorter).")
    duration = video.get("duration_s")
    if duration and end > duration + 0.05:
        raise EditError(f"End {end:.2f} s is past the end of the video ({duration:.2f} s).")


def check_no_overlap(conn: psycopg.Connection, video_id: str, start: float, end: float,
                     ignore_ids: list[int] = ()) -> None:
    row = conn.execute(
        "SELECT id, start_s, end_s FROM segments WHERE video_id = %s AND start_s < %s AND end_s > %s "
        "AND NOT (id = ANY(%s)) ORDER BY start_s LIMIT 1",
        (video_id, end - EPS, start + EPS, list(ignore_ids)),
    ).fetchone()
    if row is not None:
        raise EditError(f"{start:.2f}-{end:.2f} s overlaps segment {row['id']} ({row['start_s']:.2f}-"
                        f"{row['end_s']:.2f} s); segments of a video cannot overlap.")


def update_fields(conn: psycopg.Connection, segment_id: int, fields: dict) -> None:
    """Set the given columns (names from the operations' code) and bump the version."""
    sets = "".join(f"{k} = %s, " for k in fields)
    conn.execute(f"UPDATE segments SET {sets}version = version + 1, updated_at = now() WHERE id = %s",
                 [*fields.values(), segment_id])


# ---------------------------------------------------------------- history
def record_history(conn: psycopg.Connection, video_id: str, operation: str, actor: str, before: list[dict],
                   after: list[dict], reverts: int | None = None, gallery: dict | None = None) -> int:
    """``gallery``: what a "teach" entry (or its revert) did to a member's gallery (migration 012)."""
    ids = sorted({s["id"] for s in before} | {s["id"] for s in after})
    row = conn.execute(
        "INSERT INTO segment_history (video_id, operation, actor, segment_ids, before, after, reverts, gallery) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (video_id, operation, actor, ids, Jsonb(_jsonable(before)), Jsonb(_jsonable(after)), reverts,
         None if gallery is None else Jsonb(_jsonable(gallery)))).fetchone()
    return row["id"]


def history_entries(conn: psycopg.Connection, *, video_id: str | None = None, segment_id: int | None = None,
                    limit: int = 100) -> list[dict]:
    """Newest first: of one segment (entries whose snapshots include it), of one video, or of all."""
    if segment_id is not None:
        where, params = "segment_ids @> ARRAY[%s]::bigint[]", [int(segment_id)]
    elif video_id is not None:
        where, params = "video_id = %s", [video_id]
    else:
        where, params = "TRUE", []
    return conn.execute(f"SELECT {HISTORY_COLUMNS} FROM segment_history WHERE {where} ORDER BY id DESC LIMIT %s",
                        [*params, limit]).fetchall()


def history_entry(conn: psycopg.Connection, history_id: int, lock: bool = False) -> dict | None:
    return conn.execute(f"SELECT {HISTORY_COLUMNS} FROM segment_history WHERE id = %s{' FOR UPDATE' if lock else ''}",
                        (history_id,)).fetchone()


def mark_reverted(conn: psycopg.Connection, history_id: int, by: int) -> None:
    conn.execute("UPDATE segment_history SET reverted_by = %s WHERE id = %s", (by, history_id))


def note_gallery(conn: psycopg.Connection, history_id: int, extra: dict) -> None:
    """Add keys to an entry's ``gallery`` note (the re-match's counts, known after its own transaction)."""
    conn.execute("UPDATE segment_history SET gallery = gallery || %s WHERE id = %s", (Jsonb(extra), history_id))


def later_change(conn: psycopg.Connection, entry: dict, segment_id: int) -> dict | None:
    """The first history entry after ``entry`` that touched the segment."""
    return conn.execute(
        "SELECT id, operation, actor FROM segment_history WHERE id > %s AND segment_ids @> ARRAY[%s]::bigint[] "
        "ORDER BY id LIMIT 1", (entry["id"], segment_id)).fetchone()


def next_version(conn: psycopg.Connection, segment_id: int) -> int:
    """A version the segment never had: a restored row must not match anyone's stale copy by accident."""
    row = conn.execute(
        "SELECT max((s->>'version')::int) AS v FROM segment_history h, "
        "jsonb_array_elements(h.before || h.after) s WHERE h.segment_ids @> ARRAY[%s]::bigint[] "
        "AND (s->>'id')::bigint = %s", (segment_id, segment_id)).fetchone()
    return (row["v"] or 0) + 1


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value

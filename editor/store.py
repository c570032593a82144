"""SQL the editing operations share: locking, snapshots of segments (with members) and writing them back.

A snapshot is a JSON-ready dict of one segment row plus its members; ``segment_history`` keeps lists of
them (before/after) and a revert writes the ``before`` list back with ``restore_snapshot``.
"""
from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from core.textindex import normalize_alias
from db.segments import get_segments, refresh_search_fields
from editor.errors import EditError, NotFound, VersionConflict

SNAPSHOT_FIELDS = ("id", "video_id", "start_s", "end_s", "caption_auto", "caption_edited", "caption_ko",
                   "transcript", "thumbnail", "version")
# Gaps and overlaps smaller than this are rounding, not content.
EPS = 1e-6
MIN_LENGTH_S = 0.1


def lock_video(conn: psycopg.Connection, video_id: str) -> dict:
    """Lock the video row: structural edits of one video run one at a time (no overlap can slip in)."""
    row = conn.execute("SELECT id, title, duration_s FROM videos WHERE id = %s FOR UPDATE", (video_id,)).fetchone()
    if row is None:
        raise NotFound(f"Video {video_id!r} does not exist.")
    return row


def video_of_segment(conn: psycopg.Connection, segment_id: int) -> str:
    row = conn.execute("SELECT video_id FROM segments WHERE id = %s", (segment_id,)).fetchone()
    if row is None:
        raise NotFound(f"Segment {segment_id} does not exist (deleted or merged?). Reload the page.")
    return row["video_id"]


def load_segments(conn: psycopg.Connection, segment_ids: list[int]) -> list[dict]:
    """Segments with members, in start order; 404 naming any id that does not exist."""
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


CONTENT_FIELDS = ("video_id", "start_s", "end_s", "caption_auto", "caption_edited", "caption_ko", "transcript",
                  "thumbnail")


def same_content(a: dict, b: dict) -> bool:
    """Two snapshots of a segment hold the same content (bounds, texts, members), whatever their versions."""
    def members(s):
        return sorted((m["member_id"], m["source"], None if m["confidence"] is None else round(m["confidence"], 4))
                      for m in s.get("members", []))
    return all(a.get(k) == b.get(k) for k in CONTENT_FIELDS) and members(a) == members(b)


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


def resolve_members(conn: psycopg.Connection, names: list[str]) -> list[tuple[int, str]]:
    """Member (id, name) for each name or alias, in order, without duplicates; 400 naming any unknown one."""
    out: list[tuple[int, str]] = []
    unknown: list[str] = []
    for raw in names:
        name = (raw or "").strip()
        if not name:
            continue
        row = conn.execute("SELECT id, name FROM members WHERE name = %s", (name,)).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT m.id, m.name FROM member_aliases a JOIN members m ON m.id = a.member_id "
                "WHERE a.normalized = %s ORDER BY m.id LIMIT 1", (normalize_alias(name),)).fetchone()
        if row is None:
            unknown.append(name)
        elif (row["id"], row["name"]) not in out:
            out.append((row["id"], row["name"]))
    if unknown:
        raise EditError(f"Unknown member {', '.join(repr(u) for u in unknown)}: enrol it first "
                        "(python -m indexer enroll NAME) or pick one of the enrolled members.")
    return out


def set_members(conn: psycopg.Connection, segment_id: int, members: list[dict]) -> None:
    """Replace the segment's members with ``members`` (dicts: member_id, confidence, source)."""
    conn.execute("DELETE FROM segment_members WHERE segment_id = %s", (segment_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO segment_members (segment_id, member_id, confidence, source) VALUES (%s, %s, %s, %s)",
            [(segment_id, m["member_id"], m.get("confidence"), m.get("source") or "manual") for m in members])


def insert_segment(conn: psycopg.Connection, fields: dict, segment_id: int | None = None) -> int:
    """Insert a segment row (with the given id when restoring one) and return its id."""
    cols = ["video_id", "start_s", "end_s", "caption_auto", "caption_edited", "caption_ko", "transcript",
            "thumbnail", "version"]
    values = [fields.get(c) for c in cols]
    values[cols.index("version")] = fields.get("version") or 1
    if segment_id is not None:
        cols.insert(0, "id")
        values.insert(0, segment_id)
    row = conn.execute(
        f"INSERT INTO segments ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING id",
        values).fetchone()
    return row["id"]


def update_fields(conn: psycopg.Connection, segment_id: int, fields: dict) -> None:
    """Set the given columns and bump the version."""
    sets = ", ".join(f"{k} = %s" for k in fields)
    conn.execute(f"UPDATE segments SET {sets}{', ' if sets else ''}version = version + 1, updated_at = now() "
                 "WHERE id = %s", [*fields.values(), segment_id])


def record_history(conn: psycopg.Connection, video_id: str, operation: str, actor: str, before: list[dict],
                   after: list[dict], reverts: int | None = None) -> int:
    ids = sorted({s["id"] for s in before} | {s["id"] for s in after})
    row = conn.execute(
        "INSERT INTO segment_history (video_id, operation, actor, segment_ids, before, after, reverts) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (video_id, operation, actor, ids, Jsonb(_jsonable(before)), Jsonb(_jsonable(after)), reverts)).fetchone()
    return row["id"]


def refresh(conn: psycopg.Connection, segment_ids: list[int], embedder) -> None:
    if segment_ids:
        refresh_search_fields(conn, segment_ids, embedder)


def public_segment(row: dict) -> dict:
    """The API/operation form of a segment row from get_segments: members as names, details beside."""
    caption = row.get("caption_edited") or row.get("caption_auto") or ""
    return {
        "id": row["id"], "segment_id": row["id"], "video_id": row["video_id"],
        "start": row["start_s"], "end": row["end_s"], "start_s": row["start_s"], "end_s": row["end_s"],
        "caption": caption, "caption_auto": row.get("caption_auto"), "caption_edited": row.get("caption_edited"),
        "caption_ko": row.get("caption_ko"), "transcript": row.get("transcript"),
        "has_thumbnail": bool(row.get("thumbnail")), "thumbnail_url": f"/thumbnails/{row['id']}.jpg" if row.get("thumbnail") else None,
        "version": row["version"],
        "members": [m["name"] for m in row.get("members", [])],
        "member_details": [{"name": m["name"], "confidence": m["confidence"], "source": m["source"]}
                           for m in row.get("members", [])],
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def load_segments_if_any(conn: psycopg.Connection, segment_ids: list[int]) -> list[dict]:
    """Those of the segments that exist (with members)."""
    return get_segments(conn, segment_ids)

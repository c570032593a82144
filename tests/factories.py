"""Insert test data through the same shared queries the product uses (no SQL copies in tests)."""
from __future__ import annotations

from core.textindex import normalize_alias
from db.segments import refresh_search_fields


def add_video(conn, video_id: str, title: str | None = None, path: str | None = None, duration_s: float = 60.0,
              shot_boundaries: list[float] | None = None) -> str:
    conn.execute(
        "INSERT INTO videos (id, title, path, duration_s, fps, width, height, status, shot_boundaries, indexed_at) "
        "VALUES (%s, %s, %s, %s, 25, 640, 360, 'indexed', %s, now())",
        (video_id, title or video_id, path, duration_s, shot_boundaries or []),
    )
    return video_id


def add_member(conn, name: str, aliases: list[str] = ()) -> int:
    row = conn.execute("INSERT INTO members (name) VALUES (%s) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name "
                       "RETURNING id", (name,)).fetchone()
    member_id = row["id"] if isinstance(row, dict) else row[0]
    for alias in [name, *aliases]:
        conn.execute("INSERT INTO member_aliases (member_id, alias, normalized) VALUES (%s, %s, %s) "
                     "ON CONFLICT DO NOTHING", (member_id, alias, normalize_alias(alias)))
    return member_id


def add_segment(conn, video_id: str, start: float, end: float, embedder, caption: str | None = None,
                members: dict[str, float] | list[str] = (), transcript: str | None = None,
                caption_edited: str | None = None, caption_ko: str | None = None, thumbnail: str | None = None) -> int:
    row = conn.execute(
        "INSERT INTO segments (video_id, start_s, end_s, caption_auto, caption_edited, caption_ko, transcript, thumbnail) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (video_id, start, end, caption, caption_edited, caption_ko, transcript, thumbnail),
    ).fetchone()
    segment_id = row["id"] if isinstance(row, dict) else row[0]
    scores = members if isinstance(members, dict) else {m: 0.9 for m in members}
    for name, confidence in scores.items():
        member_id = add_member(conn, name)
        conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence, source) VALUES (%s, %s, %s, 'auto')",
                     (segment_id, member_id, confidence))
    refresh_search_fields(conn, [segment_id], embedder)
    return segment_id

"""Insert test data through the same functions the product writes with (no SQL copies in tests)."""
from __future__ import annotations

from db.members import upsert_member
from db.segments import add_members, insert_segment, refresh_search_fields
from db.videos import upsert_video


def add_video(conn, video_id: str, title: str | None = None, path: str | None = None, duration_s: float = 60.0,
              shot_boundaries: list[float] | None = None) -> str:
    upsert_video(conn, {"id": video_id, "title": title or video_id, "path": path, "duration_s": duration_s,
                        "fps": 25, "width": 640, "height": 360, "shot_boundaries": shot_boundaries or []})
    return video_id


def add_member(conn, name: str, aliases: list[str] = ()) -> int:
    return upsert_member(conn, name, aliases=list(aliases))


def add_segment(conn, video_id: str, start: float, end: float, embedder, caption: str | None = None,
                members: dict[str, float] | list[str] = (), transcript: str | None = None,
                caption_edited: str | None = None, caption_ko: str | None = None, thumbnail: str | None = None) -> int:
    segment_id = insert_segment(conn, {"video_id": video_id, "start_s": start, "end_s": end, "caption_auto": caption,
                                       "caption_edited": caption_edited, "caption_ko": caption_ko,
                                       "transcript": transcript, "thumbnail": thumbnail})
    scores = members if isinstance(members, dict) else {m: 0.9 for m in members}
    add_members(conn, segment_id, [{"member_id": add_member(conn, name), "confidence": confidence, "source": "auto"}
                                   for name, confidence in scores.items()])
    refresh_search_fields(conn, [segment_id], embedder)
    return segment_id

"""``import-legacy``: the original project's per-second metadata (combined_metadata.json) as segments.

Consecutive seconds with the same caption and the same member set become one segment [t, t_last + 1).
Members are created from the names found (group_name from "group"). The video id is the one the rows carry
(``--video-id`` picks one video of a file holding several, or names one for rows without an id). Re-importing
replaces that video's segments in one transaction; a video indexed from a file (source 'indexer') is never
overwritten.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import MvseError
from db.members import upsert_member
from db.segments import add_members, insert_segment, refresh_search_fields
from db.videos import find_video, upsert_video
from indexer import store


@dataclass
class LegacySpan:
    start: int
    end: int
    caption: str
    members: frozenset
    confidences: dict[str, list[float]] = field(default_factory=dict)


def read_legacy(path: Path, video_id: str | None = None) -> tuple[list[dict], str]:
    """The rows to import and the video id they go under: ``video_id`` when given (the rows of that video when the
    file holds several, else all of them), otherwise the one id the rows carry. A file whose rows name several
    videos, or rows without a ``video_id``, need ``video_id``: MvseError saying so."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise MvseError(f"legacy file {path} does not exist") from None
    except json.JSONDecodeError as err:
        raise MvseError(f"legacy file {path} is not valid JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) and "timestamp" in r for r in data):
        raise MvseError(f"legacy file {path} must be a JSON list of {{timestamp, video_id, caption, faces}} objects")
    ids = sorted({str(r["video_id"]) for r in data if _has_id(r)})
    if video_id is not None:
        if video_id in ids:
            return [r for r in data if _has_id(r) and str(r["video_id"]) == video_id], video_id
        if len(ids) <= 1:
            return data, video_id
        raise MvseError(f"legacy file {path} holds several videos ({', '.join(ids)}); pass one of them as "
                        "--video-id")
    if len(ids) > 1:
        raise MvseError(f"legacy file {path} holds rows of several videos ({', '.join(ids)}); import one at a "
                        "time with --video-id ID (one of those)")
    without = [r for r in data if not _has_id(r)]
    if without:
        raise MvseError(f"{len(without)} of the {len(data)} rows of legacy file {path} have no video_id (the first at "
                        f"timestamp {without[0]['timestamp']}); pass --video-id ID to import the file as that video")
    if not ids:
        raise MvseError(f"legacy file {path} has no rows")
    if not _VIDEO_ID.fullmatch(ids[0]) or ids[0] in (".", ".."):
        raise MvseError(f"legacy file {path}: the video_id {ids[0][:80]!r} cannot name a video (letters, digits, "
                        "'.', '_' and '-', at most 80); pass --video-id ID to import it under another id")
    return data, ids[0]


_VIDEO_ID = re.compile(r"[A-Za-z0-9._-]{1,80}")   # what a video id read from a file may be (it becomes a URL part)


def _has_id(row: dict) -> bool:
    return row.get("video_id") not in (None, "")


def merge_seconds(rows: list[dict]) -> tuple[list[LegacySpan], dict[str, str | None]]:
    """Spans of consecutive seconds with equal caption and members; and member name -> group."""
    groups: dict[str, str | None] = {}
    spans: list[LegacySpan] = []
    for r in sorted(rows, key=lambda r: int(r["timestamp"])):
        t = int(r["timestamp"])
        caption = " ".join(str(r.get("caption") or "").split())
        confs: dict[str, float] = {}
        for f in r.get("faces") or []:
            name = " ".join(str(f.get("member") or "").split())
            if not name:
                continue
            groups.setdefault(name, f.get("group"))
            confs[name] = max(confs.get(name, 0.0), float(f.get("confidence") or 0.0))
        members = frozenset(confs)
        cur = spans[-1] if spans else None
        if cur and cur.end == t and cur.caption == caption and cur.members == members:
            cur.end = t + 1
        else:
            cur = LegacySpan(t, t + 1, caption, members)
            spans.append(cur)
        for name, c in confs.items():
            cur.confidences.setdefault(name, []).append(c)
    return spans, groups


def import_legacy(db, embedder, path: Path, video_id: str | None = None, title: str | None = None,
                  discard_edits: bool = False) -> tuple[str, int, int]:
    """Import the file as one video (``video_id``, or the one its rows carry: ``read_legacy``).
    Returns the video id, the number of segments and of members found."""
    rows, video_id = read_legacy(path, video_id)
    if not rows:
        raise MvseError(f"legacy file {path} has no rows")
    spans, groups = merge_seconds(rows)
    with db.connection() as conn:
        existing = find_video(conn, video_id)
        if existing and existing["source"] != "legacy":
            raise MvseError(f"video {video_id} was indexed from a file ({existing['path']}); "
                            "import the legacy data under another --video-id")
        if existing:
            store.guard_edits(conn, video_id, discard_edits)
        member_ids = {name: upsert_member(conn, name, group) for name, group in groups.items()}
        upsert_video(conn, {"id": video_id, "title": title or (existing["title"] if existing else video_id),
                            "duration_s": float(spans[-1].end), "source": "legacy"})
        store.clear_video_segments(conn, video_id)
        ids = []
        for s in spans:
            sid = insert_segment(conn, {"video_id": video_id, "start_s": s.start, "end_s": s.end,
                                        "caption_auto": s.caption or None})
            ids.append(sid)
            add_members(conn, sid, store.auto_tags({member_ids[name]: sum(confs) / len(confs)
                                                    for name, confs in s.confidences.items()}))
        refresh_search_fields(conn, ids, embedder)
    return video_id, len(ids), len(member_ids)

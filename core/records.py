"""The one shape of a segment as the app shows it: editor API, search results and Slack blocks.

``segment_record`` builds the common part from a row of ``db.segments.get_segments`` (members attached,
``video_title`` joined); the editor adds what editing needs (``editable_segment``), search adds why and how
well it matched (``search.present``). Links come from ``core.urls.Urls``: relative for the editor's own
pages, absolute (``public_url``) for Slack.
"""
from __future__ import annotations

from typing import TypedDict

from core.urls import Urls


class SegmentRecord(TypedDict):
    segment_id: int
    video_id: str
    video_title: str
    start: float
    end: float
    caption: str                 # the edited caption when there is one, else the automatic one
    caption_ko: str | None
    members: list[str]           # names, surest first
    thumbnail_url: str | None


class MemberTag(TypedDict):
    name: str
    confidence: float | None
    source: str                  # "auto" (faces, legacy data) or "manual"


class EditableSegment(SegmentRecord):
    id: int
    start_s: float
    end_s: float
    caption_auto: str | None
    caption_edited: str | None
    transcript: str | None
    has_thumbnail: bool
    version: int                 # send it back with an edit: a stale one gets 409
    member_details: list[MemberTag]


def clock(seconds: float) -> str:
    """12.4 -> "0:12", 3725 -> "1:02:05": a moment's time as people read it."""
    total = int(max(0.0, float(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def one_line(text: str | None, limit: int) -> str:
    """``text`` on one line (runs of whitespace as one space), cut to ``limit`` characters with "…"."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def time_range(start: float, end: float) -> str:
    return f"{clock(start)}–{clock(end)}"


def segment_record(row: dict, urls: Urls) -> SegmentRecord:
    return SegmentRecord(
        segment_id=row["id"], video_id=row["video_id"], video_title=row.get("video_title") or row["video_id"],
        start=float(row["start_s"]), end=float(row["end_s"]),
        caption=(row.get("caption_edited") or row.get("caption_auto") or "").strip(),
        caption_ko=row.get("caption_ko") or None,
        members=[m["name"] for m in row.get("members", [])],
        thumbnail_url=urls.thumbnail(row["id"]) if row.get("thumbnail") else None,
    )


def editable_segment(row: dict, urls: Urls | None = None) -> EditableSegment:
    return EditableSegment(
        **segment_record(row, urls or Urls()),
        id=row["id"], start_s=row["start_s"], end_s=row["end_s"],
        caption_auto=row.get("caption_auto"), caption_edited=row.get("caption_edited"),
        transcript=row.get("transcript"), has_thumbnail=bool(row.get("thumbnail")), version=row["version"],
        member_details=[MemberTag(name=m["name"], confidence=m["confidence"], source=m["source"])
                        for m in row.get("members", [])],
    )


def video_record(row: dict, segment_count: int | None = None) -> dict:
    """A video as the editor API shows it (its page and media links are site-relative)."""
    urls = Urls()
    out = {k: row[k] for k in ("id", "title", "duration_s", "fps", "width", "height", "status")}
    out["shot_boundaries"] = list(row.get("shot_boundaries") or [])
    out["media_url"] = urls.media(row["id"])
    out["page_url"] = urls.video_page(row["id"])
    out["has_file"] = bool(row.get("path"))
    out["error"] = row.get("error") if row.get("status") == "failed" else None     # why indexing failed
    if segment_count is not None:
        out["segment_count"] = segment_count
    return out

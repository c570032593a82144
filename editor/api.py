"""JSON API of the editor under /api/: thin routes over ``edits`` (the editing rules) and ``db`` (reads).

Routes raise; ``app.create_app`` maps the errors once (``{"detail": message, "error": kind}`` with the
error's status: 400/403/404/409). A body that does not parse gets FastAPI's 422. Every route needs
``core.context.require_principal``.
"""
from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from core.auth import Principal
from core.context import AppContext, get_context, require_principal
from core.errors import MvseError, first_line
from core.records import editable_segment, video_record
from core.subtitle_files import FORMATS, subtitle_file
from db import members, videos
from db.segments import get_segments, video_segment_ids
from db.videos import get_video
from edits import clips, history, operations, teach
from edits.operations import CAPTION_MAX, MEMBERS_MAX, NAME_MAX, SELECTION_MAX, TRANSCRIPT_MAX
from edits.videos import remove_video
from search import highlights

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["editor"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Caption = Annotated[str, Field(max_length=CAPTION_MAX)]
Names = Annotated[list[Annotated[str, Field(max_length=NAME_MAX)]], Field(max_length=MEMBERS_MAX)]


class SegmentPatch(_Body):
    version: int = Field(description="the version you edited (from GET); a stale one gets 409")
    caption: Caption | None = Field(default=None, description="edited caption; \"\" clears the edit")
    caption_ko: Caption | None = None
    transcript: Annotated[str, Field(max_length=TRANSCRIPT_MAX)] | None = Field(
        default=None, description="what is said in the segment, corrected; \"\" when nothing is")
    members: Names | None = Field(default=None, description="the full list of member names")
    start: float | None = None
    end: float | None = None


class TeachBody(_Body):
    member: str = Field(max_length=NAME_MAX, description="a member tagged on the segment (name or alias)")


class SplitBody(_Body):
    version: int
    at: float = Field(description="seconds from the start of the video, inside the segment")


Versions = Annotated[dict[int, int] | None, Field(default=None, description="segment id -> version you edited; "
                                                                          "a stale one gets 409")]


class MergeBody(_Body):
    segment_ids: list[int] = Field(min_length=2, max_length=SELECTION_MAX)
    versions: Versions = None


class SelectionBody(_Body):
    segment_ids: list[int] = Field(min_length=1, max_length=SELECTION_MAX)
    versions: Versions = None


class BulkBody(SelectionBody):
    add_members: Names | None = Field(default=None, description="members to tag on every selected segment")
    remove_members: Names | None = Field(default=None, description="members to untag from every selected segment")
    caption: Caption | None = Field(default=None, description="edited caption for every selected segment; \"\" "
                                                              "clears the edits")


class RetimeChange(_Body):
    id: int
    version: int
    start: float
    end: float


class RetimeBody(_Body):
    changes: list[RetimeChange] = Field(min_length=1, max_length=SELECTION_MAX,
                                        description="new bounds, e.g. both sides of a dragged boundary")


class CreateBody(_Body):
    video_id: str = Field(max_length=NAME_MAX)
    start: float
    end: float
    caption: Caption | None = None
    caption_ko: Caption | None = None
    members: Names | None = None


def _video_with_segments(ctx: AppContext, video_id: str) -> dict:
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
        segments = get_segments(conn, video_segment_ids(conn, video_id))
    return {"video": video_record(video, len(segments)), "segments": [editable_segment(s) for s in segments]}


@router.get("/members")
def list_members(ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    with ctx.db.connection() as conn:
        return {"members": members.list_members(conn)}


@router.get("/videos")
def list_videos(ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    with ctx.db.connection() as conn:
        return {"videos": [video_record(r, r["n"]) for r in videos.list_videos(conn)]}


@router.get("/videos/{video_id}")
def get_video_route(video_id: str, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return _video_with_segments(ctx, video_id)


@router.delete("/videos/{video_id}")
def remove_video_route(video_id: str, force: bool = Query(False, description="also remove an edited video (its "
                                                                             "edits and history are lost)"),
                       ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    """Remove a video from the library (never its media file); 409 when it has edits and ``force`` is not set."""
    return vars(remove_video(ctx.db, ctx.config, video_id, force=force))


@router.get("/videos/{video_id}/subtitles.{fmt}")
def video_subtitles(video_id: str, fmt: Literal["srt", "vtt"], ctx: AppContext = Depends(get_context),
                    _: Principal = Depends(require_principal)) -> Response:
    """The video's transcripts (corrections included) as a SubRip or WebVTT file, one cue per segment."""
    video = _video_with_segments(ctx, video_id)
    cues = [(s["start"], s["end"], s["transcript"]) for s in video["segments"] if s.get("transcript")]
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in video["video"]["title"])[:80] or "video"
    return Response(subtitle_file(cues, fmt), media_type=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@router.get("/videos/{video_id}/highlights")
def video_highlights(video_id: str, member: str | None = Query(None, max_length=NAME_MAX,
                                                               description="only where this member is on screen"),
                     n: int = Query(highlights.DEFAULT_N, ge=1, le=highlights.MAX_N),
                     ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    """The video's best moments as clips, best first, each with its reasons (viewer comments with timestamps, the
    summary of what is said and seen) and the methods used."""
    return highlights.highlights(ctx, video_id, member=member, n=n)


@router.get("/videos/{video_id}/segments")
def get_video_segments(video_id: str, ctx: AppContext = Depends(get_context),
                       _: Principal = Depends(require_principal)):
    return {"segments": _video_with_segments(ctx, video_id)["segments"]}


@router.get("/videos/{video_id}/history")
def video_history(video_id: str, limit: int = Query(100, ge=1, le=500), ctx: AppContext = Depends(get_context),
                  _: Principal = Depends(require_principal)):
    return {"history": history.list_history(ctx.db, video_id=video_id, limit=limit)}


@router.get("/segments/{segment_id}")
def get_segment(segment_id: int, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return operations.get_segment(ctx.db, segment_id)


@router.get("/segments/{segment_id}/history")
def segment_history(segment_id: int, limit: int = Query(100, ge=1, le=500), ctx: AppContext = Depends(get_context),
                    _: Principal = Depends(require_principal)):
    return {"history": history.list_history(ctx.db, segment_id=segment_id, limit=limit)}


@router.get("/segments/{segment_id}/clip.mp4")
def segment_clip(segment_id: int, ctx: AppContext = Depends(get_context),
                 _: Principal = Depends(require_principal)) -> FileResponse:
    """The segment as an MP4 download: the same cut as Slack's Export (H.264/AAC from the video's own file)."""
    try:
        path, segment = clips.export_segment(ctx, segment_id)
    except MvseError:
        raise
    except Exception as err:  # noqa: BLE001 - moviepy/ffmpeg errors vary; the person gets one message, the log the rest
        log.exception("cutting segment %s failed", segment_id)
        raise MvseError(f"Cutting segment {segment_id} failed ({first_line(err)}).") from err
    return FileResponse(path, media_type="video/mp4",
                        filename=clips.download_name(segment["video_title"], segment["start"], segment["end"]))


@router.patch("/segments/{segment_id}")
def patch_segment(segment_id: int, body: SegmentPatch, ctx: AppContext = Depends(get_context),
                  who: Principal = Depends(require_principal)):
    return operations.update_segment(ctx.db, ctx.embedder, segment_id, actor=who.actor,
                                     expected_version=body.version, caption=body.caption, caption_ko=body.caption_ko,
                                     members=body.members, start=body.start, end=body.end,
                                     transcript=body.transcript)


@router.post("/segments/{segment_id}/teach")
def teach_gallery(segment_id: int, body: TeachBody, ctx: AppContext = Depends(get_context),
                  who: Principal = Depends(require_principal)):
    """Faces of the segment enter the member's gallery (quality gate, cap); the library is re-matched for the
    member and its look-alikes. One history entry; reverting it removes the faces and re-matches again."""
    return teach.teach_gallery(ctx, segment_id, body.member, actor=who.actor)


@router.post("/segments/{segment_id}/split")
def split(segment_id: int, body: SplitBody, ctx: AppContext = Depends(get_context),
          who: Principal = Depends(require_principal)):
    return {"segments": operations.split_segment(ctx.db, ctx.embedder, segment_id, body.at, actor=who.actor,
                                                 expected_version=body.version)}


@router.post("/segments/merge")
def merge(body: MergeBody, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return operations.merge_segments(ctx.db, ctx.embedder, body.segment_ids, actor=who.actor,
                                     expected_versions=body.versions)


@router.post("/segments/bulk")
def bulk(body: BulkBody, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    """Add/remove members and/or set the caption of every selected segment: one change, one history entry."""
    return operations.bulk_edit(ctx.db, ctx.embedder, body.segment_ids, actor=who.actor,
                                expected_versions=body.versions, add_members=body.add_members,
                                remove_members=body.remove_members, caption=body.caption)


@router.post("/segments/retime")
def retime(body: RetimeBody, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    """New bounds for several segments at once (a boundary dragged on the timeline): one history entry."""
    return operations.retime_segments(ctx.db, ctx.embedder, [c.model_dump() for c in body.changes], actor=who.actor)


@router.post("/segments/delete")
def delete_many(body: SelectionBody, ctx: AppContext = Depends(get_context),
                who: Principal = Depends(require_principal)):
    """Delete the selected segments: one history entry, one revert brings them back."""
    return operations.delete_selection(ctx.db, body.segment_ids, actor=who.actor, expected_versions=body.versions)


@router.post("/segments", status_code=201)
def create(body: CreateBody, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return operations.create_segment(ctx.db, ctx.embedder, body.video_id, body.start, body.end, actor=who.actor,
                                     caption=body.caption, caption_ko=body.caption_ko, members=body.members)


@router.delete("/segments/{segment_id}")
def delete(segment_id: int, version: int = Query(..., description="the version you saw; a stale one gets 409"),
           ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return operations.delete_segment(ctx.db, segment_id, actor=who.actor, expected_version=version)


@router.post("/history/{history_id}/revert")
def revert(history_id: int, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return history.revert_history(ctx.db, ctx.embedder, history_id, actor=who.actor, cfg=ctx.config)

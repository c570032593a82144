"""JSON API of the editor under /api/ (thin over editor.operations / editor.history / editor.queries).

Errors: an EditError becomes ``{"detail": message, "error": kind}`` with its status (400/404/409);
a body that does not parse gets FastAPI's 422. Every route needs ``core.context.require_principal``.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from core.auth import Principal
from core.context import AppContext, get_context, require_principal
from editor import history, operations, queries
from core.errors import MvseError
from editor.errors import EditError

router = APIRouter(prefix="/api", tags=["editor"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentPatch(_Body):
    version: int = Field(description="the version you edited (from GET); a stale one gets 409")
    caption: str | None = Field(default=None, description="edited caption; \"\" clears the edit")
    caption_ko: str | None = None
    members: list[str] | None = Field(default=None, description="the full list of member names")
    start: float | None = None
    end: float | None = None


class SplitBody(_Body):
    version: int
    at: float = Field(description="seconds from the start of the video, inside the segment")


class MergeBody(_Body):
    segment_ids: list[int] = Field(min_length=2)
    versions: dict[int, int] | None = Field(default=None, description="segment id -> version you edited")


class CreateBody(_Body):
    video_id: str
    start: float
    end: float
    caption: str | None = None
    caption_ko: str | None = None
    members: list[str] | None = None


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except EditError as err:
        return JSONResponse({"detail": err.message, "error": type(err).__name__}, status_code=err.status_code)
    except MvseError as err:  # e.g. EmbeddingModelMismatch: the change was rolled back; say why and how to fix
        return JSONResponse({"detail": str(err), "error": type(err).__name__}, status_code=500)


@router.get("/members")
def list_members(ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return {"members": queries.members(ctx)}


@router.get("/videos")
def list_videos(ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return {"videos": queries.videos(ctx)}


@router.get("/videos/{video_id}")
def get_video(video_id: str, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return _run(queries.video_with_segments, ctx, video_id)


@router.get("/videos/{video_id}/segments")
def get_video_segments(video_id: str, ctx: AppContext = Depends(get_context),
                       _: Principal = Depends(require_principal)):
    def segments():
        return {"segments": queries.video_with_segments(ctx, video_id)["segments"]}

    return _run(segments)


@router.get("/videos/{video_id}/history")
def video_history(video_id: str, limit: int = Query(100, ge=1, le=500), ctx: AppContext = Depends(get_context),
                  _: Principal = Depends(require_principal)):
    return _run(lambda: {"history": history.list_history(ctx, video_id=video_id, limit=limit)})


@router.get("/segments/{segment_id}")
def get_segment(segment_id: int, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return _run(operations.get_segment, ctx, segment_id)


@router.get("/segments/{segment_id}/history")
def segment_history(segment_id: int, limit: int = Query(100, ge=1, le=500), ctx: AppContext = Depends(get_context),
                    _: Principal = Depends(require_principal)):
    return _run(lambda: {"history": history.list_history(ctx, segment_id=segment_id, limit=limit)})


@router.patch("/segments/{segment_id}")
def patch_segment(segment_id: int, body: SegmentPatch, ctx: AppContext = Depends(get_context),
                  who: Principal = Depends(require_principal)):
    return _run(operations.update_segment, ctx, segment_id, actor=who.actor, expected_version=body.version,
                caption=body.caption, caption_ko=body.caption_ko, members=body.members, start=body.start,
                end=body.end)


@router.post("/segments/{segment_id}/split")
def split(segment_id: int, body: SplitBody, ctx: AppContext = Depends(get_context),
          who: Principal = Depends(require_principal)):
    def do():
        return {"segments": operations.split_segment(ctx, segment_id, body.at, actor=who.actor,
                                                     expected_version=body.version)}

    return _run(do)


@router.post("/segments/merge")
def merge(body: MergeBody, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return _run(operations.merge_segments, ctx, body.segment_ids, actor=who.actor, expected_versions=body.versions)


@router.post("/segments", status_code=201)
def create(body: CreateBody, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return _run(operations.create_segment, ctx, body.video_id, body.start, body.end, actor=who.actor,
                caption=body.caption, caption_ko=body.caption_ko, members=body.members)


@router.delete("/segments/{segment_id}")
def delete(segment_id: int, version: int = Query(..., description="the version you saw; a stale one gets 409"),
           ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return _run(operations.delete_segment, ctx, segment_id, actor=who.actor, expected_version=version)


@router.post("/history/{history_id}/revert")
def revert(history_id: int, ctx: AppContext = Depends(get_context), who: Principal = Depends(require_principal)):
    return _run(history.revert_history, ctx, history_id, actor=who.actor)

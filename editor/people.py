"""The Members page (``/members``) and its JSON API: members, aliases, groups and face galleries.

Thin routes over ``edits.people`` (the rules ``indexer enroll`` follows too). Enrolling from the page takes two
steps: ``POST /api/members/detect`` (one photo, multipart) answers every face found in it, with its crop and the
quality gate's verdict, and keeps them for an hour under an ``upload`` token; ``POST /api/members/{id}/faces``
saves the chosen face of each photo, all in one transaction. Every route needs ``require_principal``; writes pass
the app's WebGuard (same origin) like the rest of the API. Gallery crops are served only from ``cfg.faces_path``.

Unknown faces (``edits.clusters``): ``GET /api/face-clusters`` lists the clusters of unmatched faces (clustering
what is new first), ``POST /api/face-clusters/{id}/name`` says who one is; crops of stored detections are made from
the video frame on first use (``/face-detections/{id}.jpg``).
"""
from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from core.auth import Principal
from core.context import AppContext, get_context, require_principal
from core.face_quality import GalleryRules
from editor.pages import page_principal, templates
from edits import clusters, people

MEMBERS_PAGE = "/members"
FACE_CROP = "/member-faces/{face_id}.jpg"
DETECTION_CROP = "/face-detections/{detection_id}.jpg"
Name = Annotated[str, Field(max_length=people.NAME_MAX)]

router = APIRouter(tags=["members"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewMember(_Body):
    name: Name
    group: Name | None = None
    aliases: Annotated[list[Name], Field(max_length=50)] = []


class GroupBody(_Body):
    group: Name | None = Field(default=None, description="the member's group; null or \"\" clears it")


class AliasBody(_Body):
    alias: Name


class Choice(_Body):
    upload: str = Field(max_length=64, description="the token POST /api/members/detect answered")
    face: int = Field(ge=0, description="the index of the chosen face in that answer")


class FacesBody(_Body):
    choices: Annotated[list[Choice], Field(min_length=1, max_length=50)]


class ClusterName(_Body):
    member_id: int | None = Field(default=None, description="an existing member")
    name: Name | None = Field(default=None, description="or the name of a new member")


def face_url(face_id: int) -> str:
    return FACE_CROP.format(face_id=face_id)


@router.get(MEMBERS_PAGE, response_class=HTMLResponse, include_in_schema=False)
def members_page(request: Request, ctx: AppContext = Depends(get_context)):
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    return templates.TemplateResponse(request, "members.html", {
        "actor": who.actor, "auth_enabled": bool(ctx.config.auth.token),
        "face_model": ctx.config.models.faces, "rules": GalleryRules.from_config(ctx.config.faces),
        "cluster_min_size": ctx.config.faces.cluster_min_size})


@router.get("/api/people")
def list_people(ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    """Every member with its group, aliases (its own name left out) and gallery faces (``url`` of the crop).
    ``GET /api/members`` stays the editor's plain list."""
    members = people.people(ctx.db)
    for m in members:
        for f in m["faces"]:
            f["url"] = face_url(f["id"]) if f.pop("has_crop") else None
    return {"members": members}


@router.post("/api/members", status_code=201)
def create_member(body: NewMember, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return {"id": people.create_member(ctx.db, body.name, body.group, body.aliases)}


@router.patch("/api/members/{member_id}")
def set_group(member_id: int, body: GroupBody, ctx: AppContext = Depends(get_context),
              _: Principal = Depends(require_principal)):
    people.set_group(ctx.db, member_id, body.group)
    return {"ok": True}


@router.post("/api/members/{member_id}/aliases")
def add_alias(member_id: int, body: AliasBody, ctx: AppContext = Depends(get_context),
              _: Principal = Depends(require_principal)):
    people.add_alias(ctx.db, member_id, body.alias)
    return {"ok": True}


@router.delete("/api/members/{member_id}/aliases")
def remove_alias(member_id: int, alias: str = Query(max_length=people.NAME_MAX),
                 ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    people.remove_alias(ctx.db, member_id, alias)
    return {"ok": True}


@router.post("/api/members/detect")
def detect_faces(photo: Annotated[UploadFile, File()], ctx: AppContext = Depends(get_context),
                 _: Principal = Depends(require_principal)):
    """Every face in one photo, largest first, each with its crop and ``reasons`` (empty: the gate accepts it);
    nothing is saved yet."""
    data = photo.file.read()
    return people.detect_upload(ctx.config, people.face_model(ctx.config), photo.filename or "photo", data)


@router.post("/api/members/{member_id}/faces", status_code=201)
def save_faces(member_id: int, body: FacesBody, ctx: AppContext = Depends(get_context),
               _: Principal = Depends(require_principal)):
    ids = people.save_choices(ctx.db, ctx.config, member_id, [(c.upload, c.face) for c in body.choices])
    return {"faces": ids, "retagged": people.retag_after_gallery_change(ctx.db, ctx.config, ctx.embedder, member_id)}


@router.delete("/api/member-faces/{face_id}")
def remove_face(face_id: int, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    member_id = people.remove_face(ctx.db, ctx.config, face_id)
    return {"ok": True, "retagged": people.retag_after_gallery_change(ctx.db, ctx.config, ctx.embedder, member_id)}


@router.get(FACE_CROP, include_in_schema=False)
def serve_face(face_id: int, ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    return FileResponse(people.crop_file(ctx.db, ctx.config, face_id), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})


@router.get("/api/face-clusters")
def list_face_clusters(ctx: AppContext = Depends(get_context), _: Principal = Depends(require_principal)):
    """Unknown faces: clusters of unmatched detections with at least ``faces.cluster_min_size`` faces, each with
    sample crops (``samples``: [{"id", "url"}]) and where they appear (``where``: videos with ``faces``,
    ``first_s`` and ``url`` into the editor)."""
    out = clusters.unknown_faces(ctx.db, ctx.config)
    for c in out:
        c["samples"] = [{"id": d, "url": DETECTION_CROP.format(detection_id=d)} for d in c["samples"]]
        for w in c["where"]:
            w["url"] = f"/videos/{quote(w['video_id'], safe='')}" + (
                f"?segment={w['segment_id']}" if w["segment_id"] is not None else "")
    return {"clusters": out, "min_size": ctx.config.faces.cluster_min_size}


@router.post("/api/face-clusters/{cluster_id}/name")
def name_face_cluster(cluster_id: int, body: ClusterName, ctx: AppContext = Depends(get_context),
                      _: Principal = Depends(require_principal)):
    """"This is …": a few of the cluster's best faces enter the member's gallery (a new member for ``name``)
    through the quality gate; the library is re-matched. ``refused``: the faces skipped, with the gate's reasons."""
    return clusters.name_cluster(ctx, cluster_id, member_id=body.member_id, name=body.name)


@router.get(DETECTION_CROP, include_in_schema=False)
def serve_detection(detection_id: int, ctx: AppContext = Depends(get_context),
                    _: Principal = Depends(require_principal)):
    return FileResponse(clusters.detection_crop(ctx.db, ctx.config, detection_id), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})

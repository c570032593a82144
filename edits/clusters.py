"""Unknown faces: the library's unmatched face detections grouped into clusters, and naming a cluster.

Clustering is incremental (``update_clusters``): a run reads only the detections that are unmatched and in no
cluster yet, and each joins the nearest cluster of its face model when its cosine similarity to the centroid
reaches ``faces.cluster_threshold``, or starts a new one; a centroid is the running mean of its faces. A run with
nothing new costs two small queries and a recount, so the Members page runs it whenever the list is asked for
(``python -m indexer clusters`` does the same after indexing). Detections matched to a member since leave their
cluster, so a cluster's size counts the faces still unknown.

Naming a cluster ("this is …", ``name_cluster``) adds a few of its best faces to a member's gallery through the
quality gate (measured on the video frame, decoded again with ffmpeg), then re-matches the library for that
member (``edits.people.retag_after_gallery_change``); the faces it matches then leave the cluster.
"""
from __future__ import annotations

import io
import logging
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from core.errors import InvalidRequest, MvseError, NotFound
from core.face_quality import GalleryRules, measure, reasons_for
from db import clusters as sql
from db.members import upsert_member
from db.videos import media_file, playable_file, proxy_file
from edits import people
from indexer.matching import as_array

log = logging.getLogger(__name__)

CHUNK = 2000                # detections read and clustered at once
SHOWN_MAX = 100             # clusters listed on the page
SAMPLES = 4                 # crops shown per cluster
NAMED_FACES = 3             # gallery faces added when a cluster is named
CANDIDATES = 8              # best faces measured to find NAMED_FACES that pass the gate


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def update_clusters(db, cfg, model: str | None = None) -> dict:
    """Cluster the new unmatched detections (of ``model``, or of every model), in one transaction.
    Returns {"assigned", "new_clusters", "released", "removed_clusters", "seconds"}."""
    t0 = time.perf_counter()
    threshold = cfg.faces.cluster_threshold
    assigned = created = 0
    with db.connection() as conn:
        sql.lock(conn)
        released = sql.release_matched(conn)
        removed = sql.recount(conn)
        for m in [model] if model else sql.models_to_cluster(conn):
            rows = sql.centroids(conn, m)
            ids: list[int | None] = [r["id"] for r in rows]
            cents = _unit(np.array([as_array(r["centroid"]) for r in rows], dtype=np.float32)) if rows else None
            sizes = [r["size"] for r in rows]
            changed: set[int] = set()                # indexes of centroids to write back
            last = 0
            while batch := sql.unclustered(conn, m, last, CHUNK):
                last = batch[-1]["id"]
                vecs = _unit(np.array([as_array(r["embedding"]) for r in batch], dtype=np.float32))
                chosen = []
                for x in vecs:
                    j = -1
                    if cents is not None and len(cents):
                        sims = cents @ x
                        j = int(np.argmax(sims))
                        if sims[j] < threshold:
                            j = -1
                    if j < 0:
                        cents = x[None, :].copy() if cents is None else np.vstack([cents, x])
                        ids.append(None)
                        sizes.append(1)
                        j = len(sizes) - 1
                    else:
                        cents[j] = _unit(cents[j] * sizes[j] + x)
                        sizes[j] += 1
                    changed.add(j)
                    chosen.append(j)
                for j in sorted(changed):
                    if ids[j] is None:
                        ids[j] = sql.insert_cluster(conn, m, cents[j], sizes[j])
                        created += 1
                    else:
                        sql.update_cluster(conn, ids[j], cents[j], sizes[j])
                changed.clear()
                sql.assign(conn, [r["id"] for r in batch], [ids[j] for j in chosen])
                assigned += len(batch)
    return {"assigned": assigned, "new_clusters": created, "released": released, "removed_clusters": removed,
            "seconds": round(time.perf_counter() - t0, 3)}


# --- frames and crops of stored detections ---------------------------------------------------------------------

def _frame(path: Path, t_s: float) -> np.ndarray:
    """The RGB frame at ``t_s`` (ffmpeg, input seeking)."""
    from PIL import Image

    from core.ffmpeg import ffmpeg_exe

    cmd = [ffmpeg_exe(), "-v", "error", "-ss", f"{max(0.0, t_s):.3f}", "-i", str(path), "-frames:v", "1",
           "-f", "image2pipe", "-vcodec", "png", "-"]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise MvseError(f"cannot decode a frame of {path.name} at {t_s:.1f} s: {err}") from err
    if out.returncode != 0 or not out.stdout:
        raise MvseError(f"cannot decode a frame of {path.name} at {t_s:.1f} s: "
                        f"{out.stderr.decode(errors='replace').strip()[-300:] or 'no frame there'}")
    with Image.open(io.BytesIO(out.stdout)) as img:
        return np.asarray(img.convert("RGB"))


def face_in_frame(db, cfg, det: dict) -> tuple[np.ndarray, tuple]:
    """The decoded frame of a detection and its box in that frame's pixels. The video's own file is what the
    indexer decoded; when only the playable copy is there, the box is scaled to the copy's width."""
    with db.connection() as conn:
        size = sql.video_size(conn, det["video_id"])
        try:
            path, scaled = media_file(conn, cfg, det["video_id"]), False
        except NotFound:
            if proxy_file(conn, cfg, det["video_id"]) is None:
                raise
            path, scaled = playable_file(conn, cfg, det["video_id"]), True
    rgb = _frame(path, det["t_s"])
    box = tuple(float(v) for v in det["bbox"])
    if scaled and size and size["width"]:
        k = rgb.shape[1] / size["width"]
        box = tuple(v * k for v in box)
    return rgb, box


def judge_detection(db, cfg, det: dict, rules: GalleryRules) -> tuple[people.Chosen | None, list[str]]:
    """A stored detection (id, video_id, t_s, bbox, det_score, model, embedding) measured on its decoded frame by
    the gallery's quality gate: (the face ready for ``people.save_gallery``, []) or (None, the reasons refused)."""
    try:
        rgb, box = face_in_frame(db, cfg, det)
    except MvseError as err:
        return None, [err.message]
    m = measure(rgb, SimpleNamespace(bbox=box, det_score=det["det_score"] or 0.0))
    reasons = reasons_for(m, rules)
    if reasons:
        return None, reasons
    crop = people.crop_jpeg(rgb, box)
    _cache_crop(cfg, det["id"], crop)
    return people.Chosen(f"{det['video_id']} at {det['t_s']:.1f} s", f"video:{det['video_id']}@{det['t_s']}",
                         det["model"], as_array(det["embedding"]), m, crop), []


def _crop_path(cfg, detection_id: int) -> Path:
    return cfg.faces_path / "detections" / f"{int(detection_id)}.jpg"


def _cache_crop(cfg, detection_id: int, crop: bytes) -> None:
    path = _crop_path(cfg, detection_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(crop)
    tmp.replace(path)


def detection_crop(db, cfg, detection_id: int) -> Path:
    """The JPEG crop of a stored detection, made from its video frame on first use and cached."""
    path = _crop_path(cfg, detection_id)
    if path.is_file():
        return path
    with db.connection() as conn:
        det = sql.detection(conn, detection_id)
    if det is None:
        raise NotFound(f"There is no face detection {detection_id}.")
    rgb, box = face_in_frame(db, cfg, det)
    _cache_crop(cfg, detection_id, people.crop_jpeg(rgb, box))
    return path


# --- the list and naming ---------------------------------------------------------------------------------------

def unknown_faces(db, cfg) -> list[dict]:
    """Clusters of at least ``faces.cluster_min_size`` faces, the largest first (after clustering what is new):
    [{"id", "model", "size", "samples": [detection ids], "where": [{"video_id", "title", "faces", "first_s",
    "segment_id"}]}]."""
    update_clusters(db, cfg)
    with db.connection() as conn:
        shown = sql.shown_clusters(conn, cfg.faces.cluster_min_size, SHOWN_MAX)
        ids = [c["id"] for c in shown]
        samples: dict[int, list[int]] = {}
        for r in sql.best_faces(conn, ids, SAMPLES):
            samples.setdefault(r["cluster_id"], []).append(r["id"])
        where: dict[int, list[dict]] = {}
        for r in sql.appearances(conn, ids):
            where.setdefault(r["cluster_id"], []).append(
                {"video_id": r["video_id"], "title": r["title"], "faces": r["faces"], "first_s": r["first_s"],
                 "segment_id": r["segment_id"]})
    return [{**c, "samples": samples.get(c["id"], []), "where": where.get(c["id"], [])} for c in shown]


def name_cluster(ctx, cluster_id: int, member_id: int | None = None, name: str | None = None) -> dict:
    """"This is …": up to NAMED_FACES of the cluster's best faces that pass the quality gate enter the gallery of
    member ``member_id`` (or of a new member ``name``), in one transaction; then the library is re-matched and the
    clusters cleaned. Returns {"member_id", "faces", "refused": [{"detection_id", "reasons"}], "retagged"}."""
    db, cfg = ctx.db, ctx.config
    if (member_id is None) == (not (name or "").strip()):
        raise InvalidRequest("Say who this is: an existing member (member_id) or the name of a new one (name).")
    with db.connection() as conn:
        if conn.execute("SELECT 1 FROM face_clusters WHERE id = %s", (cluster_id,)).fetchone() is None:
            raise NotFound(f"There is no unknown-faces cluster {cluster_id} (it may have been named already).")
        if member_id is not None:
            people.member_row(conn, member_id)
        best = sql.best_faces(conn, [cluster_id], CANDIDATES)
    rules = GalleryRules.from_config(cfg.faces)
    chosen, refused = [], []
    for det in best:
        if len(chosen) >= NAMED_FACES:
            break
        face, reasons = judge_detection(db, cfg, det, rules)
        if reasons:
            refused.append({"detection_id": det["id"], "reasons": reasons})
        else:
            chosen.append(face)
    if not chosen:
        why = "; ".join(f"face {r['detection_id']}: {', '.join(r['reasons'])}" for r in refused) or "it has no faces"
        raise InvalidRequest(f"None of this cluster's best faces can enter a gallery ({why}). Enrol a photo on the "
                             "member's card instead, or change faces.gallery_* in the config. Nothing was saved.")
    with db.connection() as conn:
        if member_id is None:
            clean = people.clean_text(name)
            if conn.execute("SELECT 1 FROM members WHERE name = %s", (clean,)).fetchone():
                raise InvalidRequest(f"There is already a member called {clean!r}: choose them in the list.",
                                     status_code=409)
            member_id = upsert_member(conn, clean, None, [])
        face_ids = people.save_gallery(conn, cfg, member_id, chosen)
    retagged = people.retag_after_gallery_change(ctx.db, ctx.config, ctx.embedder, member_id)
    update_clusters(db, cfg)
    return {"member_id": member_id, "faces": face_ids, "refused": refused, "retagged": retagged}

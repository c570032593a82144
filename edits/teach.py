"""Corrections teach the gallery: after a person confirmed or corrected a member tag in the editor, a face of
that segment enters the member's gallery, and the library is re-matched for the member and its look-alikes.

The faces come from the segment's stored detections (``face_detections`` inside its time range) that are not
matched to the member yet, the ones most like the member's current gallery first (the highest detector score
when it has none); at most ``TAUGHT_FACES`` that pass the gallery's quality gate, measured on the decoded frame
(``edits.clusters.judge_detection``), and never beyond ``faces.gallery_cap`` faces per member and model.
The faces and a "teach" history entry (its ``gallery`` column says which faces, from which detections) are
written in one transaction; the re-match (``edits.people.retag_after_gallery_change``) follows and never
touches manual tags. The look-alikes are the members those detections were matched to before: their
detections can move to the member now.

Reverting the entry (``edits.history.revert_history``) removes those faces and re-matches the same members.
"""
from __future__ import annotations

import numpy as np

from core.face_quality import GalleryRules
from db.members import resolve_members
from edits import clusters, people, store
from edits.errors import EditError
from indexer.matching import as_array

TAUGHT_FACES = 2            # gallery faces added per teach
CANDIDATES = 6              # best detections measured to find TAUGHT_FACES that pass the gate


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _ranked(detections: list[dict], gallery: list[dict]) -> list[dict]:
    """Most like the member's gallery faces of the same model first; then the detector's score."""
    by_model: dict[str, list[np.ndarray]] = {}
    for g in gallery:
        by_model.setdefault(g["model"], []).append(_unit(as_array(g["embedding"])))

    def key(d):
        faces = by_model.get(d["model"])
        sim = max(float(f @ _unit(as_array(d["embedding"]))) for f in faces) if faces else -2.0
        return (sim, d["det_score"] or 0.0, -d["id"])
    return sorted(detections, key=key, reverse=True)


def teach_gallery(ctx, segment_id: int, member: str, actor: str) -> dict:
    """Add faces of segment ``segment_id`` to the gallery of ``member`` (name or alias; it must be tagged on the
    segment) and re-match the library. Returns {"history_id", "member", "faces": [member_faces ids],
    "refused": [{"detection_id", "reasons"}], "retagged": {"added", "removed", "videos", "where", "text"}}."""
    db, cfg = ctx.db, ctx.config
    rules = GalleryRules.from_config(cfg.faces)
    with db.connection() as conn:
        seg = store.load_segments(conn, [segment_id])[0]
        found = resolve_members(conn, [member or ""])
        if not found:
            raise EditError("Say which member's gallery to teach (a member tagged on the segment).")
        ((member_id, name),) = found[:1]
        if member_id not in {m["member_id"] for m in seg["members"]}:
            raise EditError(f"{name} is not tagged on segment {segment_id}: tag {name} on it first (confirm or "
                            "correct the members), then teach the gallery.")
        detections = conn.execute(
            "SELECT id, video_id, t_s, bbox, det_score, model, embedding, member_id FROM face_detections "
            "WHERE video_id = %s AND t_s >= %s AND t_s < %s AND member_id IS DISTINCT FROM %s ORDER BY id",
            (seg["video_id"], seg["start_s"], seg["end_s"], member_id)).fetchall()
        gallery = conn.execute("SELECT model, embedding FROM member_faces WHERE member_id = %s",
                               (member_id,)).fetchall()
    if not detections:
        raise EditError(f"There is no stored face in segment {segment_id} to learn from (none was detected there, "
                        f"or every one is matched to {name} already).")
    chosen, used, refused = [], [], []
    for det in _ranked(detections, gallery)[:CANDIDATES]:
        if len(chosen) >= TAUGHT_FACES:
            break
        face, reasons = clusters.judge_detection(db, cfg, det, rules)
        if reasons:
            refused.append({"detection_id": det["id"], "reasons": reasons})
        else:
            chosen.append(face)
            used.append(det)
    if not chosen:
        why = "; ".join(f"face {r['detection_id']}: {', '.join(r['reasons'])}" for r in refused)
        raise EditError(f"No face of segment {segment_id} can enter {name}'s gallery ({why}). Enrol a photo on the "
                        "Members page instead, or change faces.gallery_* in the config. Nothing was saved.")
    lookalikes = sorted({d["member_id"] for d in used if d["member_id"] is not None})
    with db.connection() as conn:
        store.lock_video(conn, seg["video_id"])
        seg = store.load_segments(conn, [segment_id])[0]
        if member_id not in {m["member_id"] for m in seg["members"]}:
            raise EditError(f"{name} was untagged from segment {segment_id} meanwhile: reload, tag {name} again, "
                            "then teach the gallery. Nothing was saved.", status_code=409)
        for model in sorted({c.model for c in chosen}):
            have = conn.execute("SELECT count(*) AS n FROM member_faces WHERE member_id = %s AND model = %s",
                                (member_id, model)).fetchone()["n"]
            adding = sum(c.model == model for c in chosen)
            if have + adding > cfg.faces.gallery_cap:
                raise EditError(f"{name}'s gallery has {have} face(s) of {model}; adding {adding} would pass the "
                                f"cap of {cfg.faces.gallery_cap} (faces.gallery_cap). Remove weaker faces on the "
                                "Members page first. Nothing was saved.", status_code=409)
        face_ids = people.save_gallery(conn, cfg, member_id, chosen)
        snap = [store.snapshot(seg)]
        history_id = store.record_history(conn, seg["video_id"], "teach", actor, snap, snap, gallery={
            "member_id": member_id, "member": name, "faces": face_ids, "detections": [d["id"] for d in used],
            "lookalikes": lookalikes, "segment_id": segment_id})
    retagged = people.retag_after_gallery_change(ctx.db, ctx.config, ctx.embedder, member_id, lookalikes)
    with db.connection() as conn:
        store.note_gallery(conn, history_id, {"added": retagged["added"], "removed": retagged["removed"]})
    retagged["text"] = f"Added {len(face_ids)} face(s) to {name}'s gallery. {retagged['text']}"
    return {"history_id": history_id, "member": name, "faces": face_ids, "refused": refused, "retagged": retagged}

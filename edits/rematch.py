"""Re-match the library for a few members after their gallery changed (a correction taught the gallery).

Only the stored detections those members can affect are read again: the ones matched to them now, and the ones
whose similarity to one of their gallery faces reaches ``threshold - margin`` (below that, a member can neither
win a detection nor take another member's win away through the margin). Each is re-decided against the whole
gallery of its face model (``Gallery.match``, the config's threshold and margin, as ``index --retag`` does);
then the automatic tags of the segments holding a changed detection are voted again (``vote``), manual tags
untouched, and the search fields of segments whose members changed are refreshed. One transaction.

Not covered: a gallery face *removed* from a member that is not in ``member_ids`` — pass every member whose
gallery changed (and, for a removal, the members its detections may fall back to).
"""
from __future__ import annotations

import time

from db import faces
from db.segments import add_members, refresh_search_fields
from indexer.matching import Gallery, Match, as_array, vote
from indexer.store import auto_tags

SIMILARITY_EPS = 1e-5        # similarities are stored as real: smaller differences are rounding


def rematch_members(db, cfg, member_ids: list[int], model: str | None = None, *, embedder=None) -> dict:
    """Re-match the detections ``member_ids`` can affect (of ``model``, or of every face model they have) and
    re-vote the automatic tags of the segments whose detections changed.

    Returns {"detections_checked", "detections_changed", "tags_added": [{"segment_id", "video_id", "member"}],
    "tags_removed": [...], "videos": {video_id: tags added + removed}, "timings_s": {phase: seconds}}.
    ``embedder`` (the text embedder; the configured one when None, loaded only if search text must change).
    """
    member_ids = sorted(set(member_ids))
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    checked = 0
    affected_ids: list[int] = []     # detections whose member changed, or whose matched similarity did
    moved = 0
    with db.connection() as conn:
        models = [model] if model else faces.face_models_of(conn, member_ids)
        for m in models:
            gallery = Gallery.load(conn, m, cfg.faces.threshold, cfg.faces.margin)
            candidates = faces.rematch_candidates(conn, m, member_ids, faces.member_gallery(conn, m, member_ids),
                                                  cfg.faces.threshold - cfg.faces.margin)
            timings["candidates"] = timings.get("candidates", 0.0) + time.perf_counter() - t0
            t0 = time.perf_counter()
            checked += len(candidates)
            updates = []
            for d in candidates:
                new = gallery.match(as_array(d["embedding"]))
                old_sim = d["similarity"] if d["similarity"] is not None else float("nan")
                if new.member_id != d["member_id"] or not abs(new.similarity - old_sim) <= SIMILARITY_EPS:
                    updates.append((new.member_id, new.similarity, d["id"]))
                    moved += new.member_id != d["member_id"]
                    if new.member_id != d["member_id"] or new.member_id is not None:
                        affected_ids.append(d["id"])
            faces.set_detection_matches(conn, updates)
            timings["match"] = timings.get("match", 0.0) + time.perf_counter() - t0
            t0 = time.perf_counter()
        report = _revote(conn, cfg, faces.segments_of_detections(conn, affected_ids), embedder)
        timings["tags"] = time.perf_counter() - t0
    return {"detections_checked": checked, "detections_changed": moved, **report,
            "timings_s": {k: round(v, 4) for k, v in timings.items()}}


def _revote(conn, cfg, segment_ids: list[int], embedder) -> dict:
    """Replace the automatic tags of the segments by the vote of their detections' stored matches."""
    video_of = faces.lock_segments(conn, segment_ids)
    segment_ids = sorted(video_of)
    before = faces.auto_tags_of(conn, segment_ids)
    matches: dict[int, list[Match]] = {sid: [] for sid in segment_ids}
    for r in faces.segment_face_matches(conn, segment_ids):
        matches[r["segment_id"]].append(Match(r["member_id"], r["similarity"] or 0.0))
    faces.delete_auto_tags(conn, segment_ids)
    for sid, found in matches.items():
        add_members(conn, sid, auto_tags(vote(found, cfg.faces.min_votes)))
    after = faces.auto_tags_of(conn, segment_ids)
    names = faces.member_names(conn, {mid for _, mid in before ^ after})

    def listed(tags: set[tuple[int, int]]) -> list[dict]:
        return [{"segment_id": sid, "video_id": video_of[sid], "member": names.get(mid, str(mid)),
                 "member_id": mid} for sid, mid in sorted(tags)]

    added, removed = listed(after - before), listed(before - after)
    videos: dict[str, int] = {}
    for t in added + removed:
        videos[t["video_id"]] = videos.get(t["video_id"], 0) + 1
    retexted = sorted({t["segment_id"] for t in added + removed})
    if retexted:
        if embedder is None:
            from core.embedding import embedder_from_config
            embedder = embedder_from_config(cfg)
        refresh_search_fields(conn, retexted, embedder)
    return {"tags_added": added, "tags_removed": removed, "videos": videos}

"""Unknown faces and corrections with real data: the real face pack (models/face_pack_small, MobileFaceNet 128-d)
on the real Hamilton clip and the enrolment photos in assets/ (SOURCES.md), through the JSON API.

Measured here (faces.sample_fps 2, 2 s segments): Lin-Manuel Miranda is the large face at 4.0-7.5 s (8 detections,
cosine 0.53-0.67 to his photo, 0.35-0.76 to one another); at 0-1.5 s he is the small face on the right (0.32-0.35
to his photo) beside a 25 px face nearest Alex Lacamoire's photos (0.21-0.30); 8-10 s is an ensemble of 4-6 other
faces. Different people reach up to 0.52 against one of his frames, so a single frame is a poor gallery.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient

from indexer.cli import main
from indexer.matching import as_array
from indexer.pipeline import video_id_for
from tests.helpers import asset, segment_tags

PACK = "models/face_pack_small"
LIN_PHOTO = "faces/enroll/lin_manuel_miranda/lin-manuel-miranda.png"
ALEX_PHOTOS = ["faces/enroll/alex_lacamoire/alex-lacamoire.png", "faces/enroll/alex_lacamoire/img1.jpg"]
LIN_SPAN = (4.0, 7.5)            # his large, frontal face (SOURCES.md: frames 90-210)


def _overrides(**faces) -> dict:
    """Cheap indexing: no captioner/ASR (the base config), no proxy, 2 face samples a second, 2 s segments."""
    return {"models": {"faces": str(asset(PACK))}, "indexer": {"segment_max_s": 2.0, "proxies": False},
            "faces": {"sample_fps": 2.0, **faces}}


@pytest.fixture
def hamilton(tmp_path):
    for rel in (PACK, "video/short_hamilton_clip.mp4", LIN_PHOTO, *ALEX_PHOTOS):
        if not asset(rel).exists():
            pytest.skip(f"asset {rel} is missing (see shared/assets/SOURCES.md)")
    dst = tmp_path / "clips" / "short_hamilton_clip.mp4"
    dst.parent.mkdir()
    shutil.copy(asset("video/short_hamilton_clip.mp4"), dst)
    return dst


def _index(write_config, video, overrides, enrol: dict[str, list[str]] = {}) -> str:   # noqa: B006 - read only
    cfg = write_config(**overrides)
    for name, photos in enrol.items():
        assert main(["enroll", name, *[str(asset(p)) for p in photos], "--config", str(cfg)]) == 0
    assert main(["index", str(video), "--config", str(cfg), "--no-progress"]) == 0
    return video_id_for(video)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def _photo_embedding(cfg, rel: str) -> np.ndarray:
    from core.face_quality import GalleryRules
    from edits import people

    found = people.candidates(people.load_rgb(asset(rel)), people.face_model(cfg), GalleryRules.from_config(cfg.faces))
    return _unit(found[0].face.embedding)


def _segments(db, video_id) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT id, start_s, end_s FROM segments WHERE video_id = %s ORDER BY start_s",
                            (video_id,)).fetchall()


def _segment_at(segments, t: float) -> int:
    return next(s["id"] for s in segments if s["start_s"] <= t < s["end_s"])


def _detections(db, video_id) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT id, t_s, bbox, det_score, embedding, member_id, similarity, cluster_id "
                            "FROM face_detections WHERE video_id = %s ORDER BY t_s, id", (video_id,)).fetchall()


def _lin_detections(dets) -> list[dict]:
    a, b = LIN_SPAN
    return [d for d in dets if a <= d["t_s"] <= b]


def _member_id(db, name: str) -> int:
    with db.connection() as conn:
        return conn.execute("SELECT id FROM members WHERE name = %s", (name,)).fetchone()["id"]


def _gallery(db, name: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT f.id, f.embedding FROM member_faces f JOIN members m ON m.id = f.member_id "
                            "WHERE m.name = %s ORDER BY f.id", (name,)).fetchall()


def test_naming_the_unknown_cluster_of_a_real_face_tags_its_segments(app_factory, make_config, write_config, db,
                                                                     hamilton):
    """Nobody enrolled: his eight large-face frames (4.0-7.5 s) form one cluster holding only them at the default
    faces.cluster_threshold 0.5 (0.45 clusters the same; 0.55 splits him in two, 0.4 merges ensemble faces).
    It is not the largest cluster (a 10-face group of the 3 s and 8-10 s crowd is), so it is found by time.
    Naming it tags every segment he is in (here also 0-1.7 s, where his far face is a cluster of its own)."""
    over = _overrides()                                   # the default faces.cluster_threshold (0.5)
    cfg = make_config(**over)
    vid = _index(write_config, hamilton, over)
    segments = _segments(db, vid)
    lin_photo = _photo_embedding(cfg, LIN_PHOTO)
    dets = _detections(db, vid)
    lin = _lin_detections(dets)
    sims = [float(lin_photo @ _unit(as_array(d["embedding"]))) for d in lin]
    assert len(lin) == 8 and min(sims) >= 0.45           # SOURCES.md: 0.45-0.63 for the right person
    assert all(d["member_id"] is None for d in dets)     # nobody enrolled: every face is unknown

    with TestClient(app_factory(cfg)) as api:
        r = api.get("/api/face-clusters")
        assert r.status_code == 200, r.text
        clusters = r.json()["clusters"]
        assert clusters and all(c["samples"] for c in clusters)
        dets = _detections(db, vid)
        lin_clusters = {d["cluster_id"] for d in _lin_detections(dets)}
        (lin_cluster,) = lin_clusters                    # one person, one cluster ...
        members = [d for d in dets if d["cluster_id"] == lin_cluster]
        assert {d["id"] for d in members} == {d["id"] for d in _lin_detections(dets)}   # ... and only him
        shown = next(c for c in clusters if c["id"] == lin_cluster)
        assert shown["size"] == 8 and len(shown["samples"]) >= 3
        assert shown["where"][0]["video_id"] == vid and shown["where"][0]["faces"] == 8

        r = api.post(f"/api/face-clusters/{lin_cluster}/name", json={"name": "Lin-Manuel Miranda"})
        assert r.status_code == 200, r.text
        out = r.json()
        assert len(out["faces"]) == 3 and out["refused"] == []
        gallery = _gallery(db, "Lin-Manuel Miranda")
        to_photo = [float(lin_photo @ _unit(as_array(g["embedding"]))) for g in gallery]
        assert len(gallery) == 3 and min(to_photo) >= 0.45            # his frames entered his gallery

        tags = segment_tags(db)
        lin_segments = {_segment_at(segments, d["t_s"]) for d in lin}
        assert all(tags.get(s) and ("Lin-Manuel Miranda", "auto") in tags[s] for s in lin_segments)
        assert out["retagged"]["videos"].get(vid, 0) >= len(lin_segments)
        assert f"{len(tags)} tag(s) added" in out["retagged"]["text"]
        added = {t["segment_id"] for t in out["retagged"]["where"] if t["change"] == "added"}
        assert added == set(tags) >= lin_segments
        assert lin_cluster not in {c["id"] for c in api.get("/api/face-clusters").json()["clusters"]}


MISMATCH = {"threshold": 0.15, "margin": 0.05}     # permissive: different people reach 0.17 (SOURCES.md)


def test_a_corrected_real_mismatch_teaches_the_gallery_and_one_revert_restores_it(app_factory, make_config,
                                                                                    write_config, db, hamilton):
    """Only Alex Lacamoire is enrolled (his two photos) at a permissive threshold, so one of Lin-Manuel Miranda's
    frames is taken for Alex; an editor corrects that segment to LMM (a member with no gallery yet) and teaches
    LMM's gallery from it: Lin-Manuel's other segments follow, manual tags stay, one revert undoes it all."""
    over = _overrides(**MISMATCH)
    cfg = make_config(**over)
    vid = _index(write_config, hamilton, over, enrol={"Alex": ALEX_PHOTOS})
    segments = _segments(db, vid)
    dets = _detections(db, vid)

    lin = _lin_detections(dets)
    lin_segments = {_segment_at(segments, d["t_s"]) for d in lin}
    mismatched = _segment_at(segments, 5.5)           # his frame at 5.5 s is 0.19 like Alex's img1.jpg
    manual = _segment_at(segments, 6.5)
    alex_own = _segment_at(segments, 0.5)             # Alex's 25 px face at 0-1.5 s: 0.21-0.30 like his photos

    with TestClient(app_factory(cfg)) as api:
        assert api.post("/api/members", json={"name": "LMM"}).status_code == 201     # no gallery yet
        first = segment_tags(db)
        assert first[mismatched] == {("Alex", "auto")} and first[alex_own] == {("Alex", "auto")}
        assert not any(("LMM", "auto") in t for t in first.values())
        for sid, members in ((mismatched, ["LMM"]), (manual, ["Alex"])):     # the correction; a manual tag
            seg = api.get(f"/api/segments/{sid}").json()
            fixed = api.patch(f"/api/segments/{sid}", json={"version": seg["version"], "members": members})
            assert fixed.status_code == 200, fixed.text
        corrected = segment_tags(db)
        assert corrected[mismatched] == {("LMM", "manual")} and corrected[manual] == {("Alex", "manual")}
        matches_before = {d["id"]: d["member_id"] for d in _detections(db, vid)}

        r = api.post(f"/api/segments/{mismatched}/teach", json={"member": "LMM"})
        assert r.status_code == 200, r.text
        out = r.json()
        assert len(out["faces"]) == 2 and out["refused"] == []
        assert len(_gallery(db, "LMM")) == 2 and len(_gallery(db, "Alex")) == 2
        lin_photo = _photo_embedding(cfg, LIN_PHOTO)
        taught_faces = [_unit(as_array(g["embedding"])) for g in _gallery(db, "LMM")]
        assert min(float(lin_photo @ f) for f in taught_faces) >= 0.45     # his frames, not someone else's

        taught = segment_tags(db)
        lmm = _member_id(db, "LMM")
        assert all(d["member_id"] == lmm for d in _detections(db, vid) if d["id"] in {x["id"] for x in lin})
        for sid in lin_segments - {mismatched}:                        # the other segments where he appears
            assert ("LMM", "auto") in taught[sid], (sid, taught.get(sid))
        assert taught[mismatched] == {("LMM", "manual")}               # the correction stays as made
        assert taught[manual] == {("Alex", "manual"), ("LMM", "auto")}  # a manual tag is never overwritten
        assert ("Alex", "auto") in taught[alex_own]                     # Alex's own face keeps his tag
        added = {(t["segment_id"], t["member"]) for t in out["retagged"]["where"] if t["change"] == "added"}
        assert {(sid, "LMM") for sid in lin_segments - {mismatched}} <= added
        assert out["retagged"]["text"].startswith(f"Added 2 face(s) to LMM's gallery. Re-matched the library: "
                                                  f"{len(added)} tag(s) added")

        rev = api.post(f"/api/history/{out['history_id']}/revert")
        assert rev.status_code == 200, rev.text
        assert rev.json()["summary"].startswith(f"reverted history #{out['history_id']}: removed 2 faces from "
                                                "LMM's gallery")
    assert len(_gallery(db, "LMM")) == 0 and len(_gallery(db, "Alex")) == 2
    assert segment_tags(db) == corrected                                        # exactly the tags before teaching
    assert {d["id"]: d["member_id"] for d in _detections(db, vid)} == matches_before

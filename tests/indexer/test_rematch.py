"""A correction teaches the gallery: re-matching only the detections the corrected members can affect.

Synthetic face embeddings (no model): one random unit vector per person, detections are that vector plus noise.
Person A looks like member B; A's only gallery face is a poor one, so A's faces were matched to B until a good
face of A is added.
"""
from __future__ import annotations

import numpy as np
import pytest

from db.members import add_gallery_face
from db.segments import segment_members
from edits.rematch import rematch_members
from indexer import store
from indexer.matching import Gallery
from indexer.store import FaceRow, SegmentRow
from tests.factories import add_member

DIM, MODEL = 128, "synthetic_faces"


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


class People:
    def __init__(self, seed: int = 3):
        self.rng = np.random.default_rng(seed)
        self.a = self.random()
        self.b = unit(self.a + 0.8 * self.random())       # B looks like A (cosine ≈ 0.78)
        self.c = self.random()                              # C looks like nobody

    def random(self) -> np.ndarray:
        return unit(self.rng.normal(size=DIM))

    def face(self, person: np.ndarray, noise: float = 0.3) -> np.ndarray:
        return unit(person + noise * self.random())


@pytest.fixture
def library(db, config, tiny_embedder, tmp_path):
    """Videos v1..v3 tagged by a full retag with the poor gallery; returns (people, member ids, segments)."""
    p = People()
    # (video, start, end, person, faces, manual tag)
    layout = [("v1", 0, 4, "a", 3, None), ("v1", 4, 8, "b", 2, None), ("v1", 8, 12, "c", 3, None),
              ("v1", 12, 16, "a", 2, "B"), ("v2", 0, 4, "a", 2, "A"), ("v2", 4, 8, None, 0, None)]
    layout += [("v3", 4 * i, 4 * i + 4, "c", 4, None) for i in range(5)]
    with db.connection() as conn:
        ids = {name: add_member(conn, name) for name in "ABC"}
        add_gallery_face(conn, ids["A"], MODEL, p.face(p.a, noise=1.5), "photo")   # a poor photo of A
        add_gallery_face(conn, ids["B"], MODEL, p.face(p.b, noise=0.2), "photo")
        add_gallery_face(conn, ids["C"], MODEL, p.face(p.c, noise=0.2), "photo")
        for vid in ("v1", "v2", "v3"):
            rows = [r for r in layout if r[0] == vid]
            segs = [SegmentRow(start=s, end=e, caption=f"{vid} scene at {s}") for _, s, e, _, _, _ in rows]
            dets = [FaceRow(t=s + 0.5 + k * 0.5, bbox=(0, 0, 10, 10), det_score=0.9, embedding=p.face(getattr(p, who)))
                    for _, s, _, who, n, _ in rows for k in range(n)]
            store.replace_video(conn, {"id": vid, "title": vid, "duration_s": 20.0}, segs, dets, MODEL,
                                tiny_embedder, tmp_path, [])
        retag_all(conn, config, tiny_embedder)
        segments = {}
        for vid, s, _, _, _, manual in layout:
            sid = conn.execute("SELECT id FROM segments WHERE video_id = %s AND start_s = %s",
                               (vid, s)).fetchone()["id"]
            segments[(vid, s)] = sid
            if manual:
                conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence, source) "
                             "VALUES (%s, %s, NULL, 'manual') ON CONFLICT (segment_id, member_id) DO UPDATE "
                             "SET source = 'manual', confidence = NULL", (sid, ids[manual]))
    return p, ids, segments


def retag_all(conn, cfg, embedder) -> None:
    gallery = Gallery.load(conn, MODEL, cfg.faces.threshold, cfg.faces.margin)
    for vid in ("v1", "v2", "v3"):
        store.retag_video(conn, vid, lambda _model: gallery, cfg.faces.min_votes, embedder)


def tags(db) -> dict[int, set[tuple[int, str]]]:
    with db.connection() as conn:
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments").fetchall()]
        return {sid: {(m["member_id"], m["source"]) for m in ms} for sid, ms in segment_members(conn, ids).items()}


def detections(db) -> dict[int, int | None]:
    with db.connection() as conn:
        return {r["id"]: r["member_id"] for r in conn.execute("SELECT id, member_id FROM face_detections")}


def correct(db, p: People, ids: dict) -> None:
    with db.connection() as conn:
        add_gallery_face(conn, ids["A"], MODEL, p.face(p.a, noise=0.2), "correction")


def test_faces_of_a_look_alike_move_to_the_right_member_and_the_report_says_where(library, db, config,
                                                                                 tiny_embedder):
    p, ids, seg = library
    before = tags(db)
    assert (ids["B"], "auto") in before[seg[("v1", 0)]]            # A's faces were taken for B
    correct(db, p, ids)

    report = rematch_members(db, config, [ids["A"], ids["B"]], embedder=tiny_embedder)

    assert report["detections_checked"] == 3 + 2 + 2 + 2            # A's faces and B's, none of C's 23
    assert report["detections_changed"] == 7
    where = {(t["video_id"], t["segment_id"], t["member"]) for t in report["tags_added"]}
    assert where == {("v1", seg[("v1", 0)], "A"), ("v1", seg[("v1", 12)], "A")}
    assert {(t["video_id"], t["segment_id"], t["member"]) for t in report["tags_removed"]} == {
        ("v1", seg[("v1", 0)], "B"), ("v2", seg[("v2", 0)], "B")}
    assert report["videos"] == {"v1": 3, "v2": 1}
    after = tags(db)
    assert after[seg[("v1", 0)]] == {(ids["A"], "auto")}
    with db.connection() as conn:
        text = conn.execute("SELECT search_text FROM segments WHERE id = %s", (seg[("v1", 0)],)).fetchone()
    assert "A" in text["search_text"].split(", ")[0] and "B" not in text["search_text"]


def test_manual_tags_stay_and_other_segments_are_untouched(library, db, config, tiny_embedder):
    p, ids, seg = library
    before = tags(db)
    correct(db, p, ids)
    rematch_members(db, config, [ids["A"], ids["B"]], embedder=tiny_embedder)
    after = tags(db)
    assert after[seg[("v1", 12)]] == {(ids["B"], "manual"), (ids["A"], "auto")}
    assert after[seg[("v2", 0)]] == {(ids["A"], "manual")}
    changed = {sid for sid in before if before[sid] != after[sid]}
    assert changed == {seg[("v1", 0)], seg[("v1", 12)], seg[("v2", 0)]}
    assert {(m, s) for m, s in before[seg[("v1", 4)]]} == {(ids["B"], "auto")}


def test_same_tags_and_matches_as_a_full_retag(library, db, config, tiny_embedder):
    p, ids, _ = library
    correct(db, p, ids)
    rematch_members(db, config, [ids["A"], ids["B"]], embedder=tiny_embedder)
    partial_tags, partial_dets = tags(db), detections(db)
    with db.connection() as conn:
        confidences = dict(((r["segment_id"], r["member_id"]), r["confidence"]) for r in conn.execute(
            "SELECT segment_id, member_id, confidence FROM segment_members WHERE source = 'auto'"))
        retag_all(conn, config, tiny_embedder)
        full_conf = dict(((r["segment_id"], r["member_id"]), r["confidence"]) for r in conn.execute(
            "SELECT segment_id, member_id, confidence FROM segment_members WHERE source = 'auto'"))
    assert tags(db) == partial_tags
    assert detections(db) == partial_dets
    assert confidences == pytest.approx(full_conf, abs=1e-5)


def test_nothing_to_do_changes_nothing(library, db, config, tiny_embedder):
    _, ids, _ = library
    before = tags(db)
    report = rematch_members(db, config, [ids["C"]], embedder=tiny_embedder)
    assert report["detections_checked"] == 3 + 20
    assert (report["detections_changed"], report["tags_added"], report["tags_removed"], report["videos"]) == (
        0, [], [], {})
    assert tags(db) == before

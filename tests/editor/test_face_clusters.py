"""Unknown faces: unmatched face detections grouped into clusters incrementally, shown with crops and where they
appear, and named ("this is …") as a member through the gallery's quality gate, which re-matches the library."""
from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from edits.clusters import update_clusters
from tests.factories import add_segment, add_video
from tests.helpers import wait_for

MODEL = "test-faces"
DIM = 64
FACE = [130.0, 50.0, 190.0, 130.0]           # 60×80 px of the 320×180 test frame, sharp (testsrc edges)
TINY = [10.0, 10.0, 30.0, 30.0]              # 20×20 px: the gate refuses it
TOKEN = "cluster-test-token-0123456"


def _person(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM)
    return v / np.linalg.norm(v)


def _faces(conn, video_id: str, person: np.ndarray, times: list[float], bbox=FACE, det_score=0.9,
           seed: int = 0) -> list[int]:
    """Stored, unmatched detections of one person (its vector plus a little noise) at the given times."""
    rng = np.random.default_rng(seed)
    ids = []
    for t in times:
        e = person + rng.normal(scale=0.05, size=DIM) / np.sqrt(DIM)
        ids.append(conn.execute(
            "INSERT INTO face_detections (video_id, t_s, bbox, det_score, model, embedding) "
            "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (video_id, t, bbox, det_score, MODEL, (e / np.linalg.norm(e)).tolist())).fetchone()["id"])
    return ids


def _clusters(db) -> dict[int, int]:
    """cluster id → size."""
    with db.connection() as conn:
        return {r["id"]: r["size"] for r in conn.execute("SELECT id, size FROM face_clusters ORDER BY id")}


def _cluster_of(db, detection_ids: list[int]) -> set:
    with db.connection() as conn:
        return {r["cluster_id"] for r in conn.execute(
            "SELECT cluster_id FROM face_detections WHERE id = ANY(%s)", (detection_ids,))}


@pytest.fixture
def videos(db, test_video, tiny_embedder):
    """Two indexed 10 s videos (the lavfi test clip) with two segments each."""
    segments = {}
    with db.connection() as conn:
        for vid, title in (("va", "Stage A"), ("vb", "Stage B")):
            add_video(conn, vid, title=title, path=str(test_video), duration_s=10.0)
            segments[vid] = [add_segment(conn, vid, 0.0, 5.0, tiny_embedder, caption="a stage"),
                             add_segment(conn, vid, 5.0, 10.0, tiny_embedder, caption="a crowd")]
    return segments


def test_clustering_is_incremental(db, config, videos):
    alice, bob = _person(1), _person(2)
    with db.connection() as conn:
        a1 = _faces(conn, "va", alice, [1.0, 2.0, 3.0], seed=1)
    first = update_clusters(db, config)
    assert first["assigned"] == 3 and first["new_clusters"] == 1
    before = _clusters(db)
    assert list(before.values()) == [3]

    again = update_clusters(db, config)                 # nothing new: nothing recreated
    assert again["assigned"] == 0 and again["new_clusters"] == 0 and _clusters(db) == before

    with db.connection() as conn:                       # a second video: the same person joins, another starts one
        a2 = _faces(conn, "vb", alice, [6.0, 7.0], seed=2)
        b = _faces(conn, "vb", bob, [1.0, 2.0, 3.0], seed=3)
    second = update_clusters(db, config)
    assert second["assigned"] == 5 and second["new_clusters"] == 1
    (alice_cluster,) = _cluster_of(db, a1 + a2)
    (bob_cluster,) = _cluster_of(db, b)
    assert alice_cluster in before and bob_cluster != alice_cluster
    assert _clusters(db) == {alice_cluster: 5, bob_cluster: 3}

    with db.connection() as conn:                       # a face matched to a member since leaves its cluster
        mid = conn.execute("INSERT INTO members (name) VALUES ('Bob') RETURNING id").fetchone()["id"]
        conn.execute("UPDATE face_detections SET member_id = %s, similarity = 0.9 WHERE id = %s", (mid, b[0]))
    assert update_clusters(db, config)["released"] == 1
    assert _clusters(db)[bob_cluster] == 2 and _cluster_of(db, [b[0]]) == {None}


def test_the_list_shows_large_clusters_with_crops_and_where_they_appear(app_factory, make_config, db, videos):
    cfg = make_config(faces={"cluster_min_size": 3})
    with db.connection() as conn:
        _faces(conn, "va", _person(1), [1.0, 6.0], seed=1)
        _faces(conn, "vb", _person(1), [2.5], seed=2)
        _faces(conn, "vb", _person(2), [1.0, 2.0], seed=3)        # only two faces: not shown
    with TestClient(app_factory(cfg)) as api:
        r = api.get("/api/face-clusters")
        assert r.status_code == 200, r.text
        (cluster,) = r.json()["clusters"]
        assert cluster["size"] == 3 and len(cluster["samples"]) == 3
        assert [(w["video_id"], w["faces"], w["first_s"]) for w in cluster["where"]] == [("va", 2, 1.0),
                                                                                         ("vb", 1, 2.5)]
        assert cluster["where"][0]["url"] == f"/videos/va?segment={videos['va'][0]}"
        crop = api.get(cluster["samples"][0]["url"])
        assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"
        assert crop.content[:2] == b"\xff\xd8"
        assert (cfg.faces_path / "detections" / f"{cluster['samples'][0]['id']}.jpg").is_file()
        assert api.get("/face-detections/999999.jpg").status_code == 404


def test_naming_a_cluster_enrols_its_best_faces_and_re_matches_the_library(app_factory, make_config, db, videos):
    cfg = make_config(faces={"cluster_min_size": 3})
    alice = _person(1)
    with db.connection() as conn:
        tiny = _faces(conn, "va", alice, [3.0], bbox=TINY, det_score=0.99, seed=9)   # ranked first, refused
        faces = _faces(conn, "va", alice, [1.0, 6.0], seed=1) + _faces(conn, "vb", alice, [2.0, 7.0], seed=2)
    with TestClient(app_factory(cfg)) as api:
        (cluster,) = api.get("/api/face-clusters").json()["clusters"]
        assert cluster["size"] == 5
        r = api.post(f"/api/face-clusters/{cluster['id']}/name", json={"name": "Alice Kim"})
        assert r.status_code == 200, r.text
        out = r.json()
        assert len(out["faces"]) == 3
        assert [r["detection_id"] for r in out["refused"]] == tiny
        assert "face is 20×20 px, smaller than 40 px" in out["refused"][0]["reasons"]
        assert "4 tag(s) added" in out["retagged"]["text"] and out["retagged"]["videos"] == {"va": 2, "vb": 2}
        with db.connection() as conn:
            member = conn.execute("SELECT id FROM members WHERE name = 'Alice Kim'").fetchone()
            assert member["id"] == out["member_id"]
            gallery = conn.execute("SELECT crop, source FROM member_faces WHERE member_id = %s",
                                   (member["id"],)).fetchall()
            assert len(gallery) == 3 and all((cfg.faces_path / g["crop"]).is_file() for g in gallery)
            matched = conn.execute("SELECT id FROM face_detections WHERE member_id = %s ORDER BY id",
                                   (member["id"],)).fetchall()
            tags = conn.execute("SELECT segment_id FROM segment_members WHERE member_id = %s ORDER BY segment_id",
                                (member["id"],)).fetchall()
        assert {m["id"] for m in matched} >= set(faces)
        assert [t["segment_id"] for t in tags] == sorted(videos["va"] + videos["vb"])
        assert api.get("/api/face-clusters").json()["clusters"] == []       # its faces are known now
        assert api.post(f"/api/face-clusters/{cluster['id']}/name", json={"name": "Again"}).status_code == 404


def test_naming_refuses_when_no_face_passes_the_gate(app_factory, make_config, db, videos):
    cfg = make_config(faces={"cluster_min_size": 3})
    with db.connection() as conn:
        _faces(conn, "va", _person(4), [1.0, 2.0, 3.0], bbox=TINY, seed=4)
        mid = conn.execute("INSERT INTO members (name) VALUES ('Existing') RETURNING id").fetchone()["id"]
    with TestClient(app_factory(cfg)) as api:
        (cluster,) = api.get("/api/face-clusters").json()["clusters"]
        r = api.post(f"/api/face-clusters/{cluster['id']}/name", json={"member_id": mid})
        assert r.status_code == 400
        assert "smaller than 40 px" in r.json()["detail"] and "Nothing was saved" in r.json()["detail"]
        assert api.post(f"/api/face-clusters/{cluster['id']}/name", json={}).status_code == 400
        assert api.post(f"/api/face-clusters/{cluster['id']}/name", json={"name": "Existing"}).status_code == 400
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM member_faces").fetchone()["n"] == 0


def test_unknown_faces_need_credentials(app_factory, make_config, db, videos):
    cfg = make_config(auth={"token": TOKEN, "secret": "k" * 32})
    with db.connection() as conn:
        ids = _faces(conn, "va", _person(1), [1.0, 2.0, 3.0], seed=1)
    with TestClient(app_factory(cfg), follow_redirects=False) as api:
        assert api.get("/api/face-clusters").status_code == 401
        assert api.get(f"/face-detections/{ids[0]}.jpg").status_code == 401
        assert api.post("/api/face-clusters/1/name", json={"name": "X"}).status_code in (401, 403)
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert api.get("/api/face-clusters", headers=bearer).status_code == 200
        assert api.get(f"/face-detections/{ids[0]}.jpg", headers=bearer).status_code == 200


def test_naming_a_cluster_in_the_browser(browser, app_factory, make_config, db, videos, serve, artifacts_dir):
    cfg = make_config(faces={"cluster_min_size": 3})
    with db.connection() as conn:
        _faces(conn, "va", _person(1), [1.0, 6.0], seed=1)
        _faces(conn, "vb", _person(1), [2.0], seed=2)
        _faces(conn, "vb", _person(2), [3.0, 4.0, 8.0], seed=3)
    base = serve(app_factory(cfg))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/members")
    page.wait_for_selector("#members[data-unknown='1']")
    cards = page.locator(".u-card")
    assert cards.count() == 2
    first = cards.nth(0)
    assert first.locator(".u-where").inner_text().startswith("Seen 3 times in: ")
    loaded = "[...document.querySelectorAll('.u-samples img')].every(i => i.naturalWidth === 112)"
    wait_for(lambda: page.evaluate(loaded), "the sample crops to load", timeout=30)
    page.screenshot(path=str(artifacts_dir / "unknown_faces.png"), full_page=True)
    cluster_id = first.get_attribute("data-cluster")
    first.locator("input").fill("Hyein")
    first.locator("button").click()
    wait_for(lambda: "Re-matched" in page.locator("#u-status").inner_text(), "the re-match's report")
    assert "Added 3 face(s) to the gallery." in page.locator("#u-status").inner_text()
    page.wait_for_selector(".m-card[data-name='Hyein'] .m-face img")
    page.wait_for_selector(f".u-card[data-cluster='{cluster_id}']", state="detached")
    assert page.locator(".u-card").count() == 1 and not errors
    page.screenshot(path=str(artifacts_dir / "unknown_faces_named.png"), full_page=True)
    page.close()


def test_the_cli_clusters_new_faces(db, videos, write_config, capsys):
    from indexer.cli import main

    with db.connection() as conn:
        _faces(conn, "va", _person(1), [1.0, 2.0], seed=1)
    assert main(["--config", str(write_config()), "clusters"]) == 0
    assert "clustered 2 new unmatched face(s): 1 new cluster(s)" in capsys.readouterr().out
    assert main(["--config", str(write_config()), "clusters"]) == 0
    assert "clustered 0 new unmatched face(s): 0 new cluster(s)" in capsys.readouterr().out

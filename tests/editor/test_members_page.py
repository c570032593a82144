"""The Members page: members, aliases, groups, and enrolling faces from photos through the quality gate, by the
JSON API and in a real browser (the same gallery as ``python -m indexer enroll``)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter

from indexer.cli import main
from tests.helpers import asset, wait_for

PHOTO = "faces/enroll/lin_manuel_miranda/lin-manuel-miranda.png"


@pytest.fixture
def face_config(make_config):
    return make_config(models={"faces": str(asset("models/face_pack_small"))})


@pytest.fixture
def api(app_factory, face_config):
    with TestClient(app_factory(face_config)) as c:
        yield c


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _detect(api, name: str, data: bytes) -> dict:
    r = api.post("/api/members/detect", files={"photo": (name, data, "image/png")})
    assert r.status_code == 200, r.text
    return r.json()


def _member(api, name: str) -> dict:
    return next(m for m in api.get("/api/people").json()["members"] if m["name"] == name)


def _gallery(db, name: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT f.* FROM member_faces f JOIN members m ON m.id = f.member_id WHERE m.name = %s "
                            "ORDER BY f.id", (name,)).fetchall()


def test_members_aliases_and_group(api, db):
    r = api.post("/api/members", json={"name": "Kang  Haerin", "group": "NewJeans", "aliases": ["해린"]})
    assert r.status_code == 201
    mid = r.json()["id"]
    assert api.post("/api/members", json={"name": "Kang Haerin"}).status_code == 409
    assert api.post(f"/api/members/{mid}/aliases", json={"alias": "Hae Rin"}).status_code == 200
    m = _member(api, "Kang Haerin")
    assert m["group"] == "NewJeans" and m["aliases"] == ["Hae Rin", "해린"] and m["faces"] == []
    with db.connection() as conn:
        normalized = {r["normalized"] for r in conn.execute(
            "SELECT normalized FROM member_aliases WHERE member_id = %s", (mid,))}
    assert {"haerin", "해린"} <= normalized          # the same normalisation as `indexer enroll --alias`
    from search.query import load_aliases, parse_query

    with db.connection() as conn:
        parsed = parse_query("해린이가 춤추는 장면", load_aliases(conn))  # a particle after the alias
    assert [p.name for p in parsed.members] == ["Kang Haerin"]

    assert api.delete(f"/api/members/{mid}/aliases", params={"alias": "해린"}).status_code == 200
    assert api.delete(f"/api/members/{mid}/aliases", params={"alias": "Kang Haerin"}).status_code == 400
    assert api.delete(f"/api/members/{mid}/aliases", params={"alias": "nope"}).status_code == 404
    assert api.patch(f"/api/members/{mid}", json={"group": ""}).status_code == 200
    m = _member(api, "Kang Haerin")
    assert m["aliases"] == ["Hae Rin"] and m["group"] is None
    page = api.get("/members")
    assert page.status_code == 200 and "members.js" in page.text


def test_enrol_a_photo_then_remove_the_face(api, db, face_config):
    mid = api.post("/api/members", json={"name": "Lin-Manuel Miranda"}).json()["id"]
    found = _detect(api, "lin.png", asset(PHOTO).read_bytes())
    assert found["photo"] == "lin.png" and len(found["faces"]) == 1 and found["chosen"] == 0
    face = found["faces"][0]
    assert face["reasons"] == [] and face["crop"].startswith("data:image/jpeg;base64,")
    assert face["width"] >= 40 and face["det_score"] >= 0.6 and face["sharpness"] >= 40
    assert _gallery(db, "Lin-Manuel Miranda") == []                 # nothing saved before the choice

    r = api.post(f"/api/members/{mid}/faces", json={"choices": [{"upload": found["upload"], "face": 0}]})
    assert r.status_code == 201, r.text
    [row] = _gallery(db, "Lin-Manuel Miranda")
    assert row["model"] == "face_pack_small" and row["photo_name"] == "lin.png" and row["crop"] == f"{row['id']}.jpg"
    assert (face_config.faces_path / row["crop"]).is_file()
    [shown] = _member(api, "Lin-Manuel Miranda")["faces"]
    img = api.get(shown["url"])
    assert img.status_code == 200 and img.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(img.content)).size == (112, 112)
    # the upload is used once
    again = api.post(f"/api/members/{mid}/faces", json={"choices": [{"upload": found["upload"], "face": 0}]})
    assert again.status_code == 404 and "upload it again" in again.json()["detail"]

    assert api.delete(f"/api/member-faces/{row['id']}").status_code == 200
    assert _gallery(db, "Lin-Manuel Miranda") == [] and not (face_config.faces_path / row["crop"]).exists()
    assert api.get(shown["url"]).status_code == 404
    assert api.delete(f"/api/member-faces/{row['id']}").status_code == 404


def test_tiny_and_blurry_faces_are_refused_with_the_reason(api, db, face_config, write_config, capsys, tmp_path):
    mid = api.post("/api/members", json={"name": "Alex"}).json()["id"]
    photo = Image.open(asset("faces/enroll/alex_lacamoire/alex-lacamoire.png")).convert("RGB")
    blurred = _detect(api, "blurred.png", _png(photo.filter(ImageFilter.GaussianBlur(6))))
    [face] = blurred["faces"]
    assert blurred["chosen"] is None
    assert face["reasons"] and face["reasons"][0].startswith("blurry: sharpness ")
    assert "(variance of the Laplacian)" in face["reasons"][0]
    r = api.post(f"/api/members/{mid}/faces", json={"choices": [{"upload": blurred["upload"], "face": 0}]})
    assert r.status_code == 400 and "blurred.png is refused: blurry" in r.json()["detail"]

    # a small face: the photo scaled down, then padded so that the detector still finds it
    small = Image.new("RGB", (200, 200), "white")
    small.paste(photo.resize((photo.width // 6, photo.height // 6), Image.Resampling.LANCZOS), (70, 70))
    tiny = _detect(api, "tiny.png", _png(small))
    assert tiny["faces"], "the detector should still find the small face"
    assert any("smaller than 40 px" in r for r in tiny["faces"][0]["reasons"])
    assert _gallery(db, "Alex") == []

    # the CLI refuses the same photo, names it and why, and enrols nothing (one transaction)
    path = tmp_path / "blurred.png"
    path.write_bytes(_png(photo.filter(ImageFilter.GaussianBlur(6))))
    cfg = write_config(models={"faces": str(asset("models/face_pack_small"))})
    good = asset(PHOTO)
    assert main(["enroll", "Alex CLI", str(good), str(path), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "blurred.png is refused: blurry: sharpness" in err
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM members WHERE name = 'Alex CLI'").fetchone()["n"] == 0
        assert conn.execute("SELECT count(*) AS n FROM member_faces").fetchone()["n"] == 0


def test_credentials_are_required_when_a_token_is_set(app_factory, make_config, db):
    cfg = make_config(auth={"token": "s3cret-token-for-tests", "secret": "k" * 32},
                      models={"faces": str(asset("models/face_pack_small"))})
    with TestClient(app_factory(cfg)) as c:
        assert c.get("/api/people").status_code == 401
        assert c.post("/api/members", json={"name": "X"}).status_code == 401
        assert c.post("/api/members/detect", files={"photo": ("a.png", b"x", "image/png")}).status_code == 401
        assert c.delete("/api/member-faces/1").status_code == 401
        assert c.get("/member-faces/1.jpg").status_code == 401
        assert c.get("/members").status_code == 401
        ok = c.get("/api/people", headers={"Authorization": "Bearer s3cret-token-for-tests"})
        assert ok.status_code == 200


def test_enrol_in_the_browser_matches_the_cli(browser, app_factory, face_config, write_config, db, serve,
                                              artifacts_dir, capsys):
    photo = asset(PHOTO)
    with db.connection() as conn:
        conn.execute("INSERT INTO members (name, group_name) VALUES ('Barack Obama', 'USA')")
    base = serve(app_factory(face_config))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/members")
    page.wait_for_selector("#members[data-ready='1']")
    page.fill("#m-new-name", "Lin-Manuel Miranda")
    page.fill("#m-new-group", "Hamilton")
    page.fill("#m-new-aliases", "린마누엘, LMM")
    page.click("#m-create button[type=submit]")
    card = ".m-card[data-name='Lin-Manuel Miranda']"
    page.wait_for_selector(card)
    assert page.text_content(f"{card} .m-aliases").count("×") == 2
    page.set_input_files(f"{card} .m-file", str(photo))
    page.wait_for_selector(f"{card} .m-photo .m-candidate img")
    assert page.is_checked(f"{card} .m-candidate input")            # the largest face is preselected
    assert "1 face(s) found" in page.text_content(f"{card} .m-photo legend")
    page.click(f"{card} .m-save")
    page.wait_for_selector(f"{card} .m-gallery .m-face img")
    wait_for(lambda: page.evaluate(f"document.querySelector(\"{card} .m-face img\").naturalWidth") == 112,
             "the crop is shown")
    obama = ".m-card[data-name='Barack Obama']"                      # a second photo, detected but not saved
    page.set_input_files(f"{obama} .m-file", str(asset("faces/enroll/obama/obama.jpg")))
    page.wait_for_selector(f"{obama} .m-photo .m-candidate img")
    page.screenshot(path=str(artifacts_dir / "members_page.png"), full_page=True)
    assert not errors

    cfg = write_config(models={"faces": str(asset("models/face_pack_small"))})
    assert main(["enroll", "CLI copy", str(photo), "--config", str(cfg)]) == 0
    web, cli = _gallery(db, "Lin-Manuel Miranda"), _gallery(db, "CLI copy")
    assert len(web) == len(cli) == 1
    a, b = web[0]["embedding"].to_numpy(), cli[0]["embedding"].to_numpy()
    assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.999
    assert (web[0]["face_w"], web[0]["face_h"]) == (cli[0]["face_w"], cli[0]["face_h"])
    assert cli[0]["crop"] == f"{cli[0]['id']}.jpg"


def test_the_quality_gate_alone():
    from core.face_quality import GalleryRules, check_face
    from indexer.faces import DetectedFace

    rules = GalleryRules(min_face_px=40, min_det_score=0.6, min_sharpness=40)
    sharp = np.indices((200, 200)).sum(axis=0) % 8 < 4                  # stripes: strong edges
    image = np.repeat((sharp * 255).astype(np.uint8)[:, :, None], 3, axis=2)
    face = DetectedFace(bbox=(10.0, 10.0, 110.0, 130.0), det_score=0.9, embedding=np.zeros(4, np.float32))
    assert check_face(image, face, rules) == []
    flat = np.full_like(image, 128)
    small = DetectedFace(bbox=(10.0, 10.0, 32.0, 38.0), det_score=0.41, embedding=face.embedding)
    assert check_face(flat, small, rules) == [
        "face is 22×28 px, smaller than 40 px", "detection score 0.41 < 0.60",
        "blurry: sharpness 0 < 40 (variance of the Laplacian)"]


def test_a_file_that_is_not_a_photo(api):
    r = api.post("/api/members/detect", files={"photo": ("notes.png", b"not a picture", "image/png")})
    assert r.status_code == 400 and "cannot read the photo notes.png" in r.json()["detail"]


def test_a_gallery_change_re_matches_the_library_and_says_how_many_tags_changed(api, db, face_config, tiny_embedder):
    from edits.people import face_model, load_rgb
    from indexer.faces import largest_face
    from tests.factories import add_segment, add_video

    model = face_model(face_config)
    face = largest_face(model.detect(load_rgb(asset(PHOTO))))
    with db.connection() as conn:                    # a face the indexer saw in a video, nobody's yet
        add_video(conn, "stage", duration_s=20.0)
        sid = add_segment(conn, "stage", 0.0, 10.0, tiny_embedder, caption="a man sings")
        conn.execute("INSERT INTO face_detections (video_id, t_s, bbox, det_score, model, embedding) "
                     "VALUES ('stage', 4.0, %s, 0.9, %s, %s)", (list(face.bbox), model.name, face.embedding.tolist()))
    mid = api.post("/api/members", json={"name": "Lin-Manuel Miranda"}).json()["id"]
    upload = _detect(api, "lmm.png", open(asset(PHOTO), "rb").read())["upload"]
    r = api.post(f"/api/members/{mid}/faces", json={"choices": [{"upload": upload, "face": 0}]})
    assert r.status_code == 201
    assert r.json()["retagged"]["added"] == 1 and r.json()["retagged"]["videos"] == {"stage": 1}
    assert "1 tag(s) added, 0 removed in 1 video(s): stage (1)" in r.json()["retagged"]["text"]   # and where
    with db.connection() as conn:
        tags = conn.execute("SELECT member_id, source FROM segment_members WHERE segment_id = %s", (sid,)).fetchall()
    assert tags == [{"member_id": mid, "source": "auto"}]
    face_id = _member(api, "Lin-Manuel Miranda")["faces"][0]["id"]
    r = api.delete(f"/api/member-faces/{face_id}")
    assert r.status_code == 200 and r.json()["retagged"]["removed"] == 1
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM segment_members WHERE segment_id = %s",
                            (sid,)).fetchone()["n"] == 0

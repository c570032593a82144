"""Corrections teach the gallery: a tag corrected in the editor adds the segment's face to the member's gallery,
the library is re-matched for the member and its look-alikes (manual tags untouched), and one revert restores the
previous gallery and tags."""
from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from db.members import add_gallery_face
from edits.history import list_history, revert_history
from edits.operations import update_segment
from edits.rematch import rematch_members
from edits.teach import teach_gallery
from tests.factories import add_member, add_segment, add_video
from tests.helpers import segment_tags

MODEL = "test-faces"
DIM = 64
FACE = [130.0, 50.0, 190.0, 130.0]           # 60×80 px of the 320×180 test frame, sharp (testsrc edges)
TINY = [10.0, 10.0, 30.0, 30.0]              # 20×20 px: the gate refuses it


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _basis(seed: int) -> np.ndarray:
    return _unit(np.random.default_rng(seed).normal(size=DIM))


X_FACE = _basis(1)                                   # person X
Y_GALLERY = _unit(0.8 * X_FACE + 0.6 * _basis(2))     # Y looks like X: X's faces are ~0.8 like Y's gallery face
X_POOR = _unit(0.6 * X_FACE + 0.8 * _basis(3))       # X's one poor gallery face: ~0.6 like X's faces


def _faces(conn, person: np.ndarray, times: list[float], bbox=FACE, seed: int = 0) -> list[int]:
    rng = np.random.default_rng(seed)
    ids = []
    for t in times:
        e = _unit(person + rng.normal(scale=0.05, size=DIM) / np.sqrt(DIM))
        ids.append(conn.execute(
            "INSERT INTO face_detections (video_id, t_s, bbox, det_score, model, embedding) "
            "VALUES ('va', %s, %s, 0.9, %s, %s) RETURNING id", (t, bbox, MODEL, e.tolist())).fetchone()["id"])
    return ids


def _gallery(db, name: str) -> int:
    with db.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM member_faces f JOIN members m ON m.id = f.member_id "
                            "WHERE m.name = %s", (name,)).fetchone()["n"]


@pytest.fixture
def library(db, ctx, test_video, tiny_embedder):
    """Video va (the 10 s lavfi clip): X's faces in segments s1-s3 and s5 matched to the look-alike Y; Y's own
    faces in s4; s5 carries a manual Y tag; s6 has only a face the gate refuses."""
    with db.connection() as conn:
        add_video(conn, "va", title="Stage A", path=str(test_video), duration_s=10.0)
        x, y = add_member(conn, "Xena"), add_member(conn, "Yuna")
        add_gallery_face(conn, x, MODEL, X_POOR, "photo:x")
        add_gallery_face(conn, y, MODEL, Y_GALLERY, "photo:y")
        segs = [add_segment(conn, "va", a, a + 1.5, tiny_embedder, caption="a stage") for a in (0, 2, 4, 6, 8)]
        segs.append(add_segment(conn, "va", 9.6, 10.0, tiny_embedder, caption="a blur"))
        for i, s in enumerate((0.5, 2.5, 4.5)):
            _faces(conn, X_FACE, [s, s + 0.5], seed=10 + i)
        _faces(conn, Y_GALLERY, [6.5, 7.0], seed=20)
        _faces(conn, X_FACE, [8.5], seed=30)
        _faces(conn, X_FACE, [9.8], bbox=TINY, seed=40)
        conn.execute("INSERT INTO segment_members (segment_id, member_id, source) VALUES (%s, %s, 'manual')",
                     (segs[4], y))
    rematch_members(db, ctx.config, [x, y], embedder=tiny_embedder)
    return {"segments": segs, "x": x, "y": y}


def test_a_corrected_tag_teaches_the_gallery_and_one_revert_restores_it(db, ctx, library):
    s1, s2, s3, s4, s5, s6 = library["segments"]
    first = segment_tags(db)
    assert first[s1] == first[s2] == first[s3] == {("Yuna", "auto")}          # X mismatched as the look-alike
    assert first[s4] == first[s6] == {("Yuna", "auto")} and first[s5] == {("Yuna", "manual")}

    update_segment(db, ctx.embedder, s1, actor="ed", expected_version=None, members=["Xena"])   # the correction
    corrected = segment_tags(db)
    assert corrected[s1] == {("Xena", "manual")}

    out = teach_gallery(ctx, s1, "Xena", actor="ed")
    assert len(out["faces"]) == 2 and out["refused"] == []
    assert _gallery(db, "Xena") == 3 and _gallery(db, "Yuna") == 1
    taught = segment_tags(db)
    assert taught[s2] == taught[s3] == {("Xena", "auto")}                      # the other mismatches follow
    assert taught[s4] == {("Yuna", "auto")}                                    # the look-alike's own faces stay
    assert taught[s5] == {("Yuna", "manual"), ("Xena", "auto")}                # manual tag never overwritten
    assert taught[s1] == {("Xena", "manual")}
    where = {(t["segment_id"], t["member"], t["change"]) for t in out["retagged"]["where"]}
    assert where == {(s2, "Xena", "added"), (s3, "Xena", "added"), (s5, "Xena", "added"), (s6, "Xena", "added"),
                     (s2, "Yuna", "removed"), (s3, "Yuna", "removed"), (s6, "Yuna", "removed")}
    assert out["retagged"]["videos"] == {"va": 7}
    assert out["retagged"]["text"].startswith("Added 2 face(s) to Xena's gallery. Re-matched the library: 4 tag(s) "
                                              "added, 3 removed in 1 video(s)")

    entry = list_history(db, segment_id=s1)[0]
    assert entry["id"] == out["history_id"] and entry["operation"] == "teach"
    assert entry["summary"] == f"taught Xena's gallery 2 faces from #{s1} (7 tag(s) changed)"

    rev = revert_history(db, ctx.embedder, out["history_id"], actor="ed", cfg=ctx.config)
    assert rev["operation"] == "revert"
    assert rev["summary"] == f"reverted history #{out['history_id']}: removed 2 faces from Xena's gallery " \
                             "(7 tag(s) changed)"
    assert _gallery(db, "Xena") == 1 and _gallery(db, "Yuna") == 1
    assert segment_tags(db) == corrected                                              # exactly the tags before teaching
    assert not any((ctx.config.faces_path / f"{i}.jpg").exists() for i in out["faces"])

    with pytest.raises(Exception, match="already"):
        revert_history(db, ctx.embedder, out["history_id"], actor="ed", cfg=ctx.config)
    with pytest.raises(Exception, match="Teach it again from the editor") as err:
        revert_history(db, ctx.embedder, rev["id"], actor="ed", cfg=ctx.config)
    assert err.value.status_code == 409
    correction = next(h for h in list_history(db, segment_id=s1) if h["operation"] == "update")
    revert_history(db, ctx.embedder, correction["id"], actor="ed", cfg=ctx.config)   # the history still reverts
    assert segment_tags(db) == first


def test_teaching_refuses_what_it_cannot_learn_from(db, ctx, library, make_config):
    s1, _, _, s4, _, s6 = library["segments"]
    with pytest.raises(Exception, match="Xena is not tagged on segment") as err:
        teach_gallery(ctx, s1, "Xena", actor="ed")
    assert err.value.status_code == 400
    update_segment(db, ctx.embedder, s4, actor="ed", expected_version=None, members=["Yuna"])
    with pytest.raises(Exception, match="no stored face in segment"):
        teach_gallery(ctx, s4, "Yuna", actor="ed")                             # its faces are Yuna's already
    update_segment(db, ctx.embedder, s6, actor="ed", expected_version=None, members=["Xena"])
    with pytest.raises(Exception, match="smaller than 40 px") as err:
        teach_gallery(ctx, s6, "Xena", actor="ed")
    assert "Nothing was saved" in str(err.value)
    update_segment(db, ctx.embedder, s1, actor="ed", expected_version=None, members=["Xena"])
    capped = type(ctx)(config=make_config(faces={"gallery_cap": 2}), db=db, embedder=ctx.embedder)
    with pytest.raises(Exception, match="cap of 2") as err:
        teach_gallery(capped, s1, "Xena", actor="ed")
    assert err.value.status_code == 409
    assert _gallery(db, "Xena") == 1 and not [h for h in list_history(db, video_id="va") if h["operation"] == "teach"]


def test_teaching_over_the_api(app_factory, config, db, library):
    s1 = library["segments"][0]
    with TestClient(app_factory(config)) as api:
        seg = api.get(f"/api/segments/{s1}").json()
        fixed = api.patch(f"/api/segments/{s1}", json={"version": seg["version"], "members": ["Xena"]})
        assert fixed.status_code == 200
        r = api.post(f"/api/segments/{s1}/teach", json={"member": "Xena"})
        assert r.status_code == 200, r.text
        assert r.json()["retagged"]["added"] == 4
        assert api.post(f"/api/segments/{s1}/teach", json={"member": "Nobody"}).status_code == 400
        rev = api.post(f"/api/history/{r.json()['history_id']}/revert")
        assert rev.status_code == 200, rev.text
        assert api.post(f"/api/history/{rev.json()['id']}/revert").status_code == 409
    assert _gallery(db, "Xena") == 1


def test_teaching_in_the_browser(browser, app_factory, config, db, library, serve, tmp_path):
    s1, s2 = library["segments"][:2]
    base = serve(app_factory(config))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/videos/va?segment={s1}")
    page.wait_for_selector("#editor[data-ready='1']")
    page.select_option("#d-add-member", "Xena")                     # correct the tag: Yuna → Xena, then save
    page.locator("#d-members .chip:has-text('Yuna') .chip-x").click()
    page.click("#d-save")
    page.wait_for_selector("#editor[data-busy='0'] #d-teach-member option[value='Xena']", state="attached")
    assert page.locator("#d-teach-member").input_value() == "Xena"
    page.click("#d-teach")
    page.wait_for_selector("#d-saved:has-text('Re-matched the library: 4 tag(s) added')")
    assert "Added 2 face(s) to Xena's gallery." in page.locator("#d-saved").inner_text()
    page.wait_for_selector("#history li:has-text('taught Xena')")
    assert not errors
    assert segment_tags(db)[s2] == {("Xena", "auto")}

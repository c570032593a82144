"""Members from faces with the real insightface pack in assets/: enrol from photos, tag, retag."""
from __future__ import annotations

import shutil

import pytest

from indexer.cli import main
from indexer.pipeline import video_id_for
from tests.helpers import asset


@pytest.fixture
def hamilton(tmp_path):
    src = asset("video/short_hamilton_clip.mp4")
    dst = tmp_path / "clips" / "short_hamilton_clip.mp4"
    dst.parent.mkdir()
    shutil.copy(src, dst)
    return dst


def _tags(db, video_id):
    with db.connection() as conn:
        return conn.execute(
            "SELECT s.id, s.start_s, s.end_s, m.name, sm.confidence, sm.source FROM segments s "
            "JOIN segment_members sm ON sm.segment_id = s.id JOIN members m ON m.id = sm.member_id "
            "WHERE s.video_id = %s ORDER BY s.start_s", (video_id,)).fetchall()


def test_enroll_then_index_tags_lin_manuel_miranda(write_config, db, face_pack_dir, hamilton, capsys):
    photo = asset("faces/enroll/lin_manuel_miranda/lin-manuel-miranda.png")
    other = asset("faces/enroll/obama/obama.jpg")
    cfg = write_config(models={"faces": str(face_pack_dir)}, faces={"threshold": 0.45, "margin": 0.05},
                       indexer={"segment_max_s": 4.0})
    assert main(["enroll", "Lin-Manuel Miranda", str(photo), "--alias", "린마누엘", "--alias", "LMM",
                 "--config", str(cfg)]) == 0
    assert main(["enroll", "Barack Obama", str(other), "--config", str(cfg)]) == 0
    assert "1 face(s) added" in capsys.readouterr().out
    with db.connection() as conn:
        faces = conn.execute("SELECT model, vector_dims(embedding) AS d FROM member_faces").fetchall()
        aliases = {r["normalized"] for r in conn.execute("SELECT normalized FROM member_aliases")}
    assert {(f["model"], f["d"]) for f in faces} == {("face_pack_small", 128)}
    assert {"lin-manuelmiranda", "린마누엘", "lmm", "barackobama"} <= aliases

    assert main(["index", str(hamilton), "--config", str(cfg), "--no-progress"]) == 0
    vid = video_id_for(hamilton)
    tags = _tags(db, vid)
    lin = [t for t in tags if t["name"] == "Lin-Manuel Miranda"]
    assert lin, f"Lin-Manuel Miranda not tagged; tags: {tags}"
    # SOURCES.md: he is recognisable on frames 90-210 (3-7 s)
    assert any(t["start_s"] < 7.0 and t["end_s"] > 3.0 for t in lin)
    assert all(t["confidence"] >= 0.45 and t["source"] == "auto" for t in lin)
    assert not [t for t in tags if t["name"] == "Barack Obama"]
    with db.connection() as conn:
        n = conn.execute("SELECT count(*) AS all_, count(member_id) AS matched FROM face_detections "
                         "WHERE video_id = %s", (vid,)).fetchone()
    assert n["all_"] > n["matched"] > 0, "unmatched faces must be kept too"
    # member names are searchable text of the segment
    with db.connection() as conn:
        found = conn.execute("SELECT count(*) AS n FROM segments WHERE video_id = %s AND search_text ILIKE %s",
                             (vid, "%Lin-Manuel%")).fetchone()["n"]
    assert found == len({t["id"] for t in lin})


def test_retag_after_enrolling_later_keeps_manual_tags(write_config, db, face_pack_dir, hamilton, capsys):
    cfg = write_config(models={"faces": str(face_pack_dir)}, indexer={"segment_max_s": 4.0})
    assert main(["index", str(hamilton), "--config", str(cfg), "--no-progress"]) == 0
    vid = video_id_for(hamilton)
    assert _tags(db, vid) == []
    # a manual tag an editor added before
    with db.connection() as conn:
        seg = conn.execute("SELECT id FROM segments WHERE video_id = %s ORDER BY start_s LIMIT 1", (vid,)).fetchone()
        mid = conn.execute("INSERT INTO members (name) VALUES ('Stage Manager') RETURNING id").fetchone()["id"]
        conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence, source) "
                     "VALUES (%s, %s, 1.0, 'manual')", (seg["id"], mid))
    photo = asset("faces/enroll/lin_manuel_miranda/lin-manuel-miranda.png")
    assert main(["enroll", "Lin-Manuel Miranda", str(photo), "--config", str(cfg)]) == 0
    assert main(["index", "--retag", "--config", str(cfg), "--no-progress"]) == 0
    assert "retagged 1 video" in capsys.readouterr().out
    tags = _tags(db, vid)
    assert any(t["name"] == "Lin-Manuel Miranda" and t["source"] == "auto" for t in tags)
    assert [t["name"] for t in tags if t["source"] == "manual"] == ["Stage Manager"]
    # retag is idempotent
    assert main(["index", "--retag", str(hamilton), "--config", str(cfg), "--no-progress"]) == 0
    assert len(_tags(db, vid)) == len(tags)


def test_enroll_photo_without_face_names_the_photo(write_config, db, face_pack_dir, tmp_path, capsys):
    from PIL import Image

    blank = tmp_path / "wall.jpg"
    Image.new("RGB", (200, 200), (120, 120, 120)).save(blank)
    cfg = write_config(models={"faces": str(face_pack_dir)})
    assert main(["enroll", "Nobody", str(blank), "--config", str(cfg)]) == 2
    assert "no face found in the photo" in capsys.readouterr().err
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM members").fetchone()["n"] == 0


def test_enroll_without_images_creates_member_and_aliases(write_config, db, capsys):
    cfg = write_config()
    assert main(["enroll", "Kang Haerin", "--alias", "해린", "--alias", "Hae Rin", "--config", str(cfg)]) == 0
    assert main(["enroll", "Kang Haerin", "--alias", "해린이", "--config", str(cfg)]) == 0
    with db.connection() as conn:
        rows = conn.execute("SELECT m.name, a.alias, a.normalized FROM members m JOIN member_aliases a "
                            "ON a.member_id = m.id ORDER BY a.normalized").fetchall()
    assert {r["name"] for r in rows} == {"Kang Haerin"}
    assert {r["normalized"] for r in rows} == {"kanghaerin", "해린", "haerin", "해린이"}

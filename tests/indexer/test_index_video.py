"""Indexing a real (synthetic) video end to end through the CLI: shots, captions, thumbnails, idempotency."""
from __future__ import annotations

import shutil

from PIL import Image

from indexer.cli import main
from indexer.pipeline import video_id_for
from tests.helpers import asset


def _segments(db, video_id):
    with db.connection() as conn:
        return conn.execute("SELECT * FROM segments WHERE video_id = %s ORDER BY start_s", (video_id,)).fetchall()


def _video(db, video_id):
    with db.connection() as conn:
        return conn.execute("SELECT * FROM videos WHERE id = %s", (video_id,)).fetchone()


def test_index_synthetic_video_with_tiny_blip2(write_config, db, synthetic_video, tiny_blip2_dir, capsys):
    cfg = write_config(models={"captioner": "eilev", "caption_model": str(tiny_blip2_dir)})
    assert main(["index", str(synthetic_video.parent), "--config", str(cfg), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 indexed" in out and "captions" in out and "decode" in out

    vid = video_id_for(synthetic_video)
    video = _video(db, vid)
    assert video["status"] == "indexed" and abs(video["duration_s"] - 12.0) < 0.1
    assert video["width"] == 320 and video["height"] == 240 and abs(video["fps"] - 25) < 0.01
    cuts = video["shot_boundaries"]
    assert len(cuts) == 2 and abs(cuts[0] - 4.0) < 0.1 and abs(cuts[1] - 7.0) < 0.1, cuts

    segs = _segments(db, vid)
    assert [(round(s["start_s"]), round(s["end_s"])) for s in segs] == [(0, 4), (4, 7), (7, 12)]
    for s in segs:
        assert s["caption_auto"], "the tiny BLIP-2 must produce some caption text"
        assert s["embedding"] is not None and s["search_text"]
        img = Image.open(s["thumbnail"])
        assert img.format == "JPEG" and img.width == 320
        assert s["thumbnail"].endswith(f"{vid}/{s['id']}.jpg")
    # The red scene's thumbnail is red: frames are picked from the right segment.
    r, g, b = Image.open(segs[1]["thumbnail"]).convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert r > 150 and g < 80 and b < 80

    # Second run: skipped, no duplicate rows.
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert [s["id"] for s in _segments(db, vid)] == [s["id"] for s in segs]

    # --force re-indexes: same shape, new rows, old thumbnails removed.
    assert main(["index", str(synthetic_video), "--force", "--config", str(cfg), "--no-progress"]) == 0
    again = _segments(db, vid)
    assert len(again) == 3 and {s["id"] for s in again}.isdisjoint(s["id"] for s in segs)
    assert not any(shutil.os.path.exists(s["thumbnail"]) for s in segs)


def test_corrupt_file_fails_alone(write_config, db, synthetic_video, capsys):
    bad = synthetic_video.parent / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    cfg = write_config(indexer={"segment_max_s": 3.0})
    assert main(["index", str(synthetic_video.parent), "--config", str(cfg), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "1 indexed" in out and "1 failed" in out and "broken.mp4" in out
    failed = _video(db, video_id_for(bad))
    assert failed["status"] == "failed" and "not a readable video" in failed["error"]
    assert _segments(db, video_id_for(bad)) == []
    good = _segments(db, video_id_for(synthetic_video))
    assert len(good) == 5 and max(s["end_s"] - s["start_s"] for s in good) <= 3.0  # capped at segment_max_s
    # status shows the failure with its reason
    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "1 failed" in out and "1 indexed" in out and "broken.mp4" in out


def test_reindex_refuses_to_drop_manual_edits(write_config, db, synthetic_video, capsys):
    cfg = write_config()
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 0
    vid = video_id_for(synthetic_video)
    seg = _segments(db, vid)[0]
    with db.connection() as conn:
        conn.execute("UPDATE segments SET caption_edited = 'fixed by hand' WHERE id = %s", (seg["id"],))
    assert main(["index", str(synthetic_video), "--force", "--config", str(cfg), "--no-progress"]) == 0  # kept
    out = capsys.readouterr().out
    assert "kept (edited)" in out and "has edits" in out and "--discard-edits" in out
    assert _segments(db, vid)[0]["caption_edited"] == "fixed by hand"
    assert _video(db, vid)["status"] == "indexed"
    assert main(["index", str(synthetic_video), "--force", "--discard-edits", "--config", str(cfg),
                 "--no-progress"]) == 0
    assert all(s["caption_edited"] is None for s in _segments(db, vid))


def test_subtitles_beside_the_video_become_transcripts(write_config, db, synthetic_video):
    srt = asset("subtitled/popeye/popeye_p1.eng.srt")
    shutil.copy(srt, synthetic_video.with_suffix(".eng.srt"))
    cfg = write_config()
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 0
    segs = _segments(db, video_id_for(synthetic_video))
    assert segs[0]["transcript"] == "[barking and roaring]"        # cue 0-4 s
    assert segs[1]["transcript"] is None                           # 4-7 s: no cue
    assert segs[2]["transcript"] is None                           # 7-12 s: no cue (next starts at 13 s)
    with db.connection() as conn:
        hit = conn.execute("SELECT count(*) AS n FROM segments WHERE tsv @@ to_tsquery('simple', 'barking')").fetchone()
    assert hit["n"] == 1


def test_library_dir_refuses_files_outside(write_config, db, synthetic_video, tmp_path, capsys):
    lib = tmp_path / "elsewhere"
    lib.mkdir()
    cfg = write_config(library_dir=str(lib))
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 1
    assert "outside library_dir" in capsys.readouterr().out

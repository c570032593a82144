"""The library as a new user meets it (issue 13): ``status`` lists every video with its state, edits and failure
reason; ``remove`` takes a video out (refusing an edited one unless forced, never touching the media file);
``import-legacy`` finds the video id in the file; the index summary names what it did with each file, and an
edited video that ``--force`` would have replaced is kept, not failed."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from core.errors import NotFound
from edits.operations import delete_segment, update_segment
from edits.videos import VideoHasEdits, remove_video
from indexer.cli import main, video_table
from indexer.legacy import import_legacy
from indexer.pipeline import video_id_for
from tests.helpers import asset

LEGACY = "legacy/combined_metadata_excerpt.json"


def _index(cfg, *paths, flags=()) -> int:
    return main(["index", *map(str, paths), *flags, "--config", str(cfg), "--no-progress"])


def _segments(db, video_id: str) -> list[dict]:
    with db.connection() as conn:
        return conn.execute("SELECT * FROM segments WHERE video_id = %s ORDER BY start_s", (video_id,)).fetchall()


def _count(db, sql: str, *params) -> int:
    with db.connection() as conn:
        return conn.execute(sql, params).fetchone()["n"]


def _edit_caption(db, embedder, video_id: str, text: str = "fixed by hand") -> None:
    update_segment(db, embedder, _segments(db, video_id)[0]["id"], actor="test", expected_version=None, caption=text)


def test_status_lists_each_video_with_state_edits_and_failure_reason(write_config, db, synthetic_video,
                                                                     tiny_embedder, capsys):
    bad = synthetic_video.parent / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    cfg = write_config()
    assert _index(cfg, synthetic_video.parent) == 1
    good_id, bad_id = video_id_for(synthetic_video), video_id_for(bad)
    _edit_caption(db, tiny_embedder, good_id)
    capsys.readouterr()

    assert main(["status", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "videos: 1 failed, 1 indexed" in out and "segments: 3" in out      # the counts come first
    assert out.index("segments: 3") < out.index("ID ")
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith((good_id, bad_id))}
    assert rows[good_id][1:5] == ["three_scenes", "indexed", "3", "yes"]
    assert rows[bad_id][1:5] == ["broken", "failed", "0", "no"]
    assert "broken.mp4: not a readable video" in " ".join(rows[bad_id])

    assert main(["status", "--json", "--config", str(cfg)]) == 0
    report = json.loads(capsys.readouterr().out)
    videos = {v["id"]: v for v in report["videos"]}
    assert videos[good_id]["edited"] and videos[good_id]["edits"] == ["1 history entry", "1 edited caption"]
    assert videos[bad_id]["state"] == "failed" and not videos[bad_id]["edited"]
    assert "not a readable video" in videos[bad_id]["error"] and videos[bad_id]["path"] == str(bad.resolve())
    assert report["videos_by_state"] == {"failed": 1, "indexed": 1} and report["segments"] == 3


def test_status_table_folds_a_long_reason_to_three_lines():
    reason = "ffmpeg said: " + " ".join(f"word{i}" for i in range(200))
    table = video_table([{"id": "v-1", "title": "A title", "state": "failed", "segments": 0, "edited": False,
                          "path": None, "error": reason}], width=100)
    lines = table.splitlines()
    assert lines[0].split() == ["ID", "TITLE", "STATE", "SEGMENTS", "EDITED", "REASON"]
    assert len(lines) == 4 and lines[-1].endswith("...") and all(len(line) <= 100 for line in lines)
    assert lines[1].startswith("v-1") and lines[2].startswith(" ")         # folded under the REASON column


def test_remove_refuses_an_edited_video_then_removes_it_with_force(write_config, db, data_dir, synthetic_video,
                                                                    capsys):
    cfg = write_config()
    assert _index(cfg, synthetic_video) == 0
    vid = video_id_for(synthetic_video)
    segs = _segments(db, vid)
    folder = data_dir / "thumbnails" / vid
    assert len(segs) == 3 and all(os.path.exists(s["thumbnail"]) for s in segs)
    delete_segment(db, segs[0]["id"], actor="test", expected_version=None)   # an edit: history keeps its thumbnail
    copy = data_dir / "proxies" / f"{vid}.mp4"                              # as if it had needed a playable copy
    copy.parent.mkdir()
    copy.write_bytes(b"mp4")
    with db.connection() as conn:                                           # and a stored face, to see it removed
        conn.execute("INSERT INTO face_detections (video_id, t_s, bbox, det_score, model, embedding) "
                     "VALUES (%s, 1, '{0,0,10,10}', 0.9, 'test', '[1,0,0]')", (vid,))
        conn.execute("UPDATE videos SET proxy_path = %s WHERE id = %s", (str(copy), vid))
    capsys.readouterr()

    assert main(["remove", vid, "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert vid in err and "1 history entry" in err and f"remove {vid} --force" in err
    assert len(_segments(db, vid)) == 2 and os.path.exists(segs[0]["thumbnail"])       # nothing was removed

    assert main(["remove", vid, "--force", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"removed {vid} (three_scenes): 2 segments" in out and "1 face detections, 1 history entries" in out
    assert "3 thumbnail files, its playable copy" in out
    assert f"the media file {synthetic_video.resolve()} is kept" in out
    for table in ("videos WHERE id", "segments WHERE video_id", "segment_history WHERE video_id",
                  "face_detections WHERE video_id"):
        assert _count(db, f"SELECT count(*) AS n FROM {table} = %s", vid) == 0, table
    assert _count(db, "SELECT count(*) AS n FROM segment_members") == 0
    assert not folder.exists() and not any(os.path.exists(s["thumbnail"]) for s in segs) and not copy.exists()
    assert synthetic_video.is_file()                                        # the media file is the user's

    assert main(["remove", vid, "--config", str(cfg)]) == 2                 # gone now: an unknown id
    err = capsys.readouterr().err
    assert f"Video {vid!r} does not exist" in err and "indexer status" in err


def test_remove_video_is_one_rule_for_every_door(make_config, db, tiny_embedder):
    cfg = make_config()
    import_legacy(db, tiny_embedder, asset(LEGACY), "plain")
    import_legacy(db, tiny_embedder, asset(LEGACY), "edited")
    _edit_caption(db, tiny_embedder, "edited")

    with pytest.raises(NotFound) as missing:
        remove_video(db, cfg, "no-such-video")
    assert missing.value.status_code == 404
    with pytest.raises(VideoHasEdits) as refused:
        remove_video(db, cfg, "edited")
    assert refused.value.status_code == 409 and refused.value.edits == ["1 history entry", "1 edited caption"]
    assert len(_segments(db, "edited")) > 0

    plain = remove_video(db, cfg, "plain")                                  # not edited: no force needed
    assert plain.segments > 0 and plain.tags > 0 and plain.media_file is None and plain.discarded_edits == []
    forced = remove_video(db, cfg, "edited", force=True)
    assert forced.discarded_edits == ["1 history entry", "1 edited caption"] and forced.history == 1
    assert _count(db, "SELECT count(*) AS n FROM videos") == 0
    assert _count(db, "SELECT count(*) AS n FROM members") > 0              # members are the library's, kept


def test_import_legacy_takes_the_video_id_from_the_rows(write_config, db, tmp_path, capsys):
    cfg = write_config()
    src = asset(LEGACY)
    assert main(["import-legacy", str(src), "--config", str(cfg)]) == 0
    assert "of video FuJ1RiLoq-M" in capsys.readouterr().out
    assert _count(db, "SELECT count(*) AS n FROM videos WHERE id = 'FuJ1RiLoq-M'") == 1

    rows = json.loads(src.read_text(encoding="utf-8"))
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps(rows[:5] + [{**r, "video_id": "other-video"} for r in rows[5:10]]))
    assert main(["import-legacy", str(mixed), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "FuJ1RiLoq-M, other-video" in err and "--video-id" in err
    assert main(["import-legacy", str(mixed), "--video-id", "other-video", "--config", str(cfg)]) == 0
    assert _segments(db, "other-video")[0]["start_s"] == rows[5]["timestamp"]

    anonymous = tmp_path / "anonymous.json"
    anonymous.write_text(json.dumps([{k: v for k, v in r.items() if k != "video_id"} for r in rows[:5]]))
    assert main(["import-legacy", str(anonymous), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "5 of the 5 rows" in err and "no video_id" in err and "--video-id" in err
    assert main(["import-legacy", str(anonymous), "--video-id", "named", "--config", str(cfg)]) == 0

    unusable = tmp_path / "unusable.json"                  # an id from a file becomes part of URLs
    unusable.write_text(json.dumps([{**r, "video_id": "../a/b"} for r in rows[:5]]))
    assert main(["import-legacy", str(unusable), "--config", str(cfg)]) == 2
    assert "cannot name a video" in capsys.readouterr().err


def test_index_summary_names_the_subtitle_file_and_the_skipped_files(write_config, db, synthetic_video, capsys):
    shutil.copy(asset("subtitled/popeye/popeye_p1.eng.srt"), synthetic_video.with_suffix(".eng.srt"))
    cfg = write_config()
    assert _index(cfg, synthetic_video.parent) == 0
    out = capsys.readouterr().out
    assert "1 indexed" in out and f"subtitles: {synthetic_video} <- three_scenes.eng.srt" in out

    assert _index(cfg, synthetic_video.parent) == 0
    out = capsys.readouterr().out
    assert "0 indexed, 1 skipped, 0 failed" in out
    assert f"skipped (unchanged since last index): {synthetic_video}" in out
    assert "subtitles:" not in out and "stage" not in out                   # nothing ran


def test_force_on_an_edited_video_keeps_it_and_is_no_failure(write_config, db, synthetic_video, tiny_embedder,
                                                             capsys):
    cfg = write_config()
    assert _index(cfg, synthetic_video) == 0
    vid = video_id_for(synthetic_video)
    _edit_caption(db, tiny_embedder, vid)
    capsys.readouterr()

    assert _index(cfg, synthetic_video, flags=["--force"]) == 0
    out = capsys.readouterr().out
    assert "0 indexed, 1 skipped, 0 failed" in out and "FAILED" not in out
    assert (f"kept (edited): {synthetic_video}: video {vid} has edits (1 history entry, 1 edited caption); "
            "use --discard-edits to replace it") in out
    assert _segments(db, vid)[0]["caption_edited"] == "fixed by hand"
    assert _count(db, "SELECT count(*) AS n FROM videos WHERE status = 'indexed'") == 1

    st = synthetic_video.stat()                                             # a changed file: kept too
    os.utime(synthetic_video, (st.st_atime, st.st_mtime + 10))
    assert _index(cfg, synthetic_video) == 0
    assert "use --force --discard-edits to replace it" in capsys.readouterr().out

"""Media that plays: at index time a file browsers cannot play gets an H.264/AAC MP4 copy under data_dir/proxies.

- the rule (container, codecs, pixels) read from ffmpeg's listing, conservative: in doubt, a copy;
- an MKV/HEVC source indexed through the CLI gets a capped, fast-start copy recorded on its row, reused by a
  re-index of the unchanged source and remade when the source changes; a playable source gets none;
- a copy that cannot be made does not fail the video: its segments are indexed and the reason is kept, and the
  media route answers it;
- a stop signal during the encode leaves no temporary file.
"""
from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from db.videos import playable_file, proxy_file
from indexer import proxy, shutdown
from indexer.cli import main
from indexer.pipeline import video_id_for
from tests.indexer.unplayable import make_hevc_mkv

POPEYE = """Input #0, matroska,webm, from 'popeye_p1.mkv':
  Duration: 00:01:03.05, start: 0.000000, bitrate: 43 kb/s
  Stream #0:0: Video: hevc (Main), yuv420p(tv, smpte170m/smpte170m/bt709), 720x478 [SAR 8:9 DAR 320:239], 29.97 fps
  Stream #0:1(eng): Subtitle: dvd_subtitle (dvdsub), 720x480
"""
MP4 = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'clip.mp4':
  Duration: 00:00:10.02, start: 0.000000, bitrate: 525 kb/s
  Stream #0:0[0x1](und): Video: {video} (avc1 / 0x31637661), {pix}(tv, bt709, progressive), 640x360, 29.97 fps
  Stream #0:1[0x2](eng): Audio: {audio} (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 95 kb/s
  Stream #0:2[0x3]: Video: mjpeg (Baseline), yuvj420p(pc), 300x300, 90k tbn (attached pic)
"""
WEBM = """Input #0, matroska,webm, from 'x.webm':
  Duration: 00:00:05.00, start: 0.000000, bitrate: 300 kb/s
  Stream #0:0: Video: vp9 (Profile 0), yuv420p(tv), 640x360, 25 fps
  Stream #0:1: Audio: opus, 48000 Hz, stereo, fltp
"""


def _reason(listing: str, suffix: str) -> str | None:
    return proxy.unplayable_reason(proxy.parse_media(listing, suffix))


def test_the_rule_lets_through_only_what_browsers_play():
    assert _reason(MP4.format(video="h264 (High)", pix="yuv420p", audio="aac (LC)"), ".mp4") is None
    assert _reason(MP4.format(video="h264 (High)", pix="yuv420p", audio="mp3 (mp3float)"), ".M4V") is None
    assert _reason(WEBM, ".webm") is None
    assert _reason(POPEYE, ".mkv") == "the .mkv container, HEVC video"
    assert _reason(WEBM, ".mkv") == "the .mkv container"                  # VP9 in .mkv: the container alone
    assert _reason(MP4.format(video="h264 (High)", pix="yuv420p", audio="aac"), ".mov") == "the .mov container"
    assert _reason(MP4.format(video="hevc (Main)", pix="yuv420p", audio="aac"), ".mp4") == "HEVC video"
    assert _reason(MP4.format(video="h264 (High 10)", pix="yuv420p10le", audio="aac"), ".mp4") == "yuv420p10le pixels"
    assert _reason(MP4.format(video="h264 (High)", pix="yuv420p", audio="ac3"), ".mp4") == "AC3 audio"
    assert _reason("Input #0, avi, from 'a.avi':\n  Stream #0:0: Video: mpeg4 (Simple Profile), yuv420p, 320x240\n",
                   ".avi") == "the .avi container, MPEG4 video"
    assert proxy.unplayable_reason(None) is not None                      # a listing we cannot read: a copy


def _video(db, video_id):
    with db.connection() as conn:
        return conn.execute("SELECT * FROM videos WHERE id = %s", (video_id,)).fetchone()


def _segments(db, video_id):
    with db.connection() as conn:
        return conn.execute("SELECT * FROM segments WHERE video_id = %s", (video_id,)).fetchall()


@pytest.fixture
def hevc_video(tmp_path) -> Path:
    return make_hevc_mkv(tmp_path / "library" / "stage_hevc.mkv")


def test_an_mkv_hevc_source_gets_a_playable_copy_reused_until_it_changes(write_config, make_config, db, data_dir,
                                                                         hevc_video, capsys):
    cfg_file = write_config(indexer={"proxy_max_height": 144})
    assert main(["index", str(hevc_video), "--config", str(cfg_file), "--no-progress"]) == 0
    assert "proxy" in capsys.readouterr().out                             # the stage's time is in the summary
    vid = video_id_for(hevc_video)
    row = _video(db, vid)
    copy = data_dir / "proxies" / f"{vid}.mp4"
    assert row["status"] == "indexed" and row["proxy_path"] == str(copy) and row["proxy_error"] is None
    assert _segments(db, vid)
    info = proxy.read_media(copy)
    assert (info.demuxer, info.video, info.audio) == (proxy.MP4_DEMUXER, [("h264", "yuv420p")], ["aac"])
    assert proxy.unplayable_reason(info) is None and abs(info.duration_s - 3.0) < 0.2
    assert "192x144" in _listing(copy)                                    # capped at proxy_max_height, aspect kept
    assert _moov_before_mdat(copy)                                        # +faststart
    assert not list((data_dir / "proxies").glob("*.part"))
    cfg = make_config()
    with db.connection() as conn:
        assert playable_file(conn, cfg, vid) == copy.resolve() == proxy_file(conn, cfg, vid)

    made = copy.stat().st_mtime_ns                # unchanged source, --force: the copy is reused
    assert main(["index", str(hevc_video), "--force", "--config", str(cfg_file), "--no-progress"]) == 0
    assert copy.stat().st_mtime_ns == made and _video(db, vid)["proxy_path"] == str(copy)

    make_hevc_mkv(hevc_video, seconds=2.0)        # a changed source: a new copy
    assert main(["index", str(hevc_video), "--config", str(cfg_file), "--no-progress"]) == 0
    assert copy.stat().st_mtime_ns != made and abs(proxy.read_media(copy).duration_s - 2.0) < 0.2


def test_a_playable_source_gets_no_copy(write_config, make_config, db, data_dir, synthetic_video):
    assert main(["index", str(synthetic_video), "--config", str(write_config()), "--no-progress"]) == 0
    vid = video_id_for(synthetic_video)
    row = _video(db, vid)
    assert row["proxy_path"] is None and row["proxy_error"] is None
    assert not (data_dir / "proxies").exists()
    with db.connection() as conn:
        assert playable_file(conn, make_config(), vid) == synthetic_video.resolve()


def test_a_copy_that_cannot_be_made_does_not_fail_the_video(write_config, app_factory, make_config, db, data_dir,
                                                            hevc_video, capsys, caplog):
    (data_dir / "proxies").write_text("a file where the folder should be")   # the copy cannot be written
    assert main(["index", str(hevc_video), "--config", str(write_config()), "--no-progress"]) == 0
    assert "1 indexed" in capsys.readouterr().out
    assert "making a playable copy failed" in caplog.text and "re-index it with --force" in caplog.text
    vid = video_id_for(hevc_video)
    row = _video(db, vid)
    assert row["status"] == "indexed" and _segments(db, vid) and row["proxy_path"] is None
    assert "HEVC video" in row["proxy_error"] and "making a playable copy failed" in row["proxy_error"]

    from fastapi.testclient import TestClient

    with TestClient(app_factory(make_config())) as client:
        r = client.get(f"/media/videos/{vid}")
    assert r.status_code == 404
    assert "cannot be played" in r.json()["detail"] and "index --force" in r.json()["detail"]


def test_copies_turned_off_say_so(write_config, db, hevc_video):
    assert main(["index", str(hevc_video), "--config", str(write_config(indexer={"proxies": False})),
                 "--no-progress"]) == 0
    row = _video(db, video_id_for(hevc_video))
    assert row["proxy_path"] is None and "indexer.proxies" in row["proxy_error"]


def test_a_stop_during_the_encode_ends_it_and_leaves_no_temporary_file(make_config, hevc_video, monkeypatch):
    cfg = make_config()
    target = proxy.proxy_target(cfg, "v")
    slow = [proxy.ffmpeg_exe(), "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=d=60:s=320x240:r=25",
            "-c:v", "libx264", "-f", "mp4"]                                # a minute in real time: still busy
    monkeypatch.setattr(proxy, "encode_command", lambda cfg, source, out, stamp: [*slow, str(out)])
    stop = threading.Timer(1.0, lambda: monkeypatch.setattr(shutdown, "_requested", [signal.SIGTERM]))
    stop.start()
    t0 = time.monotonic()
    with pytest.raises(shutdown.Stopped):
        proxy.make_proxy(cfg, hevc_video, target, "stamp", 3.0)
    assert time.monotonic() - t0 < 5 and list(target.parent.iterdir()) == []


def _listing(path: Path) -> str:
    import subprocess

    return subprocess.run([proxy.ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                          text=True).stderr


def _moov_before_mdat(path: Path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")

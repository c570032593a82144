"""The timeline's media over HTTP, made by real ffmpeg from small generated videos: the audio waveform (follows the
sound, kept once made, made again when the file changes), the filmstrip sprite, and segments joined into one MP4.
"""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from fastapi.testclient import TestClient

from core.ffmpeg import ffmpeg_exe
from edits import overview
from tests.factories import add_segment, add_video

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def tone_video(tmp_path_factory):
    """10 s, 160x90, a keyframe every second; a 440 Hz tone for 5 s, then silence."""
    out = tmp_path_factory.mktemp("overview") / "tone10s.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=10:size=160x90:rate=25", "-f", "lavfi", "-i",
                    "aevalsrc=exprs='if(lt(t,5),0.5*sin(2*PI*440*t),0)':s=44100:d=10",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", str(out)], check=True, timeout=60)
    return out


@pytest.fixture
def library(tmp_path, tone_video, test_video):
    """Copies of the videos a test may change: ``tone.mp4`` (with sound) and ``mute.mp4`` (no audio track)."""
    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(tone_video, folder / "tone.mp4")
    shutil.copy(test_video, folder / "mute.mp4")
    return folder


@pytest.fixture
def videos(db, tiny_embedder, library):
    """Video "tone" with segments 0-2, 4-5.5, 7-9; "mute" (no audio) with one; "nofile" without media."""
    with db.connection() as conn:
        add_video(conn, "tone", title="Tone test", path=str(library / "tone.mp4"), duration_s=10.0)
        add_video(conn, "mute", title="Mute", path=str(library / "mute.mp4"), duration_s=10.0)
        add_video(conn, "nofile", title="No file", path=None, duration_s=30.0)
        return {"tone": [add_segment(conn, "tone", a, b, tiny_embedder, caption=f"part {a}")
                         for a, b in ((0.0, 2.0), (4.0, 5.5), (7.0, 9.0))],
                "mute": [add_segment(conn, "mute", 0.0, 3.0, tiny_embedder, caption="mute part")]}


@pytest.fixture
def api(app_factory, config, videos):
    with TestClient(app_factory(config)) as c:
        yield c


def _cache(config, kind):
    return sorted(p for p in config.overview_path.glob(f"*.{kind}-*") if ".part" not in p.name)


def test_the_waveform_follows_the_sound_and_is_made_once(api, config):
    r = api.get("/api/videos/tone/waveform.json")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("private")
    wave = r.json()
    assert wave["step"] == 0.05 and wave["reason"] is None and abs(wave["duration"] - 10.0) < 0.1
    peaks = wave["peaks"]
    assert abs(len(peaks) - 200) <= 2 and all(0 <= p <= 255 for p in peaks)
    assert min(peaks[2:98]) > 100 and max(peaks[:100]) == 255      # the tone (AAC adds a louder click or two)
    assert max(peaks[104:]) <= 3                                    # the silence after it
    [made] = _cache(config, "waveform")
    stamp = made.stat().st_mtime_ns
    again = api.get("/api/videos/tone/waveform.json")
    assert again.json() == wave and _cache(config, "waveform") == [made] and made.stat().st_mtime_ns == stamp


def test_requests_at_once_measure_once(config, library, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    calls = []
    measure = overview._audio_peaks
    monkeypatch.setattr(overview, "_audio_peaks", lambda *a: calls.append(a) or measure(*a))
    with ThreadPoolExecutor(4) as pool:
        made = set(pool.map(lambda _: overview.waveform_file(config, "tone", library / "tone.mp4"), range(4)))
    assert len(calls) == 1 and len(made) == 1 and _cache(config, "waveform") == sorted(made)
    assert not [p for p in config.overview_path.iterdir() if ".part" in p.name]


def test_a_changed_file_is_measured_again(api, config, library):
    assert api.get("/api/videos/tone/waveform.json").json()["reason"] is None
    [before] = _cache(config, "waveform")
    shutil.copy(library / "mute.mp4", library / "tone.mp4")        # the same video id, now without sound
    wave = api.get("/api/videos/tone/waveform.json").json()
    assert wave == {"step": 0.05, "duration": 10.0, "peaks": [], "reason": "the video has no audio track"}
    [after] = _cache(config, "waveform")
    assert after != before and not before.exists()


def test_no_audio_no_media_and_unknown_videos(api):
    assert api.get("/api/videos/mute/waveform.json").json()["reason"] == "the video has no audio track"
    for kind in ("waveform", "filmstrip"):
        r = api.get(f"/api/videos/nofile/{kind}.json")
        assert r.status_code == 200 and "has no file recorded" in r.json()["reason"]
        assert api.get(f"/api/videos/ghost/{kind}.json").status_code == 404
    assert api.get("/api/videos/nofile/waveform.json").json()["peaks"] == []
    assert api.get("/api/videos/nofile/filmstrip.json").json()["url"] is None
    missing = api.get("/api/videos/nofile/filmstrip.jpg")
    assert missing.status_code == 404 and "has no file recorded" in missing.json()["detail"]


@pytest.mark.parametrize("decode", ["all frames", "keyframes"])
def test_the_filmstrip_is_one_jpeg_of_tiles(api, config, monkeypatch, decode):
    from PIL import Image

    if decode == "keyframes":                                       # as for a long video: seek, never decode it all
        monkeypatch.setattr(overview, "DECODE_ALL_PIXELS", 0)
    strip = api.get("/api/videos/tone/filmstrip.json").json()
    assert strip["reason"] is None and strip["tile_height"] == 54 and strip["tile_width"] == 96   # 16:9 at 54 px
    assert strip["times"] == [1.0, 3.0, 5.0, 7.0, 9.0]               # 10 s: 5 tiles, each at the middle of its 2 s
    r = api.get(strip["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "JPEG" and image.size == (5 * 96, 54)
    tiles = [image.crop((i * 96, 0, (i + 1) * 96, 54)).convert("L").tobytes() for i in range(5)]
    assert len(set(tiles)) == 5 and all(max(t) > 100 for t in tiles)    # five different pictures, none black
    assert len(_cache(config, "filmstrip")) == 2                     # the sprite and its description


def test_segments_join_into_one_mp4_in_time_order(api, videos, tmp_path):
    s1, _, s3 = videos["tone"]
    r = api.get(f"/api/videos/tone/clip.mp4?segments={s3},{s1}")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert 'filename="Tone_test_2_segments_0.00-9.00.mp4"' in r.headers["content-disposition"]
    out = tmp_path / "joined.mp4"
    out.write_bytes(r.content)
    info = overview.probe(out)
    assert abs(info.duration_s - 4.0) < 0.2 and info.has_audio and (info.width, info.height) == (160, 90)
    assert api.get(f"/api/videos/tone/clip.mp4?segments={s1},{s3}").content == r.content   # kept, not cut again


@pytest.mark.parametrize("query, status, fragment", [
    ("", 400, "must list segment ids"),
    ("?segments=1,x", 400, "must list segment ids"),
    ("?segments=1,,2", 400, "must list segment ids"),
    ("?segments=99999999999999999999", 400, "must list segment ids"),
    ("?segments=" + ",".join(str(i) for i in range(1, 52)), 400, "at most 50"),
    ("?segments=987654", 404, "987654 does not exist"),
    ("?segments={mute}", 400, "belongs to another video than 'tone'"),
    ("?segments={s1},{mute}", 400, "belongs to another video than 'tone'"),
])
def test_joined_clips_refuse_what_they_cannot_do(api, videos, query, status, fragment):
    r = api.get("/api/videos/tone/clip.mp4" + query.format(s1=videos["tone"][0], mute=videos["mute"][0]))
    assert r.status_code == status and fragment in r.json()["detail"]


def test_an_unknown_video_has_no_joined_clip(api, videos):
    assert api.get(f"/api/videos/ghost/clip.mp4?segments={videos['tone'][0]}").status_code == 404


def test_everything_needs_credentials_when_a_token_is_set(app_factory, make_config, videos):
    cfg = make_config(auth={"token": TOKEN})
    urls = ["/api/videos/tone/waveform.json", "/api/videos/tone/filmstrip.json", "/api/videos/tone/filmstrip.jpg",
            f"/api/videos/tone/clip.mp4?segments={videos['tone'][0]}"]
    with TestClient(app_factory(cfg)) as c:
        for url in urls:
            assert c.get(url).status_code == 401, url
        assert c.get(urls[0], headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_removing_a_video_removes_its_timeline_files(api, config):
    assert api.get("/api/videos/tone/waveform.json").status_code == 200
    assert api.get("/api/videos/tone/filmstrip.json").json()["url"]
    assert _cache(config, "waveform") and _cache(config, "filmstrip")
    assert api.delete("/api/videos/tone?force=true").status_code == 200
    assert _cache(config, "waveform") == [] and _cache(config, "filmstrip") == []


def test_a_span_of_the_video_downloads_as_an_mp4(api, videos, tmp_path):
    r = api.get("/api/videos/tone/clip.mp4?start=1&end=3.5")          # a highlight: times, not segments
    assert r.status_code == 200 and 'filename="Tone_test_1.00-3.50.mp4"' in r.headers["content-disposition"]
    out = tmp_path / "span.mp4"
    out.write_bytes(r.content)
    assert abs(overview.probe(out).duration_s - 2.5) < 0.2
    for query, fragment in (("?start=3&end=1", "not a span of this video"), ("?start=0&end=60", "not a span"),
                            ("?start=1", "both"), (f"?start=1&end=2&segments={videos['tone'][0]}", "not a mix")):
        r = api.get("/api/videos/tone/clip.mp4" + query)
        assert r.status_code == 400 and fragment in r.json()["detail"], query

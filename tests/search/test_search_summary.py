"""A video's key moments: map-reduce through Gemini (the real google-genai client against the local fake), validated,
cached until the segments change; the offline ranking without Gemini or when it fails; the member filter in both;
the audio term measured on a real video with sound."""
from __future__ import annotations

import logging
import subprocess

import pytest

from core.config import Config
from core.context import AppContext
from core.errors import InvalidRequest, NotFound
from core.ffmpeg import ffmpeg_exe
from core.gemini import translator_from_config
from edits.operations import update_segment
from search.summary import TimelineRow, key_moments, timeline_parts
from tests.factories import add_member, add_segment, add_video

BASE = "people walk in the park"
# The fake ranks by caption length: these three stand out, longest first.
SPECIAL = {7: "a girl dances on a big stage under bright red lights",
           33: "the crowd cheers and sings along with the band",
           52: "a man plays the guitar in the city at night"}


@pytest.fixture
def gemini_at(db, minilm_embedder, make_config, fake_gemini):
    """gemini_at(**gemini options) -> a context whose Gemini is the fake."""
    def make(**options) -> AppContext:
        cfg = make_config(gemini={"api_key": "test-key", "base_url": fake_gemini.url, "timeout_s": 1.0,
                                  "moments_timeout_s": 2.0, **options})
        return AppContext(config=cfg, db=db, embedder=minilm_embedder, translator=translator_from_config(cfg))
    return make


@pytest.fixture
def long_video(db, minilm_embedder):
    """Video "long": 60 segments of 5 s, three of them with longer captions (SPECIAL); 해린 on every tenth."""
    with db.connection() as conn:
        add_video(conn, "long", title="Concert day", duration_s=300.0)
        add_member(conn, "해린", ["Haerin"])
        return [add_segment(conn, "long", i * 5.0, i * 5.0 + 5.0, minilm_embedder, caption=SPECIAL.get(i, BASE),
                            members=["해린"] if i % 10 == 3 else []) for i in range(60)]


@pytest.fixture
def stage_video(db, minilm_embedder):
    """Video "stage" (no file): a dance performance, one unrelated cat, members on some segments."""
    with db.connection() as conn:
        add_video(conn, "stage", title="Stage", duration_s=40.0)
        add_member(conn, "Haerin", ["해린"])
        add_member(conn, "Minji", ["민지"])
        rows = [(0, 5, "a girl group dances on a concert stage", ["Haerin", "Minji"]),
                (5, 10, "dancers perform choreography on stage under lights", ["Minji"]),
                (10, 15, "a cat sleeps on a sunny windowsill", []),
                (15, 20, "the dancers bow to the cheering crowd at the concert", ["Haerin"]),
                (20, 25, None, [])]
        return [add_segment(conn, "stage", a, b, minilm_embedder, caption=c, members=m) for a, b, c, m in rows]


def _tasks(fake) -> list[str]:
    return [r["task"] for r in fake.requests]


def test_gemini_maps_the_parts_reduces_validates_and_caches(gemini_at, long_video, fake_gemini, caplog):
    ctx = gemini_at(context_chars=1000)
    caplog.set_level(logging.WARNING, logger="search.summary")
    out = key_moments(ctx, "long", n=3)
    assert (out["method"], out["model"], out["notice"], out["cached"]) == ("gemini", "gemini-2.5-flash", None, False)
    tasks = _tasks(fake_gemini)
    assert tasks.count("moments_map") >= 3 and tasks[-1] == "moments_reduce" and tasks.count("moments_reduce") == 1
    ranges = sorted(r["range_s"] for r in fake_gemini.requests if r["task"] == "moments_map")
    assert ranges[0][0] == 0.0 and ranges[-1][1] == 300.0 and all(len(r["timeline"]) <= 1000
                                                                  for r in fake_gemini.requests[:-1])
    # Best first, one line of reason each; the invalid items, the copy and the times outside are gone.
    assert [(m["start_s"], m["end_s"]) for m in out["moments"]] == [(35.0, 40.0), (165.0, 170.0), (260.0, 265.0)]
    assert [m["reason"] for m in out["moments"]] == [f"top: fake: {SPECIAL[i]}" for i in (7, 33, 52)]
    assert [m["score"] for m in out["moments"]] == [1.0, 0.667, 0.333]
    assert out["moments"][0]["time_s"] == 37.5 and out["moments"][0]["segment_ids"] == [long_video[7]]
    assert "dropped" in caplog.text and "outside" in caplog.text

    fake_gemini.requests.clear()
    again = key_moments(ctx, "long", n=3)
    assert again["cached"] and again["moments"] == out["moments"] and fake_gemini.requests == []

    longest = "a drummer throws sticks into the screaming crowd at the very end of the show"
    update_segment(ctx.db, ctx.embedder, long_video[40], actor="test", expected_version=None, caption=longest)
    edited = key_moments(ctx, "long", n=3)
    assert not edited["cached"] and "moments_reduce" in _tasks(fake_gemini)
    assert edited["moments"][0]["reason"] == f"top: fake: {longest}" and edited["moments"][0]["start_s"] == 200.0
    fake_gemini.requests.clear()
    assert key_moments(ctx, "long", n=3)["cached"] and fake_gemini.requests == []
    assert key_moments(ctx, "long", n=2)["cached"] is False         # another request: its own answer


def test_a_two_hour_video_is_cut_into_several_parts():
    rows = [TimelineRow(id=i, start_s=i * 3.6, end_s=i * 3.6 + 3.6,
                        caption=f"a girl group performs a dance routine on a brightly lit stage, take {i}",
                        caption_ko="밝은 무대에서 춤을 추는 걸그룹",
                        transcript=("thank you so much everyone, we love you " * 2).strip(),
                        members=("Haerin", "Minji")) for i in range(2000)]
    context = Config().gemini.context_chars
    parts = timeline_parts(rows, context)
    assert len(parts) >= 3 and all(len(p.text) <= context for p in parts)
    assert sum(len(p.text.splitlines()) for p in parts) == 2000
    assert parts[0].start_s == 0.0 and parts[-1].end_s == pytest.approx(7200.0)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(parts, parts[1:], strict=False))
    assert timeline_parts(rows[:3], context)[0].text.splitlines()[0] == (
        "[0.0-3.6] a girl group performs a dance routine on a brightly lit stage, take 0 | ko: 밝은 무대에서 춤을 추는 "
        "걸그룹 | said: thank you so much everyone, we love you thank you so much everyone, we love you | "
        "on screen: Haerin, Minji")


def test_a_member_keeps_only_their_moments_through_gemini(gemini_at, long_video, fake_gemini):
    ctx = gemini_at()                                  # one part: the map answers for the whole video
    out = key_moments(ctx, "long", member="Haerin", n=3)
    assert out["method"] == "gemini" and _tasks(fake_gemini) == ["moments_map"]
    assert fake_gemini.requests[0]["member"] == "해린" and "on screen: 해린" in fake_gemini.requests[0]["timeline"]
    starts = [m["start_s"] for m in out["moments"]]
    assert starts == [165.0, 15.0, 65.0]               # segments 33, 3, 13: 해린's (the decoy without her is gone)
    assert [m["reason"] for m in out["moments"]] == [f"fake: {SPECIAL[33]}", f"fake: {BASE}", f"fake: {BASE}"]
    fake_gemini.requests.clear()
    assert key_moments(ctx, "long", n=3)["cached"] is False and fake_gemini.requests   # without the member: asked
    assert key_moments(ctx, "long", member="해린", n=3)["cached"] is True


@pytest.mark.parametrize("failure, says", [("reduce", "Gemini error 500: the key moments were picked offline."),
                                           ("quota", "Gemini quota exceeded: the key moments were picked offline."),
                                           ("invalid", "Gemini found no usable key moments"),
                                           ("garbage", "Gemini gave an unusable answer")])
def test_gemini_failing_falls_back_to_offline_with_a_notice(gemini_at, long_video, fake_gemini, failure, says):
    ctx = gemini_at(context_chars=1000)
    if failure == "reduce":
        fake_gemini.fail_tasks = {"moments_reduce"}
    elif failure == "invalid":
        fake_gemini.moments_mode = "invalid"
    else:
        fake_gemini.mode = failure
    out = key_moments(ctx, "long", n=3)
    assert out["method"] == "offline" and out["model"] is None and says in out["notice"]
    assert len(out["moments"]) == 3 and out["moments"][0]["score"] == 1.0
    fake_gemini.mode, fake_gemini.fail_tasks, fake_gemini.moments_mode = "ok", set(), "ok"
    assert key_moments(ctx, "long", n=3)["method"] == "gemini"      # a failure is never cached


def test_without_gemini_the_offline_ranking_answers_and_says_why(ctx, stage_video):
    out = key_moments(ctx, "stage", n=10)
    assert out["method"] == "offline" and out["model"] is None and out["signals"] == ["centrality", "members"]
    assert out["notice"].startswith("Gemini is not configured (set gemini.api_key): the key moments were picked "
                                    "offline. Audio loudness was not used: Video 'stage' has no file recorded")
    moments = out["moments"]
    # The dance on stage, with both members, first; the cat last; the segment that says nothing and shows no one out.
    assert [m["start_s"] for m in moments] == [0.0, 5.0, 15.0, 10.0]
    assert moments[0]["score"] == 1.0 and [m["score"] for m in moments] == sorted(m["score"] for m in moments)[::-1]
    assert moments[0]["reason"] == "central to the video: 'a girl group dances on a concert stage'; Haerin and Minji " \
                                   "on screen"
    assert moments[-1]["reason"] == "off the video's main thread: 'a cat sleeps on a sunny windowsill'"
    assert moments[0]["segment_ids"] == [stage_video[0]] and moments[0]["time_s"] == 2.5
    assert len(key_moments(ctx, "stage", n=2)["moments"]) == 2


def test_the_member_filter_offline(ctx, stage_video, db):
    out = key_moments(ctx, "stage", member="민지")
    assert [m["start_s"] for m in out["moments"]] in ([0.0, 5.0], [5.0, 0.0])
    assert all("Minji" in m["reason"] for m in out["moments"])
    with db.connection() as conn:
        add_member(conn, "Danielle")
    nobody = key_moments(ctx, "stage", member="Danielle")
    assert nobody["moments"] == [] and nobody["notice"] == "Danielle is not tagged on screen in this video."
    with pytest.raises(InvalidRequest, match="Unknown member 'Hanni'"):
        key_moments(ctx, "stage", member="Hanni")
    with pytest.raises(NotFound):
        key_moments(ctx, "no-such-video")


@pytest.fixture(scope="module")
def sound_videos(tmp_path_factory):
    """tone.mp4: 10 s, a 440 Hz tone for the first 5 s then silence; mute.mp4: 10 s without an audio track."""
    folder = tmp_path_factory.mktemp("summary")
    tone, mute = folder / "tone.mp4", folder / "mute.mp4"
    video = ["-f", "lavfi", "-i", "testsrc=duration=10:size=160x90:rate=25"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *video, "-f", "lavfi", "-i",
                    "aevalsrc=exprs='if(lt(t,5),0.5*sin(2*PI*440*t),0)':s=44100:d=10", *encode, "-c:a", "aac",
                    "-shortest", str(tone)], check=True, timeout=60)
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *video, *encode, str(mute)], check=True, timeout=60)
    return tone, mute


def test_a_loud_segment_outranks_a_silent_one(ctx, db, minilm_embedder, sound_videos):
    tone, mute = sound_videos
    with db.connection() as conn:
        for vid, path in (("tone", tone), ("mute", mute)):
            add_video(conn, vid, path=str(path), duration_s=10.0)
            for a, b in ((0.0, 4.0), (5.5, 9.5)):       # the same text: only the sound tells them apart
                add_segment(conn, vid, a, b, minilm_embedder, caption="a girl sings on stage")
    out = key_moments(ctx, "tone")
    assert out["signals"] == ["centrality", "members", "loudness"]
    assert out["notice"] == "Gemini is not configured (set gemini.api_key): the key moments were picked offline."
    loud, silent = out["moments"]
    assert (loud["start_s"], silent["start_s"]) == (0.0, 5.5) and silent["score"] < 0.9
    assert "loud moment (audio peak)" in loud["reason"] and "loud" not in silent["reason"]
    assert 0.0 <= loud["time_s"] <= 4.0
    quiet = key_moments(ctx, "mute")
    assert quiet["signals"] == ["centrality", "members"]
    assert quiet["notice"].endswith("Audio loudness was not used: The video has no audio track.")
    assert [m["score"] for m in quiet["moments"]] == [1.0, 1.0]

"""Pure parts of the indexer: segment planning, subtitles, ffmpeg banner parsing, matching, ids."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from indexer.matching import Gallery, Match, vote
from indexer.pipeline import video_id_for
from indexer.probe import parse_ffmpeg_banner
from indexer.shots import plan_segments
from indexer.subtitles import find_subtitle_file, parse_subtitles, transcripts_for
from tests.helpers import asset


def test_plan_caps_long_shots_and_merges_slivers():
    spans = plan_segments(30.0, [0.4, 10.0, 10.5, 29.8], max_s=8.0, min_s=1.0)
    assert spans[0][0] == 0.0 and spans[-1][1] == 30.0
    assert all(a < b for a, b in spans)
    assert all(b1 == a2 for (_, b1), (a2, _) in itertools.pairwise(spans)), "segments must tile without overlap"
    assert all(b - a >= 1.0 for a, b in spans), spans
    assert all(b - a <= 9.0 for a, b in spans), spans
    assert 10.5 in [a for a, _ in spans]  # a real cut survives


def test_plan_single_short_video():
    assert plan_segments(0.6, [], 8.0, 1.0) == [(0.0, 0.6)]


def test_popeye_srt_parsed_with_bom_tags_and_multiline_cues():
    srt = asset("subtitled/popeye/popeye_p1.eng.srt")
    cues = parse_subtitles(srt.read_text(encoding="utf-8"))
    assert len(cues) == 14
    assert cues[0].text == "[barking and roaring]" and cues[0].start == 0.0 and cues[0].end == 4.0
    assert cues[1].text == "I'm Sinbad the sailor So hearty and hale"
    assert cues[-1].end == pytest.approx(60.268)
    assert find_subtitle_file(srt.parent / "popeye_p1.mkv") == srt


def test_vtt_and_overlap_assignment():
    vtt = "WEBVTT\n\n00:01.000 --> 00:03.500\n<v Bob>Hello <b>there</b>\n\nnote\n00:00:05.000 --> 00:00:06.000\nBye\n"
    cues = parse_subtitles(vtt)
    assert [(c.start, c.end, c.text) for c in cues] == [(1.0, 3.5, "Hello there"), (5.0, 6.0, "Bye")]
    assert transcripts_for([(0, 2), (2, 4), (4, 5), (4.5, 8)], cues) == ["Hello there", "Hello there", None, "Bye"]


BANNER = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mp4':
  Duration: 00:00:10.01, start: 0.000000, bitrate: 490 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], 357 kb/s, 29.97 fps, 29.97 tbr, 30k tbn (default)
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)
"""  # noqa: E501 - a real ffmpeg banner, kept verbatim


def test_ffmpeg_banner_parsed():
    info = parse_ffmpeg_banner(BANNER)
    assert (info.duration_s, info.fps, info.width, info.height) == (10.01, 29.97, 640, 360)
    assert parse_ffmpeg_banner(BANNER.replace("Video:", "Data:")) is None
    rotated = BANNER.replace("  Stream #0:1",
                             "    Side data:\n      displaymatrix: rotation of -90.00 degrees\n  Stream #0:1")
    assert (parse_ffmpeg_banner(rotated).width, parse_ffmpeg_banner(rotated).height) == (360, 640)


def test_gallery_threshold_margin_and_votes():
    a, b = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    g = Gallery([1, 2], np.stack([a, b]), threshold=0.5, margin=0.1)
    assert g.match(a).member_id == 1
    assert g.match(a + b * 0.95).member_id is None  # too close to call: margin
    assert g.match(np.eye(4, dtype=np.float32)[2]).member_id is None  # below threshold
    assert vote([Match(1, 0.8), Match(1, 0.6), Match(2, 0.9), Match(None, 0.2)], min_votes=2) == {1: pytest.approx(0.7)}


def test_video_id_stable_and_path_specific(tmp_path):
    p = tmp_path / "My Clip (1).mp4"
    assert video_id_for(p) == video_id_for(Path(str(p)))
    assert video_id_for(p).startswith("my-clip-1-")
    assert video_id_for(p) != video_id_for(tmp_path / "other" / "My Clip (1).mp4")


def test_cli_options_before_or_after_the_command():
    from indexer.cli import build_parser

    assert build_parser().parse_args(["--config", "a.json", "index", "v.mp4"]).config == "a.json"
    args = build_parser().parse_args(["index", "v.mp4", "--config", "b.json", "--retag"])
    assert (args.config, args.paths, args.retag) == ("b.json", ["v.mp4"], True)
    args = build_parser().parse_args(["enroll", "Kang Haerin", "a.jpg", "b.jpg", "--alias", "해린", "--alias", "HR"])
    assert (args.name, [str(p) for p in args.images], args.alias) == ("Kang Haerin", ["a.jpg", "b.jpg"], ["해린", "HR"])

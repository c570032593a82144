"""Highlights: signals fused into ranked clips (peak ± 10 s, snapped to shot changes, overlaps merged, inside the
video), with their reasons; per member; over HTTP."""
from __future__ import annotations

import pytest

from search.highlights import Clip, _window, fuse
from tests.factories import add_member, add_segment, add_video


def test_a_clip_is_the_peak_plus_minus_ten_seconds_snapped_to_shot_changes_inside_the_video():
    shots = [183.0, 196.5, 207.0, 300.0]
    assert _window(195.0, 195.0, 195.0, 600.0, shots) == (183.0, 207.0)     # 185 → 183, 205 → 207 (within 3 s)
    assert _window(195.0, 195.0, 195.0, 600.0, []) == (185.0, 205.0)
    assert _window(4.0, 4.0, 4.0, 600.0, shots) == (0.0, 14.0)               # not before the start
    assert _window(595.0, 595.0, 595.0, 600.0, shots) == (585.0, 600.0)      # nor past the end
    assert _window(96.0, 62.0, 130.0, 600.0, []) == (66.0, 126.0)            # a long range: 60 s round its peak
    assert _window(62.0, 60.0, 70.0, 600.0, []) == (52.0, 72.0)              # a short range is kept whole


def test_overlapping_moments_merge_and_the_best_come_first():
    a = Clip(100.0, 120.0, 110.0, 1.0, ["38 comments at 1:50"], {"comments"})
    b = Clip(112.0, 132.0, 122.0, 0.6, ["summary: the encore"], {"summary"})
    c = Clip(300.0, 320.0, 310.0, 0.9, ["5 comments at 5:10"], {"comments"})
    d = Clip(500.0, 520.0, 510.0, 0.1, ["said and seen: applause"], {"summary"})
    out = fuse([d, c, b, a], 2)
    assert [(x.start_s, x.end_s) for x in out] == [(100.0, 132.0), (300.0, 320.0)]
    assert out[0].reasons == ["38 comments at 1:50", "summary: the encore"]
    assert out[0].sources == {"comments", "summary"} and abs(out[0].score - 1.6) < 1e-9


def test_a_neighbour_vouches_for_a_clip_but_stretches_it_only_so_far_and_clips_never_overlap():
    a = Clip(100.0, 150.0, 125.0, 1.0, ["a"], {"comments"})
    b = Clip(140.0, 170.0, 160.0, 0.5, ["b"], {"summary"})
    c = Clip(160.0, 180.0, 170.0, 0.4, ["c"], {"summary"})
    out = fuse([a, b, c], 5)
    assert [(x.start_s, x.end_s, x.reasons) for x in out] == [(100.0, 150.0, ["a", "b"]), (160.0, 180.0, ["c"])]
    assert abs(out[0].score - 1.5) < 1e-9


def test_two_signals_agreeing_outrank_one_signal_repeating_itself():
    talk = [Clip(300.0, 320.0, 310.0, 0.7, ["said and seen: a"], {"summary"}),
            Clip(305.0, 325.0, 315.0, 0.7, ["said and seen: b"], {"summary"})]
    viewers = Clip(500.0, 520.0, 510.0, 0.9, ["40 comments at 8:30"], {"comments"})
    out = fuse([*talk, viewers], 5)
    assert [x.reasons[0] for x in out] == ["40 comments at 8:30", "said and seen: a"]
    assert abs(out[1].score - (0.7 + 0.25 * 0.7)) < 1e-9


# ---------------------------------------------------------------- end to end: comments + what is said and seen
COMMENTS = """3:15 레전드 ㅋㅋㅋ
3:16 여기 해린 표정 봐
3분 15초 여기 최고
3:14 the best part
legend moment at 3:15!!
6:50 encore
15:00 this is past the end
chapters: 0:10 intro 1:00 talk 2:00 game 3:00 song 4:00 dance 5:00 outro 6:00 end 7:00 bye 8:00 x 9:00 y
no times in this one
"""


@pytest.fixture
def show(db, tiny_embedder, tmp_path):
    """A 10-minute show: 30 segments of 20 s, Haerin on screen at 3:00-3:40 and 6:40-7:00, viewers' comments."""
    from indexer.comments import import_comments_file

    with db.connection() as conn:
        add_video(conn, "show", title="쇼케이스 Showcase", duration_s=600.0, shot_boundaries=[183.0, 207.0, 400.0])
        add_video(conn, "quiet", title="Quiet talk", duration_s=120.0)
        add_member(conn, "Haerin", ["해린"])
        add_member(conn, "Minji", ["민지"])
        for i in range(30):
            a = i * 20.0
            members = ["Haerin"] if a in (180.0, 200.0, 400.0) else ["Minji"] if a in (60.0, 500.0) else []
            add_segment(conn, "show", a, a + 20.0, tiny_embedder, members=members,
                        caption=f"scene {i}: " + ("the girls dance on stage" if i % 3 else "a talk on the sofa"))
        add_segment(conn, "quiet", 0.0, 60.0, tiny_embedder, caption="two people talk quietly", members=["Minji"])
    path = tmp_path / "comments.txt"
    path.write_text(COMMENTS, encoding="utf-8")
    import_comments_file(db, "show", path)


def test_the_most_commented_moment_comes_first_as_a_snapped_clip_with_its_reasons(ctx, show):
    from search.highlights import highlights

    data = highlights(ctx, "show")
    top = data["highlights"][0]
    assert top["start"] <= 185 and top["end"] >= 205 and top["end"] - top["start"] <= 60     # 3:15 ± 10 s at least
    assert top["reasons"][0].startswith("5 comments at 3:15")
    assert "레전드" in top["reasons"][0] or "여기" in top["reasons"][0] or "best" in top["reasons"][0]
    assert "Haerin on screen" in top["reasons"] and "comments" in top["sources"]
    assert data["methods"]["comments"] and data["methods"]["summary"].startswith("offline")
    clips = sorted((h["start"], h["end"]) for h in data["highlights"])
    assert len(clips) <= 5 and all(0 <= a < b <= 600 for a, b in clips)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(clips, clips[1:], strict=False))   # no overlaps
    assert not any(a <= 900 <= b for a, b in clips)                # 15:00 is past the end: ignored
    assert [h["rank"] for h in data["highlights"]] == list(range(1, len(clips) + 1))
    assert top["segment_id"] is not None


def test_one_members_best_moments(ctx, show, db):
    from search.highlights import highlights

    data = highlights(ctx, "show", member="해린")                   # an alias
    assert data["member"] == "Haerin" and data["highlights"]
    for h in data["highlights"]:
        assert "Haerin" in h["members"] and any(r.startswith("Haerin") for r in h["reasons"])


def test_without_comments_the_summary_alone_answers(ctx, show):
    from search.highlights import highlights

    data = highlights(ctx, "quiet", n=3)
    assert data["methods"]["comments"] is None and data["highlights"]
    assert all(h["sources"] == ["summary"] for h in data["highlights"])


def test_the_highlights_route(client, show):
    r = client.get("/api/videos/show/highlights", params={"member": "Haerin", "n": 2})
    assert r.status_code == 200 and 1 <= len(r.json()["highlights"]) <= 2
    assert client.get("/api/videos/show/highlights", params={"n": 0}).status_code == 422
    r = client.get("/api/videos/show/highlights", params={"member": "Nobody"})
    assert r.status_code == 400 and "Nobody" in r.json()["detail"]
    assert client.get("/api/videos/nope/highlights").status_code == 404

"""The editor as a workspace, in Chromium: the timeline (zoom, scroll, filmstrip, waveform, dragging a boundary
with snapping), selecting several segments and editing them at once (one history entry, one revert), and
downloading the selection as one MP4.
"""
from __future__ import annotations

import subprocess

import imageio_ffmpeg
import pytest

from tests.factories import add_member, add_segment, add_video
from tests.helpers import video_segments, video_spans, wait_for

HAMILTON = "short_hamilton_clip.mp4"     # 10 s, H.264 + AAC (a real clip with sound: a waveform worth drawing)


def _spans(db):
    return video_spans(db, "ham")


def _segments(db):
    return video_segments(db, "ham")


def _history(db):
    with db.connection() as conn:
        return conn.execute("SELECT id, operation, reverted_by FROM segment_history ORDER BY id").fetchall()


@pytest.fixture
def workspace(browser, app_factory, config, db, serve, assets_dir, tiny_embedder):
    """The Hamilton clip with four segments (0-4, 4-7 touching, 7.5-8.5, 8.8-9.8; shot changes at 2.5 and 6.0 s),
    two members."""
    with db.connection() as conn:
        add_video(conn, "ham", title="Hamilton · 무대 리허설", path=str(assets_dir / "video" / HAMILTON),
                  duration_s=10.0, shot_boundaries=[2.5, 6.0])
        add_member(conn, "Lin-Manuel", ["린마누엘"])
        add_member(conn, "Alex", ["알렉스"])
        ids = [add_segment(conn, "ham", 0.0, 4.0, tiny_embedder, caption="a man singing at a piano",
                           caption_ko="피아노 앞에서 노래하는 남자", members=["Lin-Manuel"]),
               add_segment(conn, "ham", 4.0, 7.0, tiny_embedder, caption="two men laughing", members=["Alex"]),
               add_segment(conn, "ham", 7.5, 8.5, tiny_embedder, caption="the pianist plays",
                           members=["Lin-Manuel"], transcript="one more time"),
               add_segment(conn, "ham", 8.8, 9.8, tiny_embedder, caption="applause")]
    base = serve(app_factory(config))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/videos/ham")
    page.wait_for_selector("#editor[data-ready='1']")
    yield page, ids
    assert errors == []
    page.close()


def _until(page, condition: str) -> None:
    """Poll a JS condition (``() => …``) from here: Playwright's own polling evaluates strings, which the page's CSP
    (no eval) refuses after the first try."""
    wait_for(lambda: page.evaluate(condition), condition)


def _view(page):
    return float(page.get_attribute("#timeline", "data-view-start")), float(page.get_attribute("#timeline",
                                                                                                "data-view-end"))


def _x_of(page, t):
    """The page x of time t on the timeline, from the view it shows."""
    box = page.locator(".tl-stage").bounding_box()
    a, b = _view(page)
    return box["x"] + (t - a) / (b - a) * box["width"]


def test_the_timeline_zooms_scrolls_and_shows_filmstrip_and_waveform(workspace, artifacts_dir):
    page, ids = workspace
    page.wait_for_selector("#timeline[data-waveform='1'][data-filmstrip='1']")
    a, b = _view(page)
    assert a == 0 and abs(b - 10.0) < 0.05                          # opens on the whole video
    page.keyboard.press("+")
    _until(page, "() => Number(document.getElementById('timeline').dataset.viewEnd) < 9")
    a, b = _view(page)
    assert abs((b - a) - 10.0 / 1.5) < 0.05
    box = page.locator(".tl-stage").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 30)
    page.mouse.wheel(0, -400)                                       # the wheel zooms in around the pointer
    _until(page, f"() => Number(document.getElementById('timeline').dataset.viewEnd) - "
                           f"Number(document.getElementById('timeline').dataset.viewStart) < {b - a - 0.5}")
    before = _view(page)
    page.keyboard.down("Shift")
    page.mouse.wheel(0, 300)                                        # shift+wheel scrolls
    page.keyboard.up("Shift")
    _until(page, f"() => Number(document.getElementById('timeline').dataset.viewStart) > {before[0] + 0.1}")
    page.click(".tl-fit-segments")
    _until(page, "() => Number(document.getElementById('timeline').dataset.viewEnd) > 9.8")
    a, b = _view(page)
    assert a <= 0.0 + 1e-6 and b >= 9.8
    page.click(".tl-fit-video")
    _until(page, "() => Number(document.getElementById('timeline').dataset.viewEnd) >= 9.99")
    # labelled blocks: members and a caption snippet
    assert page.text_content(f".tl-seg[data-id='{ids[0]}'] .tl-label") == "Lin-Manuel a man singing at a piano"
    page.click(f".tl-seg[data-id='{ids[0]}']")
    page.mouse.move(5, 5)
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts_dir / "editor_workspace.png"))


def _grab(page, segment_id, side):
    """Press the mouse on a block's start ("l") or end ("r") handle; returns the y to drag along."""
    handle = page.locator(f".tl-seg[data-id='{segment_id}'] .tl-handle.{side}").bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + handle["width"] / 2, y)
    page.mouse.down()
    return y


def test_dragging_a_boundary_retimes_both_sides_snaps_to_the_shot_change_and_reverts_as_one(workspace, db):
    page, ids = workspace
    y = _grab(page, ids[0], "r")
    for t in (4.5, 5.2, 5.93):                                     # near 6.0, the shot change: it snaps there
        page.mouse.move(_x_of(page, t), y, steps=3)
    assert page.get_attribute("#timeline", "data-dragging") == "1"
    assert page.get_attribute(".tl-hover", "data-time") == "0:06.0"
    page.mouse.up()
    # the boundary the two segments shared moved for both, in one history entry
    wait_for(lambda: _spans(db) == [(0.0, 6.0), (6.0, 7.0), (7.5, 8.5), (8.8, 9.8)], "retimed at the shot change")
    assert [h["operation"] for h in _history(db)] == ["retime"]
    page.wait_for_selector("#history li:first-child .h-sum:has-text('retimed')")
    assert "times 0.00–4.00 → 0.00–6.00" in page.text_content("#history li:first-child .h-sum")
    page.click("#history li:first-child .h-revert")
    wait_for(lambda: _spans(db) == [(0.0, 4.0), (4.0, 7.0), (7.5, 8.5), (8.8, 9.8)], "one revert restores both")
    page.wait_for_selector("#history li.reverted .h-reverted:has-text('reverted by')")


def test_a_dragged_edge_stops_at_a_neighbour_it_does_not_touch(workspace, db):
    page, ids = workspace
    y = _grab(page, ids[2], "l")
    page.mouse.move(_x_of(page, 5.0), y, steps=5)                  # past the previous segment's end (7.0)
    page.mouse.up()
    wait_for(lambda: _spans(db)[2] == (7.0, 8.5), "start held at the previous segment's end")
    assert _spans(db)[1] == (4.0, 7.0)


def test_select_several_then_tag_untag_and_caption_them_in_one_operation_reverted_as_one(workspace, db,
                                                                                        artifacts_dir):
    page, ids = workspace
    page.click(f".tl-seg[data-id='{ids[0]}']")
    page.click(f".tl-seg[data-id='{ids[2]}']", modifiers=["Shift"])        # a run: rows 1-3
    page.click(f"#segments tr[data-id='{ids[3]}']", modifiers=["Control"])  # and one more from the list
    page.wait_for_selector("#bulk:not([hidden])")
    assert page.text_content("#b-count") == "4 segments selected"
    page.click(f"#segments tr[data-id='{ids[1]}']", modifiers=["Control"])  # ctrl-click again: out of the selection
    page.wait_for_selector("#b-count:has-text('3 segments')")
    assert page.locator(".tl-seg.selected").count() == 3
    assert page.is_disabled("#b-merge")                                     # 1, 3, 4 are not a run
    page.select_option("#b-add", "Alex")
    page.select_option("#b-remove", "Lin-Manuel")
    page.fill("#b-caption", "리허설 장면")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "editor_bulk.png"))
    page.click("#b-apply")
    page.wait_for_selector("#b-saved:has-text('Applied to 3 segments')")
    segs = {s["id"]: s for s in _segments(db)}
    for sid in (ids[0], ids[2], ids[3]):
        assert [m["name"] for m in segs[sid]["members"]] == ["Alex"]
        assert segs[sid]["caption_edited"] == "리허설 장면"
    assert [m["name"] for m in segs[ids[1]]["members"]] == ["Alex"] and segs[ids[1]]["caption_edited"] is None
    assert [h["operation"] for h in _history(db)] == ["bulk"]
    summary = page.text_content("#history li:first-child .h-sum")
    assert summary == "edited 3 segments at once: members +Alex −Lin-Manuel; caption → “리허설 장면”"
    page.keyboard.press("Control+z")                                         # one undo reverts all three
    wait_for(lambda: all(s["caption_edited"] is None for s in _segments(db)), "bulk edit reverted")
    assert [m["name"] for m in {s["id"]: s for s in _segments(db)}[ids[0]]["members"]] == ["Lin-Manuel"]


def test_merge_and_delete_a_selection(workspace, db):
    page, ids = workspace
    page.click(f"#segments tr[data-id='{ids[1]}']")
    page.click(f"#segments tr[data-id='{ids[2]}']", modifiers=["Shift"])
    page.wait_for_selector("#b-merge:not([disabled])")
    page.click("#b-merge")
    wait_for(lambda: _spans(db) == [(0.0, 4.0), (4.0, 8.5), (8.8, 9.8)], "the run merged")
    page.wait_for_selector(f"#segments tr[data-id='{ids[1]}'].selected")
    page.click(f"#segments tr[data-id='{ids[3]}']", modifiers=["Control"])
    page.on("dialog", lambda d: d.accept())
    page.keyboard.press("Delete")
    wait_for(lambda: _spans(db) == [(0.0, 4.0)], "both deleted")
    assert [h["operation"] for h in _history(db)] == ["merge", "delete"]
    page.click("#btn-undo")
    wait_for(lambda: _spans(db) == [(0.0, 4.0), (4.0, 8.5), (8.8, 9.8)], "one revert brings both back")


def test_the_selection_downloads_as_one_mp4(workspace, tmp_path):
    page, ids = workspace
    page.click(f"#segments tr[data-id='{ids[0]}']")
    page.click(f"#segments tr[data-id='{ids[2]}']", modifiers=["Control"])
    with page.expect_download(timeout=120_000) as info:
        page.click("#b-export")
    out = tmp_path / "sel.mp4"
    info.value.save_as(out)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(out)],
                           capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "Audio: aac" in probe
    hours, minutes, seconds = probe.split("Duration: ")[1].split(",")[0].split(":")
    assert abs(float(seconds) - (4.0 + 1.0)) < 0.3                  # 0-4 s and 7.5-8.5 s, joined


def test_the_highlights_panel_lists_the_best_moments_and_marks_them_on_the_timeline(workspace, db, tmp_path,
                                                                                   artifacts_dir):
    from indexer.comments import import_comments_file

    page, ids = workspace
    comments = tmp_path / "comments.txt"
    comments.write_text("0:05 여기 최고 ㅋㅋ\n0:05 the best part\n0:06 legend\n", encoding="utf-8")
    import_comments_file(db, "ham", comments)
    page.click("#highlights summary")                              # opening the panel asks for them
    page.wait_for_selector("#editor[data-highlights]")
    first = page.locator("#hl-list > li").first
    assert "3 comments at 0:05" in first.text_content() and "여기 최고" in first.text_content()
    assert "From viewer comments (" in page.text_content("#hl-methods")
    href = first.locator("a.button").get_attribute("href")
    assert href == "/api/videos/ham/clip.mp4?start=0.00&end=10.00"      # 0:05 ± 10 s, inside the 10 s clip
    first.locator(".hl-play").click()                               # plays it; its span becomes the in/out marks
    _until(page, "() => !document.getElementById('player').paused")
    assert page.text_content("#marks") == "in 0.00 / out 10.00"
    page.evaluate("document.getElementById('player').pause()")
    page.select_option("#hl-member", "Alex")
    page.click("#hl-load")
    _until(page, "() => document.querySelector('#hl-list > li .hl-why') && "
                           "document.querySelector('#hl-list').textContent.includes('Alex, Lin-Manuel on screen')")
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.move(5, 5)
    page.screenshot(path=str(artifacts_dir / "editor_highlights.png"))

"""Media that plays, in a real browser (Playwright + Debian chromium).

- an MKV/HEVC source (Chromium: DEMUXER_ERROR_NO_SUPPORTED_STREAMS) indexed through the CLI plays in the editor
  through its H.264/AAC copy: the player gets frames and the playhead moves;
- the same kind of file served as it is (a video indexed before copies existed) does not play, and the page says
  so instead of showing a black player;
- a video imported without a media file, or whose file is gone, shows a plain notice and its segments can
  still be edited.
"""
from __future__ import annotations

from indexer.cli import main
from indexer.pipeline import video_id_for
from tests.factories import add_segment, add_video
from tests.indexer.unplayable import make_hevc_mkv

PLAYER = "document.getElementById('player')"
# Conditions are passed as functions: a string expression that has to be polled is evaluated with eval, which the
# page's CSP (script-src 'self') refuses.


def _open(browser, base, video_id):
    page = browser.new_page(viewport={"width": 1300, "height": 850})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/videos/{video_id}")
    page.wait_for_selector("#editor[data-ready='1']")
    return page, errors


def test_an_mkv_hevc_video_plays_through_its_copy(browser, app_factory, config, write_config, db, serve, tmp_path,
                                                  artifacts_dir):
    source = make_hevc_mkv(tmp_path / "library" / "popeye_like.mkv", seconds=4.0)
    assert main(["index", str(source), "--config", str(write_config()), "--no-progress"]) == 0
    vid = video_id_for(source)
    base = serve(app_factory(config))
    page, errors = _open(browser, base, vid)
    page.wait_for_function(f"() => {PLAYER}.readyState >= 2", timeout=15000)     # decoded frames, not just metadata
    assert abs(page.evaluate(f"{PLAYER}.duration") - 4.0) < 0.2
    page.evaluate(f"{PLAYER}.muted = true; {PLAYER}.play()")
    page.wait_for_function(f"() => {PLAYER}.currentTime > 1.0 && !{PLAYER}.paused", timeout=15000)
    assert page.evaluate(f"{PLAYER}.videoWidth") == 320 and page.evaluate(f"{PLAYER}.error") is None
    assert page.is_hidden("#media-notice") and page.is_visible("#player")
    page.evaluate(f"{PLAYER}.pause()")
    page.screenshot(path=str(artifacts_dir / "editor_hevc_proxy_playing.png"), full_page=True)
    assert errors == []
    page.close()


def test_an_unplayable_file_served_as_it_is_says_so(browser, app_factory, config, db, serve, tmp_path,
                                                     tiny_embedder, artifacts_dir):
    source = make_hevc_mkv(tmp_path / "library" / "old_row.mkv", seconds=2.0)
    with db.connection() as conn:       # a row as the indexer wrote it before copies existed: no copy recorded
        add_video(conn, "old", title="Indexed before copies", path=str(source), duration_s=2.0)
        add_segment(conn, "old", 0.0, 2.0, tiny_embedder, caption="a test pattern")
    base = serve(app_factory(config))
    page, errors = _open(browser, base, "old")
    page.wait_for_selector("#media-notice:visible")
    text = page.text_content("#media-notice")
    assert text.startswith("No playable media for this video: this browser cannot play it")
    assert "index --force" in text and text.endswith("The segments can still be edited.")
    assert page.is_hidden("#player")
    page.screenshot(path=str(artifacts_dir / "editor_hevc_without_copy.png"), full_page=True)
    assert errors == []
    page.close()


def test_a_video_without_media_shows_a_notice_and_stays_editable(browser, app_factory, config, db, serve,
                                                                  tiny_embedder, tmp_path, artifacts_dir):
    with db.connection() as conn:
        add_video(conn, "legacy", title="Imported without a file", path=None, duration_s=10.0)
        first = add_segment(conn, "legacy", 0.0, 4.0, tiny_embedder, caption="a girl dancing on stage")
        add_video(conn, "gone", title="File gone", path=str(tmp_path / "deleted.mp4"), duration_s=10.0)
    base = serve(app_factory(config))
    page, errors = _open(browser, base, "legacy")
    page.wait_for_selector("#media-notice:visible")
    assert page.text_content("#media-notice") == (
        "No playable media for this video: Video 'legacy' has no file recorded (imported from metadata only): "
        "there is nothing to play or cut. The segments can still be edited.")
    assert page.is_hidden("#player") and page.get_attribute("#editor", "data-media") == "none"
    page.screenshot(path=str(artifacts_dir / "editor_no_media.png"), full_page=True)
    # still editable: select the segment and save a caption
    page.click(f"#segments tr[data-id='{first}']")
    page.fill("#d-caption", "edited without a player")
    page.click("#d-save")
    page.wait_for_selector("#history li:has-text('edited')")

    page2, errors2 = _open(browser, base, "gone")
    page2.wait_for_selector("#media-notice:visible")
    assert "is missing on disk" in page2.text_content("#media-notice")
    assert errors == [] and errors2 == []
    page.close()
    page2.close()

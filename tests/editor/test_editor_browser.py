"""The editor page in a real browser (Playwright + Debian chromium): split, merge, edit, revert, 409, keys."""
from __future__ import annotations

import subprocess

import httpx

from tests.factories import add_member, add_segment, add_video
from tests.helpers import video_segments, video_spans, wait_for


def _segments(db):
    return video_segments(db, "real")


def _spans(db):
    return video_spans(db, "real")


def test_edit_in_the_browser(browser, app_factory, config, db, serve, test_video, tiny_embedder, artifacts_dir):
    with db.connection() as conn:
        add_video(conn, "real", title="테스트 영상", path=str(test_video), duration_s=10.0, shot_boundaries=[2.5, 6.0])
        add_member(conn, "Hanni", ["하니"])
        first = add_segment(conn, "real", 0.0, 4.0, tiny_embedder,
                            caption='a girl <img src=x onerror="window.__xss=1">', caption_ko="무대에서 춤추는 소녀",
                            members=["Hanni"], transcript="hello there")
        second = add_segment(conn, "real", 4.0, 8.0, tiny_embedder, caption="a man riding a skateboard")
    base = serve(app_factory(config))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/videos/real?segment={first}")
    page.wait_for_selector("#editor[data-ready='1']")
    # the player got the video through byte-range requests and can seek
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    assert abs(page.evaluate("document.getElementById('player').duration") - 10.0) < 0.2
    page.evaluate("document.getElementById('player').currentTime = 3.2")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 3.2) < 0.05")
    # the selected segment: automatic caption beside the edited one, Korean caption, members, transcript
    assert page.text_content("#d-auto") == 'a girl <img src=x onerror="window.__xss=1">'
    assert page.input_value("#d-ko") == "무대에서 춤추는 소녀"
    assert "Hanni" in page.text_content("#d-members") and page.input_value("#d-transcript") == "hello there"
    assert page.evaluate("window.__xss") is None
    assert "Ctrl+Z" in page.text_content(".keys")

    # S splits at the playhead, snapped to the shot change at 2.5 s
    page.evaluate("document.getElementById('player').currentTime = 2.3")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 2.3) < 0.05")
    page.keyboard.press("s")
    wait_for(lambda: _spans(db) == [(0.0, 2.5), (2.5, 4.0), (4.0, 8.0)], "split at 2.5 s")
    new_id = next(s["id"] for s in _segments(db) if s["start_s"] == 2.5)
    assert [m["name"] for m in next(s for s in _segments(db) if s["id"] == new_id)["members"]] == ["Hanni"]
    page.wait_for_selector(f"#segments tr[data-id='{new_id}'].selected")

    # M merges the selected segment with the next one
    page.keyboard.press("m")
    wait_for(lambda: _spans(db) == [(0.0, 2.5), (2.5, 8.0)], "merge")
    merged = next(s for s in _segments(db) if s["id"] == new_id)
    assert merged["caption_auto"].endswith("a man riding a skateboard")

    # edit the caption and add a member, save with the button
    page.click(f"#segments tr[data-id='{first}']")
    page.fill("#d-caption", "하니가 무대에서 춤춘다")
    page.click("#d-save")
    wait_for(lambda: _segments(db)[0]["caption_edited"] == "하니가 무대에서 춤춘다", "caption saved")
    page.wait_for_selector("#history li:has-text('edited')")
    assert page.text_content("#d-saved").startswith("Saved · v")          # the save is acknowledged where one looks
    assert "→ “하니가 무대에서 춤춘다”" in page.text_content("#history li:first-child .h-sum")  # what changed
    assert page.text_content("#segments tbody tr:first-child td") == "1"  # rows count within the video

    # a stale edit: someone else changes the segment; saving here gets 409 and the page offers to reload
    version = _segments(db)[0]["version"]
    r = httpx.patch(f"{base}/api/segments/{first}", json={"version": version, "caption": "changed elsewhere"})
    assert r.status_code == 200
    page.fill("#d-caption", "my stale edit")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#banner-reload:visible")
    assert "changed by someone else" in page.text_content("#banner-text")
    assert _segments(db)[0]["caption_edited"] == "changed elsewhere"
    page.click("#banner-reload")
    page.wait_for_selector("#banner", state="hidden")
    assert page.input_value("#d-caption") == "changed elsewhere"
    page.screenshot(path=str(artifacts_dir / "editor_page.png"), full_page=True)

    # Ctrl+Z reverts the last change (the other edit), then the one before it (our caption), then the merge
    page.click("#segments tbody tr:first-child td")
    page.keyboard.press("Control+z")
    wait_for(lambda: _segments(db)[0]["caption_edited"] == "하니가 무대에서 춤춘다", "first revert")
    page.keyboard.press("Control+z")
    wait_for(lambda: _segments(db)[0]["caption_edited"] is None, "second revert")
    page.keyboard.press("Control+z")
    wait_for(lambda: _spans(db) == [(0.0, 2.5), (2.5, 4.0), (4.0, 8.0)], "merge reverted")
    restored = {s["id"]: s for s in _segments(db)}
    assert second in restored and restored[second]["caption_auto"] == "a man riding a skateboard"
    # the history panel's Revert button on the split entry brings the original segment back
    page.wait_for_selector("#history li:has-text('split') .h-revert")
    page.click("#history li:has-text('split') .h-revert")
    wait_for(lambda: _spans(db) == [(0.0, 4.0), (4.0, 8.0)], "split reverted")
    assert [m["name"] for m in _segments(db)[0]["members"]] == ["Hanni"]
    page.wait_for_selector("#segments tbody tr:nth-child(2)")
    assert page.locator("#segments tbody tr").count() == 2
    undone = page.locator("#history li.reverted:has-text('split')")        # an undone entry says by what, no button
    assert "reverted by #" in undone.text_content() and undone.locator(".h-revert").count() == 0
    page.screenshot(path=str(artifacts_dir / "editor_page_after_revert.png"), full_page=True)
    assert errors == []
    page.close()


def test_home_page_search_and_marks(browser, app_factory, config, db, serve, test_video, tiny_embedder, artifacts_dir):
    with db.connection() as conn:
        add_video(conn, "real", title="Skate video", path=str(test_video), duration_s=10.0)
        add_segment(conn, "real", 0.0, 3.0, tiny_embedder, caption="a man riding a skateboard in the city")
    base = serve(app_factory(config))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(base + "/")
    page.fill("input[name=q]", "skateboard")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("ol.results li.result")
    page.screenshot(path=str(artifacts_dir / "editor_home_search.png"))
    page.click("ol.results li.result a")
    page.wait_for_selector("#editor[data-ready='1']")
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    # create from in/out marks: Esc (no selection), Shift+I at 5 s, Shift+O at 7 s, N
    page.keyboard.press("Escape")
    page.uncheck("#snap")
    page.evaluate("document.getElementById('player').currentTime = 5")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 5) < 0.05")
    page.keyboard.press("Shift+I")
    page.evaluate("document.getElementById('player').currentTime = 7")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 7) < 0.05")
    page.keyboard.press("Shift+O")
    page.keyboard.press("n")
    wait_for(lambda: _spans(db) == [(0.0, 3.0), (5.0, 7.0)], "segment created from marks")
    # I / O move the selected (new) segment's start / end to the playhead
    page.wait_for_selector("#editor[data-busy='0'] #segments tr.selected")
    page.evaluate("document.getElementById('player').currentTime = 5.5")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 5.5) < 0.05")
    page.keyboard.press("i")
    wait_for(lambda: _spans(db) == [(0.0, 3.0), (5.5, 7.0)], "start set with I")
    page.wait_for_selector("#editor[data-busy='0']")
    page.evaluate("document.getElementById('player').currentTime = 8")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 8) < 0.05")
    page.keyboard.press("o")
    wait_for(lambda: _spans(db) == [(0.0, 3.0), (5.5, 8.0)], "end set with O")
    page.wait_for_selector("#editor[data-busy='0']")
    # an overlapping create is refused with the message shown
    page.keyboard.press("Escape")
    page.evaluate("document.getElementById('player').currentTime = 2")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 2) < 0.05")
    page.keyboard.press("Shift+I")
    page.evaluate("document.getElementById('player').currentTime = 6")
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 6) < 0.05")
    page.keyboard.press("Shift+O")
    page.click("#btn-create")
    page.wait_for_selector("#banner:visible")
    assert "overlaps segment" in page.text_content("#banner-text")
    assert _spans(db) == [(0.0, 3.0), (5.5, 8.0)]
    page.close()


def test_search_results_explain_themselves(browser, app_factory, config, db, serve, minilm_embedder, artifacts_dir):
    spam = " Catch the latest news, live coverage and in-depth analyses from India and World. Follow us on " \
           "Facebook and Twitter for the latest updates. <b>not markup</b>"
    with db.connection() as conn:
        add_video(conn, "dev", title="Picnic vlog", duration_s=60.0)
        add_member(conn, "Danielle", ["다니엘"])
        add_segment(conn, "dev", 0, 4, minilm_embedder, caption="The girl is eating a doughnut at the table." + spam,
                    members=["Danielle"])
        add_segment(conn, "dev", 10, 14, minilm_embedder, caption="A woman is holding a doughnut in her hands.",
                    members=["Danielle"], caption_ko="도넛을 든 여자")
        add_segment(conn, "dev", 20, 24, minilm_embedder, caption="A group of people are walking in a park.",
                    members=["Danielle"])
        add_segment(conn, "dev", 30, 34, minilm_embedder, caption="A man is fishing in the river.")
    base = serve(app_factory(config, embedder=minilm_embedder))
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(base + "/?q=" + "다니엘이 eating doughnuts")
    page.wait_for_selector("ol.results li.result")
    assert page.text_content(".filters .chip") == "Danielle"
    first = page.locator("ol.results li.result").first
    assert first.locator(".band").text_content() == "strong match"
    assert [m.text_content() for m in first.locator(".snippet mark").all()] == ["eating", "doughnut"]
    assert "Danielle on screen" in first.locator(".why").text_content()
    assert "…" in first.locator(".snippet").text_content()                   # the scraped text is cut
    first.locator("details.full summary").click()
    assert "<b>not markup</b>" in first.locator("details.full").text_content()     # shown as text, not HTML
    weaker = page.locator("details.weaker")
    assert "Weaker matches (1)" in weaker.locator("summary").text_content()
    assert not weaker.locator("li.result").first.is_visible()                # folded until asked for
    weaker.locator("summary").click()
    assert "walking in a park" in weaker.locator("li.result").first.text_content()
    page.screenshot(path=str(artifacts_dir / "search_explained.png"), full_page=True)
    page.goto(base + "/?q=quantum chromodynamics lecture")
    page.wait_for_selector("ol.results.nearest li.result")
    assert page.text_content("h3.nearest-title") == "No close match. The nearest moments:"
    assert {b.text_content() for b in page.locator(".band").all()} == {"weak match"}
    page.screenshot(path=str(artifacts_dir / "search_no_match.png"), full_page=True)
    page.close()


def test_player_steps_frames_changes_speed_and_loops_the_selection(browser, app_factory, config, db, serve,
                                                                   test_video, tiny_embedder):
    with db.connection() as conn:
        add_video(conn, "real", title="Loop", path=str(test_video), duration_s=10.0)
        first = add_segment(conn, "real", 1.0, 2.0, tiny_embedder, caption="a short moment")
    base = serve(app_factory(config))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}/videos/real?segment={first}")
    page.wait_for_selector("#editor[data-ready='1']")
    page.wait_for_function("() => document.getElementById('player').readyState >= 2")
    page.evaluate("document.getElementById('player').currentTime = 1.2")
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 1.2) < 0.01")
    page.locator("body").press(".")                                # one frame of the 25 fps video
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 1.24) < 0.005")
    page.locator("body").press(",")
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 1.2) < 0.005")
    page.select_option("#rate", "2")
    assert page.evaluate("document.getElementById('player').playbackRate") == 2
    page.check("#loop")
    page.evaluate("document.getElementById('player').currentTime = 1.8")
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_timeout(1500)                                      # 3 s of video at 2×: past the end twice
    t = page.evaluate("document.getElementById('player').currentTime")
    assert 1.0 <= t < 2.1, t                                         # kept inside the selected segment
    page.close()


def test_a_segment_downloads_as_an_mp4_from_the_page(browser, app_factory, config, db, serve, test_video,
                                                    tiny_embedder, tmp_path):
    import imageio_ffmpeg

    with db.connection() as conn:
        add_video(conn, "real", title="Clip me", path=str(test_video), duration_s=10.0)
        first = add_segment(conn, "real", 2.0, 4.0, tiny_embedder, caption="two seconds")
    base = serve(app_factory(config))
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{base}/videos/real?segment={first}")
    page.wait_for_selector("#editor[data-ready='1']")
    with page.expect_download() as download:
        page.click("#d-export")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "Clip_me_2.00-4.00.mp4"
    assert saved.read_bytes()[4:8] == b"ftyp"
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(saved)], capture_output=True, text=True)
    assert "Duration: 00:00:02" in probe.stderr and "h264" in probe.stderr          # the segment, as H.264
    page.close()
    assert httpx.get(f"{base}/api/segments/999999/clip.mp4").status_code == 404


def test_the_segment_list_filters_by_member_and_words(browser, app_factory, config, db, serve, test_video,
                                                      tiny_embedder):
    with db.connection() as conn:
        add_video(conn, "real", title="Filter", path=str(test_video), duration_s=10.0)
        add_member(conn, "Hanni", ["하니"])
        add_segment(conn, "real", 0.0, 3.0, tiny_embedder, caption="a girl dancing on stage", members=["Hanni"])
        add_segment(conn, "real", 3.0, 6.0, tiny_embedder, caption="a man riding a skateboard")
        add_segment(conn, "real", 6.0, 9.0, tiny_embedder, caption="people in the park", transcript="hanni waves")
    base = serve(app_factory(config))
    page = browser.new_page()
    page.goto(f"{base}/videos/real")
    page.wait_for_selector("#editor[data-ready='1']")
    rows = page.locator("#segments tbody tr:not([hidden])")         # the rows the filter shows
    assert rows.count() == 3
    page.fill("#list-filter", "skateboard")
    assert rows.count() == 1 and "skateboard" in rows.first.text_content()
    page.fill("#list-filter", "hanni")                   # a member on screen, or said in the transcript
    assert rows.count() == 2
    assert [r.locator("td").first.text_content() for r in rows.all()] == ["1", "3"]   # rows keep their numbers
    page.fill("#list-filter", "")
    assert rows.count() == 3
    page.close()

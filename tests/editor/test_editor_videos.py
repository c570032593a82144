"""Managing the library from the web: failed videos show why, and any video can be removed with the same guard as
``python -m indexer remove`` (an edited one only when the person confirms losing the edits)."""
from __future__ import annotations

from db.videos import find_video, record_failure


def _failed(db):
    with db.connection() as conn:
        record_failure(conn, "broken-1", "broken", "/videos/broken.mp4",
                       "/videos/broken.mp4: not a readable video (Invalid data found when processing input)")


def test_home_lists_a_failed_video_with_its_reason_and_a_remove_action(client, db, seeded, browser, serve,
                                                                     app_factory, config, artifacts_dir):
    _failed(db)
    page = client.get("/").text
    assert "not a readable video" in page and "/videos/broken-1/remove" in page
    own_page = client.get("/videos/broken-1").text        # opened by its address: says why it is empty
    assert 'id="failed-notice"' in own_page and "not a readable video" in own_page
    base = serve(app_factory(config))
    tab = browser.new_page()
    try:
        tab.goto(base + "/")
        row = tab.locator("tr.video-failed")
        assert "not a readable video" in row.inner_text()
        tab.screenshot(path=str(artifacts_dir / "home_failed_video.png"), full_page=True)
        row.locator("a.remove").click()
        tab.locator("#remove-confirm").click()
        tab.wait_for_url(base + "/?removed=broken")
        assert "Removed “broken”" in tab.locator("#removed").inner_text()
        assert tab.locator("tr.video-failed").count() == 0
    finally:
        tab.close()
    with db.connection() as conn:
        assert find_video(conn, "broken-1") is None


def test_an_edited_video_is_removed_only_when_the_loss_is_confirmed(client, db, seeded):
    assert client.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "edited"}).status_code == 200
    form = client.get("/videos/v1/remove").text
    assert "1 history entry" in form and 'name="force"' in form
    refused = client.post("/videos/v1/remove", follow_redirects=False)
    assert refused.status_code == 409 and "has edits" in refused.text
    assert client.delete("/api/videos/v1").status_code == 409
    with db.connection() as conn:
        assert find_video(conn, "v1") is not None
    done = client.post("/videos/v1/remove", data={"force": "1"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/?removed=Stage+one"
    with db.connection() as conn:
        assert find_video(conn, "v1") is None
    removed = client.delete("/api/videos/v2").json()             # never edited: no force needed
    assert removed["video_id"] == "v2" and removed["segments"] == 1
    assert client.delete("/api/videos/v2").status_code == 404

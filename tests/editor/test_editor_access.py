"""Access control, file serving (byte ranges, no escape from the allowed folders), pages and escaping."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from core.auth import SESSION_COOKIE, make_edit_url
from tests.factories import add_segment, add_video

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def secured(app_factory, make_config, seeded):
    cfg = make_config(auth={"token": TOKEN, "secret": "k" * 32, "link_ttl_s": 60})
    with TestClient(app_factory(cfg), follow_redirects=False) as c:
        yield c, cfg


@pytest.mark.parametrize("url", ["/api/videos/v1", "/api/members", "/api/videos/v1/history", "/media/videos/v1"])
def test_token_set_requires_credentials(secured, url):
    c, _ = secured
    assert c.get(url).status_code == 401
    assert c.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code in (200, 404)


def test_writes_need_credentials_and_record_the_actor(secured, seeded):
    c, cfg = secured
    assert c.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "x"}).status_code == 401
    r = c.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "x"},
                headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200
    hist = c.get("/api/videos/v1/history", headers={"Authorization": f"Bearer {TOKEN}"}).json()["history"]
    assert hist[0]["actor"] == "token"


def test_login_sets_session_cookie(secured):
    c, _ = secured
    page = c.get("/videos/v1")
    assert page.status_code == 401 and 'name="token"' in page.text
    bad = c.post("/login", data={"token": "nope", "next": "/videos/v1"})
    assert bad.status_code == 401 and "Wrong token" in bad.text and SESSION_COOKIE not in bad.cookies
    ok = c.post("/login", data={"token": TOKEN, "name": "Jin", "next": "/videos/v1"})
    assert ok.status_code == 303 and ok.headers["location"] == "/videos/v1"
    assert "httponly" in ok.headers["set-cookie"].lower() and "samesite=lax" in ok.headers["set-cookie"].lower()
    assert c.get("/videos/v1").status_code == 200
    assert c.get("/api/videos/v1").status_code == 200
    evil = c.post("/login", data={"token": TOKEN, "next": "//evil.example/x"})
    assert evil.headers["location"] == "/"
    c.post("/logout")
    c.cookies.clear()
    assert c.get("/api/videos/v1").status_code == 401


def test_signed_link_sets_cookie_then_api_works(secured, seeded):
    c, cfg = secured
    url = make_edit_url(cfg, "v1", seeded[1], actor="slack:U42", base_url="")
    r = c.get(url)
    assert r.status_code == 303 and r.headers["location"] == f"/videos/v1?segment={seeded[1]}"
    assert SESSION_COOKIE in r.cookies
    page = c.get(r.headers["location"])
    assert page.status_code == 200 and f'data-segment="{seeded[1]}"' in page.text
    assert c.patch(f"/api/segments/{seeded[1]}", json={"version": 1, "caption": "via slack"}).status_code == 200
    assert c.get("/api/videos/v1/history").json()["history"][0]["actor"] == "slack:U42"


def test_tampered_or_expired_link_is_refused(app_factory, make_config, seeded):
    cfg = make_config(auth={"token": TOKEN, "secret": "k" * 32, "link_ttl_s": 1})
    with TestClient(app_factory(cfg), follow_redirects=False) as c:
        url = make_edit_url(cfg, "v1", seeded[0], actor="slack:U1", base_url="")
        token = url.split("t=")[1].split("&")[0]
        tampered = url.replace(token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
        r = c.get(tampered)
        assert r.status_code == 403 and "expired" in r.text and SESSION_COOKIE not in r.cookies
        assert c.get("/api/videos/v1", params={"t": "garbage"}).status_code == 401
        time.sleep(2.2)
        r = c.get(url)
        assert r.status_code == 403 and SESSION_COOKIE not in r.cookies
        forged = make_edit_url(make_config(auth={"token": TOKEN, "secret": "other" * 8}), "v1", actor="x", base_url="")
        assert c.get(forged).status_code == 403


def test_open_mode_without_token(client, seeded):
    assert client.get("/api/videos/v1").status_code == 200
    assert client.get("/").status_code == 200
    r = client.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "local edit"})
    assert r.status_code == 200
    assert client.get("/api/videos/v1/history").json()["history"][0]["actor"] == "local"


def test_video_served_with_byte_ranges(app_factory, make_config, db, test_video, tmp_path):
    cfg = make_config(library_dir=str(test_video.parent))
    with db.connection() as conn:
        add_video(conn, "real", path=str(test_video), duration_s=10.0)
    size = test_video.stat().st_size
    with TestClient(app_factory(cfg)) as c:
        full = c.get("/media/videos/real")
        assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
        assert full.headers["content-type"] == "video/mp4" and len(full.content) == size
        part = c.get("/media/videos/real", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.headers["content-range"] == f"bytes 100-199/{size}"
        assert part.content == test_video.read_bytes()[100:200]
        tail = c.get("/media/videos/real", headers={"Range": f"bytes={size - 10}-"})
        assert tail.status_code == 206 and len(tail.content) == 10
        assert c.get("/media/videos/real", headers={"Range": f"bytes={size + 5}-"}).status_code == 416


def test_files_cannot_escape_their_folders(app_factory, make_config, db, test_video, tmp_path, tiny_embedder):
    library = tmp_path / "library"
    library.mkdir()
    (library / "inside.mp4").write_bytes(b"\x00" * 64)
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (library / "link.mp4").symlink_to(secret)
    cfg = make_config(library_dir=str(library))
    thumbs = cfg.thumbnails_path
    thumbs.mkdir(parents=True)
    (thumbs / "ok.jpg").write_bytes(b"\xff\xd8\xff\xe0jpeg")
    with db.connection() as conn:
        add_video(conn, "in", path=str(library / "inside.mp4"))
        add_video(conn, "out", path=str(test_video))
        add_video(conn, "dots", path=str(library / ".." / "secret.txt"))
        add_video(conn, "link", path=str(library / "link.mp4"))
        good = add_segment(conn, "in", 0, 1, tiny_embedder, thumbnail=str(thumbs / "ok.jpg"))
        bad = add_segment(conn, "in", 1, 2, tiny_embedder, thumbnail=str(thumbs / ".." / ".." / "secret.txt"))
        bad2 = add_segment(conn, "in", 2, 3, tiny_embedder, thumbnail=str(secret))
    with TestClient(app_factory(cfg)) as c:
        assert c.get("/media/videos/in").status_code == 200
        for vid in ("out", "dots", "link"):
            r = c.get(f"/media/videos/{vid}")
            assert r.status_code == 403 and "private" not in r.text, vid
        for url in ("/media/videos/..%2F..%2Fsecret.txt", "/media/videos/%2e%2e/secret.txt"):
            assert c.get(url).status_code == 404
        ok = c.get(f"/thumbnails/{good}.jpg")
        assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
        for sid in (bad, bad2):
            r = c.get(f"/thumbnails/{sid}.jpg")
            assert r.status_code == 404 and "private" not in r.text
        for url in ("/thumbnails/..%2Fsecret.jpg", "/thumbnails/1%2F..%2F..%2Fx.jpg", "/thumbnails/99999.jpg"):
            assert c.get(url).status_code in (404, 422), url
        assert c.get("/editor-static/..%2Fpages.py").status_code == 404


def test_thumbnails_are_public_with_token_set(app_factory, make_config, db, tiny_embedder):
    cfg = make_config(auth={"token": TOKEN})
    cfg.thumbnails_path.mkdir(parents=True)
    (cfg.thumbnails_path / "a.jpg").write_bytes(b"\xff\xd8jpeg")
    with db.connection() as conn:
        add_video(conn, "t1")
        sid = add_segment(conn, "t1", 0, 1, tiny_embedder, thumbnail=str(cfg.thumbnails_path / "a.jpg"))
    with TestClient(app_factory(cfg)) as c:
        assert c.get(f"/thumbnails/{sid}.jpg").status_code == 200
        assert c.get("/api/videos/t1").status_code == 401


def test_captions_are_escaped_in_pages(client, db, tiny_embedder):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with db.connection() as conn:
        add_video(conn, "xss", title=evil)
        add_segment(conn, "xss", 0, 2, tiny_embedder, caption=evil, caption_ko=evil)
    home = client.get("/")
    assert home.status_code == 200 and evil not in home.text and "&lt;script&gt;" in home.text
    page = client.get("/videos/xss")
    assert page.status_code == 200 and evil not in page.text and "&lt;script&gt;alert" in page.text
    found = client.get("/", params={"q": "script alert"})
    assert found.status_code == 200 and evil not in found.text
    assert client.get("/videos/none").status_code == 404


def test_home_search_box_uses_the_search(client, seeded):
    r = client.get("/", params={"q": "skateboard"})
    assert r.status_code == 200 and 'name="q"' in r.text
    assert f"/videos/v1?segment={seeded[1]}" in r.text
    assert "Stage one" in r.text

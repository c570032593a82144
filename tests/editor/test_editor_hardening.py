"""The web door under attack: cross-site writes, framing, revoked sessions and links, token guessing, tokens in
logs, the API docs' access, and a database that stops answering (issue 17, findings 2, 3, 4 and 6)."""
from __future__ import annotations

import http.server
import logging
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from core.auth import SESSION_COOKIE, make_edit_url
from tests.helpers import free_port

TOKEN = "hardening-test-token-0123"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
AUTH = {"token": TOKEN, "secret": "k" * 32}


@pytest.fixture
def secured(app_factory, make_config, seeded):
    cfg = make_config(auth=AUTH)
    with TestClient(app_factory(cfg), follow_redirects=False) as c:
        yield c, cfg


def _log_in(c, name="Jin"):
    r = c.post("/login", data={"token": TOKEN, "name": name, "next": "/"})
    assert r.status_code == 303, r.text
    return r.cookies[SESSION_COOKIE]


def _an_edit(c, segment_id) -> int:
    """Edit a caption with the bearer token; the id of the history entry it made."""
    assert c.patch(f"/api/segments/{segment_id}", json={"version": 1, "caption": "edited"},
                   headers=BEARER).status_code == 200
    return c.get("/api/videos/v1/history", headers=BEARER).json()["history"][0]["id"]


def _caption(c, segment_id) -> str:
    return c.get(f"/api/segments/{segment_id}", headers=BEARER).json()["caption"]


# ---------------------------------------------------------------- finding 2: cross-site requests and framing
@pytest.mark.parametrize("header", [{"Origin": "http://127.0.0.1:9999"}, {"Referer": "http://127.0.0.1:9999/x"},
                                    {"Origin": "https://evil.example"}, {"Origin": "null"}])
def test_a_write_from_another_origin_is_refused_and_changes_nothing(secured, seeded, header):
    c, _ = secured
    entry = _an_edit(c, seeded[0])
    _log_in(c)
    r = c.post(f"/api/history/{entry}/revert", headers=header)
    assert r.status_code == 403 and "Cross-site request refused" in r.json()["detail"]
    assert _caption(c, seeded[0]) == "edited"
    assert c.post("/logout", headers=header).status_code == 403
    assert c.get("/api/videos/v1").status_code == 200          # still logged in


def test_writes_from_the_own_pages_and_from_scripts_pass(secured, seeded):
    c, _ = secured
    entry = _an_edit(c, seeded[0])
    _log_in(c)
    assert c.post(f"/api/history/{entry}/revert", headers={"Origin": "http://testserver"}).status_code == 200
    assert _caption(c, seeded[0]) == "a girl dancing on stage"
    assert c.patch(f"/api/segments/{seeded[1]}", json={"version": 1, "caption": "by a script"},
                   headers=BEARER).status_code == 200      # no Origin, no Referer: not a browser


def test_pages_cannot_be_framed_and_allow_only_their_own_scripts(secured):
    c, _ = secured
    _log_in(c)
    for path in ("/", "/videos/v1", "/login", "/api/videos/v1"):
        r = c.get(path)
        assert r.headers["x-frame-options"] == "DENY"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["referrer-policy"] == "same-origin" and r.headers["x-content-type-options"] == "nosniff"


def test_an_oversized_body_is_refused_before_any_route_reads_it(secured, seeded):
    c, _ = secured
    r = c.patch(f"/api/segments/{seeded[0]}", content=b"x" * (2 << 20), headers=BEARER)
    assert r.status_code == 413 and "limit" in r.json()["detail"]


def test_api_docs_need_the_same_access_as_the_api_and_work_offline(secured):
    c, _ = secured
    assert c.get("/api/openapi.json").status_code == 401
    assert c.get("/api/docs").status_code == 401
    _log_in(c)
    assert "/api/search" in c.get("/api/openapi.json").json()["paths"]
    page = c.get("/api/docs")
    assert page.status_code == 200 and "cdn." not in page.text and "/api/docs-static/swagger-ui-bundle.js" in page.text
    assert "'sha256-" in page.headers["content-security-policy"]
    assert c.get("/api/docs-static/swagger-ui-bundle.js").status_code == 200


class _AttackerSite(http.server.BaseHTTPRequestHandler):
    """Pages on another port of the same host: ``/form`` auto-submits a revert, ``/frame`` frames the editor."""
    pages: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.pages.get(self.path, b""))

    def log_message(self, *args):
        pass


def test_a_same_site_page_on_another_port_cannot_revert_or_frame(browser, app_factory, make_config, seeded, serve,
                                                               artifacts_dir):
    base = serve(app_factory(make_config(auth=AUTH)))
    with httpx.Client(base_url=base) as api:
        assert api.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "edited"},
                         headers=BEARER).status_code == 200
        entry = api.get("/api/videos/v1/history", headers=BEARER).json()["history"][0]["id"]
    _AttackerSite.pages = {
        "/form": (f'<form id="f" method="post" action="{base}/api/history/{entry}/revert"></form>'
                  '<script>document.getElementById("f").submit()</script>').encode(),
        "/frame": f'<p>framed:</p><iframe id="frame" src="{base}/videos/v1" width="600" height="300">'.encode()}
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _AttackerSite)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{attacker.server_address[1]}"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=token]", TOKEN)
        page.click("form[action='/login'] button")
        page.wait_for_url(f"{base}/")
        forged = context.new_page()
        forged.goto(f"{site}/form")
        forged.wait_for_url(f"{base}/api/history/{entry}/revert")
        assert "Cross-site request refused" in forged.content()
        framing = context.new_page()
        framing.goto(f"{site}/frame")
        framing.wait_for_timeout(800)
        framing.screenshot(path=str(artifacts_dir / "framing_refused.png"))
        editor = framing.frame_locator("#frame")
        assert editor.locator("#player").count() == 0                   # the editor did not render inside
        page.goto(f"{base}/videos/v1")
        assert page.locator("header .who").inner_text() == "web:user"       # still logged in
    finally:
        context.close()
        attacker.shutdown()
    with httpx.Client(base_url=base) as api:
        assert api.get(f"/api/segments/{seeded[0]}", headers=BEARER).json()["caption"] == "edited"


# ---------------------------------------------------------------- finding 3: sessions and links revocable
def test_a_new_access_token_ends_old_sessions_and_links(app_factory, make_config, seeded):
    old = make_config(auth=AUTH)
    link = make_edit_url(old, "v1", seeded[0], actor="slack:U1", base_url="")
    with TestClient(app_factory(old), follow_redirects=False) as c:
        cookie = _log_in(c)
    new = make_config(auth={**AUTH, "token": "a-brand-new-token-456789"})
    with TestClient(app_factory(new), follow_redirects=False) as c:
        c.cookies.set(SESSION_COOKIE, cookie)
        assert c.get("/api/videos/v1").status_code == 401
        assert c.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "x"}).status_code == 401
        c.cookies.clear()
        assert c.get(link).status_code == 403
        assert c.patch(f"/api/segments/{seeded[0]}", params={"t": link.split("t=")[1].split("&")[0]},
                       json={"version": 1, "caption": "x"}).status_code == 401


def test_logout_ends_the_session_even_when_its_cookie_is_replayed(secured):
    c, _ = secured
    cookie = _log_in(c)
    assert c.get("/api/videos/v1").status_code == 200
    assert c.post("/logout").status_code == 303
    c.cookies.set(SESSION_COOKIE, cookie)
    assert c.get("/api/videos/v1").status_code == 401
    assert c.get("/videos/v1").status_code == 401


def test_a_link_for_someone_else_asks_before_switching(secured, seeded):
    c, cfg = secured
    _log_in(c, "Jin")
    link = make_edit_url(cfg, "v1", seeded[0], actor="slack:U42", base_url="")
    page = c.get(link)
    assert page.status_code == 200 and "web:Jin" in page.text and "slack:U42" in page.text
    assert c.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "still Jin"}).status_code == 200
    assert c.get("/api/videos/v1/history").json()["history"][0]["actor"] == "web:Jin"
    token = link.split("t=")[1].split("&")[0]
    r = c.post("/login/link", data={"t": token, "next": f"/videos/v1?segment={seeded[0]}"})
    assert r.status_code == 303 and r.headers["location"] == f"/videos/v1?segment={seeded[0]}"
    assert c.patch(f"/api/segments/{seeded[0]}", json={"version": 2, "caption": "now U42"}).status_code == 200
    assert c.get("/api/videos/v1/history").json()["history"][0]["actor"] == "slack:U42"


def test_link_tokens_do_not_reach_the_access_log(app_factory, make_config, seeded, serve, capfd):
    cfg = make_config(auth=AUTH)
    base = serve(app_factory(cfg))
    link = make_edit_url(cfg, "v1", seeded[0], actor="slack:U1", base_url=base)
    token = link.split("t=")[1].split("&")[0]
    access = logging.getLogger("uvicorn.access")
    level = access.level
    access.setLevel(logging.INFO)
    try:
        assert httpx.get(link).status_code == 303
        assert httpx.get(f"{base}/api/videos/v1", params={"t": token}).status_code == 200
        time.sleep(0.2)
    finally:
        access.setLevel(level)
    logged = capfd.readouterr()
    lines = [line for line in (logged.out + logged.err).splitlines() if '"GET ' in line]
    assert len(lines) == 2 and all(token not in line for line in lines)
    assert all("t=[redacted]" in line for line in lines)


# ---------------------------------------------------------------- finding 4: guessing the token
def test_wrong_tokens_lock_the_client_out_for_a_growing_time(secured):
    c, _ = secured
    answers = [c.post("/login", data={"token": f"guess-{i}", "next": "/"}).status_code for i in range(6)]
    assert answers == [401] * 5 + [429]
    locked = c.post("/login", data={"token": TOKEN, "next": "/"})       # even the right token waits
    assert locked.status_code == 429 and locked.headers["retry-after"] == "1" and "try again" in locked.text
    assert c.get("/api/videos/v1", headers=BEARER).status_code == 429    # the bearer header counts the same
    time.sleep(1.1)
    assert c.post("/login", data={"token": "guess-6", "next": "/"}).status_code == 429
    wait = int(c.post("/login", data={"token": TOKEN, "next": "/"}).headers["retry-after"])
    assert wait == 2                                                     # 1 s, then 2 s, 4 s, …
    time.sleep(wait + 0.1)
    assert c.post("/login", data={"token": TOKEN, "next": "/"}).status_code == 303
    assert [c.post("/login", data={"token": f"again-{i}", "next": "/"}).status_code for i in range(5)] == [401] * 5


def test_wrong_bearer_tokens_are_counted_too(secured):
    c, _ = secured
    assert [c.get("/api/videos", headers={"Authorization": f"Bearer no-{i}"}).status_code
            for i in range(6)] == [401] * 5 + [429]


# ---------------------------------------------------------------- finding 6: the database stops answering
def test_with_the_database_down_requests_fail_fast_and_recover(tmp_path, app_factory, make_config, tiny_embedder):
    import pgserver
    from pgserver._commands import pg_ctl

    from app import create_app
    from db import Database
    from tests.factories import add_segment, add_video

    srv = pgserver.get_server(tmp_path / "pgdata", cleanup_mode="delete")
    database = Database(srv.get_uri(), min_size=1, max_size=4)
    try:
        with database.connection() as conn:
            add_video(conn, "v1", title="Stage one", duration_s=60.0)
            add_segment(conn, "v1", 0.0, 4.0, tiny_embedder, caption="a girl dancing on stage")
        app = create_app(make_config(auth=AUTH), db=database, embedder=tiny_embedder)
        with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
            assert c.get("/api/videos/v1", headers=BEARER).status_code == 200
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=srv.pgdata, user=srv.system_user)
            for path in ("/api/videos/v1", "/api/search?q=dancing", "/videos/v1", "/"):
                started = time.monotonic()
                r = c.get(path, headers=BEARER)
                took = time.monotonic() - started
                assert r.status_code == 503 and took < 2.5, (path, r.status_code, took)
                assert "database is not answering" in r.text
            assert c.get("/healthz").status_code == 503
            srv.ensure_postgres_running()
            deadline = time.monotonic() + 30
            while c.get("/api/videos/v1", headers=BEARER).status_code != 200:
                assert time.monotonic() < deadline, "the app did not reconnect to the database"
                time.sleep(0.2)
            assert c.get("/api/search", params={"q": "dancing"}, headers=BEARER).json()["results"]
    finally:
        database.close()
        srv.cleanup()


def test_an_open_server_answers_only_to_its_own_names(app_factory, make_config, seeded):
    """Without a token every caller is trusted: a site re-pointing its name at 127.0.0.1 (DNS rebinding) is not."""
    with TestClient(app_factory(make_config()), base_url="http://evil.example:8000") as c:
        r = c.delete("/api/videos/v2", headers={"Origin": "http://evil.example:8000"})
        assert r.status_code == 400 and "server.allowed_hosts" in r.json()["detail"]
        assert c.get("/api/videos").status_code == 400
    with TestClient(app_factory(make_config()), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/videos").status_code == 200


def test_a_malformed_origin_is_refused_not_a_500(secured):
    c, _ = secured
    for origin in ("http://a:99999", "http://[::1", "http://x:abc"):
        assert c.post("/logout", headers={"Origin": origin}).status_code == 403


def test_parallel_guesses_are_counted_one_by_one(secured):
    """Twenty wrong tokens at the same moment: only the free ones are compared, the rest wait their turn."""
    from concurrent.futures import ThreadPoolExecutor

    c, _ = secured
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda i: c.get("/api/videos", headers={"Authorization": f"Bearer no-{i}"}).status_code,
                              range(20)))
    assert codes.count(401) == 5 and codes.count(429) == 15


def test_the_lock_out_stays_bounded_however_many_guesses(db):
    from db import access

    with db.connection() as conn:
        conn.execute("INSERT INTO auth_failures (client, failures) VALUES ('10.0.0.9', 5000)")
        assert access.record_failure(conn, "10.0.0.9", free=5, max_lock_s=900.0) == 900.0


def test_database_failures_are_named_by_their_kind():
    import psycopg
    from psycopg_pool import PoolTimeout

    from db.database import database_error

    busy = database_error(PoolTimeout("couldn't get a connection after 2.00 sec"))
    assert busy.status_code == 503 and busy.retry_after == 1 and "came free" in busy.message
    down = database_error(psycopg.OperationalError("connection refused"))
    assert down.status_code == 503 and "not answering" in down.message
    assert database_error(psycopg.errors.DeadlockDetected("deadlock")).status_code == 409

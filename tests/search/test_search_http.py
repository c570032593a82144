"""GET /api/search over real HTTP (TestClient and uvicorn): shape, clamping, auth, bad input never a 500."""
import httpx
import pytest
from fastapi.testclient import TestClient

BAD_QUERIES = [
    "",
    "   ",
    "skateboard " * 1000,                               # ~11k characters
    "'; DROP TABLE segments; --",
    "1' OR '1'='1",
    "a & b | !c:* <-> (d)",                             # tsquery operators
    "😀🔥🛹",
    "해린이 🛹",
    "\x00null\x00byte",
    "%00%ff",
    "SELECT * FROM pg_catalog.pg_user",
    "😀" * 3000,
]


@pytest.fixture
def web(app_factory, make_config, library, minilm_embedder):
    with TestClient(app_factory(make_config(), embedder=minilm_embedder)) as c:
        yield c


def test_bad_queries_answer_sensibly(web, library):
    for q in BAD_QUERIES:
        r = web.get("/api/search", params={"q": q})
        assert r.status_code == 200, (q[:40], r.text)
        body = r.json()
        assert set(body) >= {"query", "results", "next_offset", "summary", "notice"}
        assert len(body["query"]) <= 500
        if not q.strip():
            assert body["results"] == [] and body["notice"]
    huge = web.get("/api/search", params={"q": "skateboard " * 1000}).json()
    assert "shortened" in huge["notice"]
    assert huge["results"][0]["caption"] == "a girl rides a skateboard down the street"


def test_sql_looking_query_leaves_the_library_intact(web, library):
    web.get("/api/search", params={"q": "x'); DELETE FROM segments; --"})
    r = web.get("/api/search", params={"q": "a dog on the beach"})
    assert r.json()["results"][0]["segment_id"] == library["a dog runs along the beach chasing a ball"]


PARAMS = [
    ({"q": "a girl", "limit": "0"}, 200, 1),
    ({"q": "a girl", "limit": "1000"}, 200, 18),
    ({"q": "a girl", "limit": "-3", "offset": "-7"}, 200, 1),
    ({"q": "a girl", "offset": "99999999"}, 200, 0),
    ({"q": "a girl", "limit": "abc"}, 422, None),
    ({"q": "skateboard", "member": "Nobody"}, 200, 0),
    ({"q": "skateboard", "video": "no-such-video"}, 200, 0),
    ({"q": "skateboard", "member": "해린"}, 200, 3),
    ({"q": "", "video": "v3"}, 200, 6),
]


def test_parameters_are_clamped_or_rejected_cleanly(web, library):
    for params, status, count in PARAMS:
        r = web.get("/api/search", params=params)
        assert r.status_code == status, (params, r.text)
        if count is not None:
            assert len(r.json()["results"]) == count, params


def test_search_over_a_real_socket_with_token_auth(app_factory, make_config, library, minilm_embedder, serve):
    base = serve(app_factory(make_config(auth={"token": "s3cret-token-for-tests"}, public_url="https://clips.example"),
                             embedder=minilm_embedder))
    assert httpx.get(f"{base}/api/search", params={"q": "dog"}).status_code == 401
    r = httpx.get(f"{base}/api/search", params={"q": "a cat napping", "limit": 2},
                  headers={"Authorization": "Bearer s3cret-token-for-tests"})
    assert r.status_code == 200
    body = r.json()
    assert body["results"][0]["segment_id"] == library["a cat sleeps on a sunny windowsill"]
    assert body["results"][0]["edit_url"].startswith("https://clips.example/videos/v1?")
    assert body["next_offset"] == 2


def test_thumbnail_url_only_when_the_segment_has_one(app_factory, make_config, db, minilm_embedder):
    from tests.factories import add_segment, add_video

    with db.connection() as conn:
        add_video(conn, "t", "T")
        with_thumb = add_segment(conn, "t", 0, 3, minilm_embedder, caption="a lighthouse at dusk", thumbnail="x.jpg")
        add_segment(conn, "t", 5, 8, minilm_embedder, caption="a lighthouse at dawn")
    with TestClient(app_factory(make_config(public_url="https://p.example/"), embedder=minilm_embedder)) as c:
        results = c.get("/api/search", params={"q": "lighthouse"}).json()["results"]
    urls = {r["segment_id"]: r["thumbnail_url"] for r in results}
    assert urls[with_thumb] == f"https://p.example/thumbnails/{with_thumb}.jpg"
    assert list(urls.values()).count(None) == 1

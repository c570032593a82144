"""Gemini through the real google-genai SDK against a local fake server: translation, cache, summary, failures."""
import time

from fastapi.testclient import TestClient

from core.gemini import translator_from_config
from search.service import search_segments
from tests.helpers import free_port


def test_captions_translated_cached_and_summarised(gemini_ctx, library, fake_gemini):
    out = search_segments(gemini_ctx, "a cat napping", limit=3)
    assert out["notice"] is None
    assert out["results"][0]["caption_ko"] == "[ko] a cat sleeps on a sunny windowsill"
    assert all(r["caption_ko"] == "[ko] " + r["caption"] for r in out["results"])
    assert out["summary"].startswith("'a cat napping' 검색 결과 3개")   # model text is data; renderers escape it
    assert fake_gemini.tasks() == ["translate:ko", "summary:"]
    assert fake_gemini.requests[0]["model"] == "gemini-2.5-flash"
    with gemini_ctx.db.connection() as conn:
        rows = conn.execute("SELECT model, target_lang, source_text, translated FROM translations").fetchall()
    assert sorted(r["target_lang"] for r in rows) == ["ko", "ko", "ko", "summary:ko"]
    assert {r["model"] for r in rows} == {"gemini-2.5-flash"}

    fake_gemini.requests.clear()
    again = search_segments(gemini_ctx, "a cat napping", limit=3)
    assert [r["caption_ko"] for r in again["results"]] == [r["caption_ko"] for r in out["results"]]
    assert again["summary"] == out["summary"]
    assert fake_gemini.tasks() == []                    # captions and summary came from the cache
    search_segments(gemini_ctx, "a cat napping", limit=2)
    assert fake_gemini.tasks() == ["summary:"]          # other results: another summary


def test_korean_query_is_also_searched_in_english(gemini_ctx, ctx, library, fake_gemini):
    out = search_segments(gemini_ctx, "고양이가 자는 모습", limit=3)
    assert out["query_en"] == "a cat sleeping"
    assert out["results"][0]["segment_id"] == library["a cat sleeps on a sunny windowsill"]
    assert out["results"][0]["confidence"] == "high"
    assert fake_gemini.tasks()[0] == "translate:en"
    fake_gemini.requests.clear()
    search_segments(gemini_ctx, "고양이가 자는 모습", limit=3)
    assert "translate:en" not in fake_gemini.tasks()    # the query translation is cached too
    # Without Gemini the English MiniLM cannot read Korean: the same query does not find the cat.
    plain = search_segments(ctx, "고양이가 자는 모습", limit=3)
    assert plain["query_en"] is None and plain["results"][0]["confidence"] != "high"


def test_member_name_stays_a_filter_with_translation(gemini_ctx, library, fake_gemini):
    out = search_segments(gemini_ctx, "해린이 스케이트보드 타는 장면", limit=5)
    assert out["members"] == ["해린"]
    assert out["query_en"] == "a scene of someone riding a skateboard"
    assert out["results"][0]["segment_id"] == library["a girl rides a skateboard down the street"]
    assert all("해린" in r["members"] for r in out["results"])


def test_quota_error_answers_in_english_with_notice(gemini_ctx, library, fake_gemini):
    fake_gemini.mode = "quota"
    out = search_segments(gemini_ctx, "a cat napping", limit=3)
    assert out["results"][0]["segment_id"] == library["a cat sleeps on a sunny windowsill"]
    assert all(r["caption_ko"] is None for r in out["results"])
    assert out["summary"] is None and "quota" in out["notice"]
    assert len(fake_gemini.requests) == 1                # no more calls after the first failure


def test_timeout_is_enforced(gemini_ctx, library, fake_gemini):
    fake_gemini.mode = "slow"
    t0 = time.perf_counter()
    out = search_segments(gemini_ctx, "a cat napping", limit=3)
    assert time.perf_counter() - t0 < 2.9
    assert out["results"] and out["summary"] is None and "timed out" in out["notice"]


def test_total_gemini_time_is_bounded(gemini_ctx, library, fake_gemini):
    fake_gemini.mode, fake_gemini.delay = "slow", 0.6     # each call fits the 1 s timeout, three would not
    out = search_segments(gemini_ctx, "고양이가 자는 모습", limit=3)
    assert out["query_en"] == "a cat sleeping" and out["results"][0]["caption_ko"].startswith("[ko] ")
    assert out["summary"] is None and "slow" in out["notice"]
    assert fake_gemini.tasks() == ["translate:en", "translate:ko"]


def test_unusable_answer_and_unreachable_server(gemini_ctx, library, fake_gemini, make_config, db, minilm_embedder):
    fake_gemini.mode = "garbage"
    out = search_segments(gemini_ctx, "a cat napping", limit=3)
    assert out["results"] and "unusable" in out["notice"]
    from core.context import AppContext

    cfg = make_config(gemini={"api_key": "test-key", "base_url": f"http://127.0.0.1:{free_port()}", "timeout_s": 1})
    down = AppContext(config=cfg, db=db, embedder=minilm_embedder, translator=translator_from_config(cfg))
    out = search_segments(down, "a cat napping", limit=3)
    assert out["results"][0]["segment_id"] == library["a cat sleeps on a sunny windowsill"]
    assert "unreachable" in out["notice"] and out["results"][0]["caption_ko"] is None


def test_wrong_key_and_http_route_use_the_configured_translator(app_factory, make_config, library, minilm_embedder,
                                                                fake_gemini):
    cfg = make_config(gemini={"api_key": "test-key", "base_url": fake_gemini.url, "timeout_s": 2})
    with TestClient(app_factory(cfg, embedder=minilm_embedder)) as c:
        body = c.get("/api/search", params={"q": "fireworks", "limit": 1}).json()
    assert body["results"][0]["caption_ko"] == "[ko] fireworks explode over the city at night"
    assert body["summary"] and body["notice"] is None
    bad = make_config(gemini={"api_key": "wrong", "base_url": fake_gemini.url, "timeout_s": 2})
    with TestClient(app_factory(bad, embedder=minilm_embedder)) as c:
        cached = c.get("/api/search", params={"q": "fireworks", "limit": 1}).json()
        body = c.get("/api/search", params={"q": "a cat napping", "limit": 1}).json()
    assert cached["summary"] and cached["results"][0]["caption_ko"] and cached["notice"] is None  # no call needed
    assert body["results"] and body["summary"] is None and "API key" in body["notice"]

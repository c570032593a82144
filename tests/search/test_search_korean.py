"""Korean that works: Korean captions are searched by their words, `indexer translate` fills them through Gemini
(cached, resumable), and a local model can translate queries for teams without Gemini."""
from __future__ import annotations

import pytest

from core.context import AppContext
from core.query_translation import Seq2SeqQueryTranslator, query_translator_from_config
from search.service import search_segments
from tests.factories import add_segment, add_video


@pytest.fixture
def korean_library(db, minilm_embedder):
    with db.connection() as conn:
        add_video(conn, "k1", "Vlog")
        ids = {
            "beach": add_segment(conn, "k1", 0, 4, minilm_embedder, caption="a dog runs along the beach",
                                 caption_ko="강아지가 해변을 달린다"),
            "pasta": add_segment(conn, "k1", 4, 8, minilm_embedder, caption="a man cooks pasta in a kitchen"),
            "stage": add_segment(conn, "k1", 8, 12, minilm_embedder, caption="a girl dances on a stage"),
            "korean": add_segment(conn, "k1", 12, 16, minilm_embedder, caption="소녀가 피아노를 친다"),
            "typed": add_segment(conn, "k1", 16, 20, minilm_embedder, caption="a cat sleeps on a sofa",
                                 caption_ko="소파에서 자는 고양이 (편집자)"),
        }
    return ids


def test_korean_captions_are_found_by_their_words(ctx, korean_library):
    out = search_segments(ctx, "해변을 달리는 강아지", limit=3)        # the English MiniLM cannot read this
    top = out["results"][0]
    assert top["segment_id"] == korean_library["beach"]
    assert top["confidence"] in ("high", "medium") and not out["no_match"]
    assert any(w.startswith("words in the Korean caption:") for w in top["why"])
    assert top["snippet"]["field"] == "Korean caption"
    assert [top["snippet"]["text"][a:b] for a, b in top["snippet"]["marks"]] == ["강아지가", "해변을"]


def test_translate_fills_korean_captions_in_batches_and_resumes_after_quota(
        write_config, db, korean_library, fake_gemini, minilm_dir, capsys):
    from indexer.cli import main

    cfg = write_config(gemini={"api_key": "test-key", "base_url": fake_gemini.url, "timeout_s": 2.0},
                       models={"embedding": str(minilm_dir)})
    args = ["translate", "--batch", "1", "--config", str(cfg), "--no-progress"]
    fake_gemini.quota_after = 1
    assert main(args) == 1
    assert "quota" in capsys.readouterr().err.lower()
    assert _korean(db) == {korean_library["beach"]: "강아지가 해변을 달린다",
                           korean_library["pasta"]: "[ko] a man cooks pasta in a kitchen",
                           korean_library["typed"]: "소파에서 자는 고양이 (편집자)"}      # the first batch is kept
    fake_gemini.quota_after, fake_gemini.mode = None, "ok"
    fake_gemini.requests.clear()
    assert main(args) == 0
    assert "1 added" in capsys.readouterr().out
    assert [r["texts"] for r in fake_gemini.requests] == [["a girl dances on a stage"]]   # only what was missing
    korean = _korean(db)
    assert korean[korean_library["stage"]] == "[ko] a girl dances on a stage"
    assert korean_library["korean"] not in korean                                  # already Korean: left alone
    with db.connection() as conn:
        row = conn.execute("SELECT version, search_text FROM segments WHERE id = %s",
                           (korean_library["stage"],)).fetchone()
    assert row["version"] == 2 and "[ko] a girl dances on a stage" in row["search_text"]
    fake_gemini.requests.clear()
    assert main(args) == 0 and fake_gemini.requests == []                           # nothing left to do


def test_translate_without_gemini_or_with_an_unknown_video_says_what_to_do(write_config, db, fake_gemini, capsys):
    from indexer.cli import main

    assert main(["translate", "--config", str(write_config())]) == 2
    assert "gemini.api_key" in capsys.readouterr().err
    cfg = write_config(gemini={"api_key": "test-key", "base_url": fake_gemini.url})
    assert main(["translate", "nope", "--config", str(cfg)]) == 2
    assert "'nope' does not exist" in capsys.readouterr().err


def test_a_local_model_translates_korean_queries(db, make_config, minilm_embedder, korean_library, tiny_marian_dir):
    cfg = make_config(models={"query_translator": str(tiny_marian_dir)})
    translator = query_translator_from_config(cfg)
    assert isinstance(translator, Seq2SeqQueryTranslator)
    ctx = AppContext(config=cfg, db=db, embedder=minilm_embedder, query_translator=translator)
    out = search_segments(ctx, "고양이가 자는 모습", limit=3)
    english = translator.translate(["고양이가 자는 모습"])[0]      # a random tiny model: its own "English"
    assert out["query_en"] == english and out["results"]
    with db.connection() as conn:
        cached = conn.execute("SELECT translated FROM translations WHERE model = %s AND target_lang = 'en'",
                              (str(tiny_marian_dir),)).fetchall()
    assert [r["translated"] for r in cached] == [english]


def test_a_missing_query_translator_is_a_notice_not_a_failure(db, make_config, minilm_embedder, korean_library,
                                                             tmp_path):
    cfg = make_config(models={"query_translator": str(tmp_path / "no-such-model")})
    ctx = AppContext(config=cfg, db=db, embedder=minilm_embedder, query_translator=query_translator_from_config(cfg))
    out = search_segments(ctx, "해변을 달리는 강아지", limit=3)
    assert out["results"][0]["segment_id"] == korean_library["beach"]
    assert "could not be translated" in out["notice"] and "query_translator" in out["notice"]


@pytest.mark.parametrize("query", ["asdfghjkl qwerty", "quantum chromodynamics lecture"])
def test_a_query_that_matches_nothing_says_so(ctx, library, query):
    out = search_segments(ctx, query, limit=5)
    assert out["no_match"] and out["notice"].endswith("No close match; nearest moments:")
    assert out["results"] and {r["confidence"] for r in out["results"]} == {"low"}


def _korean(db) -> dict[int, str]:
    with db.connection() as conn:
        rows = conn.execute("SELECT id, caption_ko FROM segments WHERE caption_ko IS NOT NULL").fetchall()
    return {r["id"]: r["caption_ko"] for r in rows}

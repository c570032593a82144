"""A query is embedded once: the next page, "More results" and a repeated search reuse its vector."""
import numpy as np

from core.context import AppContext
from core.embedding import QueryVectors
from search.service import search_segments


class CountingEmbedder:
    """The real MiniLM, counting the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts += texts
        return self.inner.embed(texts)

    embed_query = embed


def test_next_page_and_repeated_search_reuse_the_query_vector(db, make_config, library, minilm_embedder):
    counting = CountingEmbedder(minilm_embedder)
    ctx = AppContext(config=make_config(), db=db, embedder=counting)
    first = search_segments(ctx, "a kitten napping by the window", limit=3)
    second = search_segments(ctx, "a kitten napping by the window", limit=3, offset=first["next_offset"])
    again = search_segments(ctx, "a kitten napping by the window", limit=3)
    assert counting.texts == ["a kitten napping by the window"]
    assert first["results"][0]["segment_id"] == library["a cat sleeps on a sunny windowsill"]
    assert [r["segment_id"] for r in again["results"]] == [r["segment_id"] for r in first["results"]]
    assert not {r["segment_id"] for r in first["results"]} & {r["segment_id"] for r in second["results"]}
    search_segments(ctx, "fireworks at night", limit=3)
    assert counting.texts == ["a kitten napping by the window", "fireworks at night"]


def test_query_vectors_keep_the_most_recent_texts(minilm_embedder):
    counting = CountingEmbedder(minilm_embedder)
    cache = QueryVectors(counting, size=2)
    a = cache.embed(["dog", "cat"])
    assert np.allclose(a, minilm_embedder.embed(["dog", "cat"]), atol=1e-6)
    cache.embed(["dog"])                      # cached, and now the most recent
    cache.embed(["bird"])                     # evicts "cat", the least recently used
    cache.embed(["dog", "cat", "cat"])
    assert counting.texts == ["dog", "cat", "bird", "cat"]
    a[0] = 0                                  # the caller's array is its own: the cache is not changed
    assert np.allclose(cache.embed(["dog"])[0], minilm_embedder.embed(["dog"])[0], atol=1e-6)

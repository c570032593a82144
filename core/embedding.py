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


class SentenceTransformerEmbedder:
    def __init__(self, model: str, device: str = "cpu", threads: int | None = 1, batch_size: int = 64):
        self.name = model
        self._batch_size = batch_size
        if threads:
            import torch

            torch.set_num_threads(threads)
        from sentence_transformers import SentenceTransformer

        local = Path(model).expanduser()
        if local.exists() and not local.is_dir():
            raise ModelUnavailable(f"models.embedding = {model!r} is a file; it must be a model folder or a hub name")
        try:
            self._model = SentenceTransformer(str(local) if local.is_dir() else model, device=device)
        except Exception as err:  # hub unreachable, missing files, bad folder: all end here
            raise ModelUnavailable(
                f"Cannot load the embedding model {model!r} ({type(err).__name__}: {str(err).splitlines()[0][:200]}). "
                "Fix: download it once with network access (it is cached by sentence-transformers), or set "
                "models.embedding to a local sentence-transformers folder."
            ) from err
        self.dim = int(self._model.get_embedding_dimension())
        max_len = int(getattr(self._model, "max_seq_length", 128) or 128)
        # Words to tokens is roughly 1:1.5 for English and worse for Korean; stay well inside the window.
        self._words_per_chunk = max(8, int(max_len * 0.5))

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        chunks: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            for c in chunk_words(text or "", self._words_per_chunk):
                chunks.append(c)
                owners.append(i)
        vecs = self._model.encode(chunks, batch_size=self._batch_size, convert_to_numpy=True,
                                  show_progress_bar=False, normalize_embeddings=True)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vecs.astype(np.float32))
        return _normalise(out)


class LazyEmbedder:
    """Loads the configured embedder on first use, once per process, thread-safely."""

    def __init__(self, model: str, device: str = "cpu", threads: int | None = 1):
        self.name = model
        self._args = (model, device, threads)
        self._lock = threading.Lock()
        self._inner: SentenceTransformerEmbedder | None = None

    def load(self) -> SentenceTransformerEmbedder:
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = SentenceTransformerEmbedder(*self._args)
        return self._inner

    @property
    def dim(self) -> int:
        return self.load().dim

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.load().embed(texts)


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
            fresh = dict(zip(missing, self.embedder.embed(missing)))
            with self._lock:
                for t, vec in fresh.items():
                    self._vectors[t] = vec
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
            found.update(fresh)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)


def embedder_from_config(cfg) -> LazyEmbedder:
    model = cfg.models.embedding
    local = Path(model).expanduser()
    if not local.is_absolute() and (cfg.base_dir / local).is_dir():
        model = str((cfg.base_dir / local).resolve())
    return LazyEmbedder(model, device=cfg.models.device, threads=cfg.models.threads)

"""How a query's meaning scores spread over the library, so that one cosine can be judged for every model.

Cosines of different embedding models live on different scales (multilingual-e5's cosines sit between 0.7 and
0.9 for everything, MiniLM's between 0 and 0.7), and so do different queries of one model. Search therefore
measures a candidate's cosine in units of the query's own spread over typical segments:
``z = (cosine − median) / (1.4826 × MAD)`` of the query's cosines to a reference set made of

- a random sample of the library's segments (``SAMPLE_SIZE`` embeddings, read by random ids, kept per database
  and model for ``TTL_S`` seconds), and
- ``BACKGROUND``: everyday scene captions, embedded once per model and process, so that a small library (a new
  one, a test's) is judged on the same scale as a large one.

Median and MAD rather than mean and standard deviation: the segments that do match the query are part of the
sample, and must not widen the scale they are measured by.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from search import retrieval

SAMPLE_SIZE = 512
TTL_S = 600.0
MIN_STD = 1e-3
MAX_COUNTS = 100_000

BACKGROUND = [
    "A man is walking down the street.", "A woman is talking on the phone.", "Two people are sitting at a table.",
    "A group of people are standing outside.", "A child is playing in the yard.", "A car is driving on the road.",
    "A person is cooking in the kitchen.", "People are dancing at a party.", "A woman is reading a newspaper.",
    "A man is typing on a laptop.", "A dog is sleeping on the floor.", "The camera shows a city at night.",
    "A girl is brushing her hair.", "A boy is riding a bicycle.", "A crowd is waiting at the station.",
    "Someone is opening a door.", "A woman is drinking coffee.", "A man is fixing a machine.",
    "Two friends are laughing together.", "A teacher is writing on a board.", "A band is playing music on stage.",
    "A person is shopping in a store.", "The sun is setting over the hills.", "A man is running in the rain.",
    "People are eating dinner together.", "A woman is painting a picture.", "A singer is holding a microphone.",
    "A family is watching television.", "A person is washing the dishes.", "A cat is looking out of a box.",
    "Students are sitting in a classroom.", "A man is carrying a box.", "A woman is waving her hand.",
    "A bus stops at the corner.", "Two people are shaking hands.", "A man is climbing the stairs.",
    "A person is taking off a jacket.", "A group is watching a show.", "The room is dark and empty.",
    "A woman is smiling at the camera.", "A man is sitting alone on a sofa.", "Kids are running in a hallway.",
    "A person is pouring water into a glass.", "The video shows a close-up of a face.", "A man is driving a truck.",
    "A woman is putting on makeup.", "People are clapping their hands.", "A man is sleeping on a train.",
    "A person is writing in a notebook.", "Two women are walking in a mall.", "A man is reading a menu.",
    "Someone is playing a video game.", "A woman is holding a baby.", "A man is cleaning a window.",
    "A person is tying their shoes.", "The crowd cheers loudly.", "A man is speaking to an audience.",
    "A woman is packing a suitcase.", "Rain is falling on the street.", "A person is looking at a map.",
    "남자가 길을 걷고 있다.", "여자가 전화를 하고 있다.", "사람들이 식탁에 앉아 있다.",
    "아이가 마당에서 놀고 있다.", "사람들이 파티에서 춤을 춘다.", "남자가 노트북으로 일을 한다.",
    "여자가 카메라를 보며 웃는다.", "관객이 박수를 친다.",
]

_lock = threading.Lock()
_samples: dict[tuple[str, str], tuple[float, np.ndarray, bool]] = {}    # (time, reference, has library part)
_backgrounds: dict[str, np.ndarray] = {}
_counts: dict[tuple[str, str], tuple[float, int]] = {}
_sizes: dict[str, tuple[float, int]] = {}
_common: dict[str, tuple[float, frozenset[str]]] = {}


def _db_key(db) -> str:
    return getattr(db, "url", str(id(db)))


def reference(db, embedder) -> np.ndarray:
    """The embeddings a query's cosines are compared with: a sample of the library's segments (refreshed after
    ``TTL_S``; retried while the library has none) stacked with the background, kept as one array."""
    key = (_db_key(db), embedder.name)
    with _lock:
        cached = _samples.get(key)
    if cached is not None and time.monotonic() - cached[0] < TTL_S and cached[2]:
        return cached[1]
    background = _background(embedder)
    with db.connection() as conn:
        sample = retrieval.sample_embeddings(conn, SAMPLE_SIZE)
    usable = sample.size > 0 and sample.shape[1] == background.shape[1]
    stacked = np.vstack([sample, background]) if usable else background
    with _lock:
        _samples[key] = (time.monotonic(), stacked, usable)
    return stacked


def _background(embedder) -> np.ndarray:
    """``BACKGROUND`` embedded by this model, once per process."""
    with _lock:
        background = _backgrounds.get(embedder.name)
    if background is None:
        background = np.asarray(embedder.embed(BACKGROUND), dtype=np.float32)
        with _lock:
            _backgrounds[embedder.name] = background
    return background


def word_counts(db, tokens: list[str]) -> tuple[dict[str, int], int]:
    """On how many segments each token occurs (capped: ``retrieval.document_counts``), and the library's size;
    kept per database for ``TTL_S`` seconds like the sample (word weights need their order of magnitude, not
    the last edit)."""
    url, now = _db_key(db), time.monotonic()
    with _lock:
        known = {t: c for t in tokens if (c := _counts.get((url, t))) and now - c[0] < TTL_S}
        size = _sizes.get(url)
    missing = [t for t in dict.fromkeys(tokens) if t not in known]
    if missing or size is None or now - size[0] >= TTL_S:
        with db.connection() as conn:
            fresh = retrieval.document_counts(conn, missing) if missing else {}
            size = (now, retrieval.library_size(conn))
        with _lock:
            if len(_counts) > MAX_COUNTS:               # query words come from users: keep the cache bounded
                _counts.clear()
            _counts.update({(url, t): (now, n) for t, n in fresh.items()})
            _sizes[url] = size
        known.update({t: (now, n) for t, n in fresh.items()})
    return {t: c[1] for t, c in known.items()}, size[1]


def common_words(db) -> frozenset[str]:
    """The words too common to rank by (``retrieval.common_words``), kept per database for ``TTL_S`` seconds: they
    come from ANALYZE's statistics, which change no faster."""
    url, now = _db_key(db), time.monotonic()
    with _lock:
        known = _common.get(url)
    if known is None or now - known[0] >= TTL_S:
        with db.connection() as conn:
            known = (now, frozenset(retrieval.common_words(conn)))
        with _lock:
            _common[url] = known
    return known[1]


def spread(reference_vectors: np.ndarray, qvec: np.ndarray) -> tuple[float, float]:
    """(median, 1.4826 × MAD) of the query's cosine over the reference set; (0, 1) when it is unusable."""
    if reference_vectors.size == 0 or reference_vectors.shape[1] != qvec.shape[0]:
        return 0.0, 1.0
    cos = reference_vectors @ qvec
    center = float(np.median(cos))
    return center, max(1.4826 * float(np.median(np.abs(cos - center))), MIN_STD)

"""Fixtures for the search tests: a small hand-made library embedded with the real MiniLM."""
from __future__ import annotations

import pytest

from core.context import AppContext
from tests.factories import add_member, add_segment, add_video

# (video, start, end, auto caption, members {name: face confidence}, extra kwargs)
LIBRARY = [
    ("v1", 0, 4, "a dog runs along the beach chasing a ball", {}, {}),
    ("v1", 4, 8, "a man cooks pasta in a small kitchen", {}, {}),
    ("v1", 8, 12, "fireworks explode over the city at night", {}, {}),
    ("v1", 12, 16, "a woman plays the piano on a dark stage", {"민지": 0.81}, {}),
    ("v1", 16, 20, "children build a snowman in the park", {}, {}),
    ("v1", 20, 24, "a cat sleeps on a sunny windowsill", {}, {}),
    ("v2", 0, 5, "a girl rides a skateboard down the street", {"해린": 0.88}, {}),
    ("v2", 5, 10, "a girl eats ice cream and laughs", {"해린": 0.74}, {}),
    ("v2", 10, 15, "two dancers rehearse choreography in a mirror room", {"해린": 0.67, "민지": 0.9}, {}),
    ("v2", 15, 20, "a crowd cheers and waves light sticks at a concert", {}, {}),
    ("v2", 20, 25, "a reporter interviews a singer backstage with a microphone", {"민지": 0.77}, {}),
    ("v2", 25, 30, "rain falls on umbrellas on a busy crosswalk", {}, {}),
    ("v3", 0, 6, "a chef slices vegetables on a wooden board", {}, {}),
    ("v3", 6, 12, "a red sports car drives fast on a mountain road", {}, {}),
    ("v3", 12, 18, "a girl skateboards in an empty parking lot", {"민지": 0.7}, {}),
    ("v3", 18, 24, "an old man feeds pigeons in a square", {}, {}),
    ("v3", 24, 30, "waves crash against rocks under a grey sky", {}, {}),
    ("v3", 30, 36, "a band plays guitar and drums in a garage", {}, {}),
]


@pytest.fixture
def library(db, minilm_embedder):
    """The hand-made library; returns {auto caption: segment id}."""
    ids = {}
    with db.connection() as conn:
        for vid, title in (("v1", "Daily clips"), ("v2", "Haerin vlog"), ("v3", "Street life")):
            add_video(conn, vid, title)
        add_member(conn, "해린", ["Haerin", "Kang Haerin"])
        add_member(conn, "민지", ["Minji"])
        for vid, start, end, caption, members, extra in LIBRARY:
            ids[caption] = add_segment(conn, vid, start, end, minilm_embedder, caption=caption, members=members,
                                       **extra)
    return ids


@pytest.fixture
def ctx(db, minilm_embedder, make_config):
    return AppContext(config=make_config(), db=db, embedder=minilm_embedder, translator=None)


@pytest.fixture
def fake_gemini():
    from tests.search.fake_gemini import FakeGemini

    fake = FakeGemini()
    yield fake
    fake.close()


@pytest.fixture
def gemini_ctx(db, minilm_embedder, make_config, fake_gemini):
    """A context whose translator is built from the config, pointing at the fake server."""
    from core.gemini import translator_from_config

    cfg = make_config(gemini={"api_key": "test-key", "base_url": fake_gemini.url, "timeout_s": 1.0})
    return AppContext(config=cfg, db=db, embedder=minilm_embedder, translator=translator_from_config(cfg))

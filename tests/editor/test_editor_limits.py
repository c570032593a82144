"""Bounded work per request: texts are limited at the edge, and a slow embedding holds no library-wide lock."""
from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from edits.operations import CAPTION_MAX, update_segment


class SlowEmbedder:
    """The tiny model, slowed down for texts that ask for it (a long caption on a busy machine)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim

    def embed(self, texts):
        if any("slowly" in t for t in texts):
            time.sleep(1.5)
        return self.inner.embed(texts)

    embed_query = embed


def test_an_edit_is_not_held_up_by_a_slow_embedding_on_another_video(ctx, db, seeded, tiny_embedder):
    slow = SlowEmbedder(tiny_embedder)
    started = threading.Event()

    def long_edit():
        started.set()
        update_segment(db, slow, seeded[0], actor="a", expected_version=1, caption="embedded slowly")

    worker = threading.Thread(target=long_edit)
    worker.start()
    started.wait()
    time.sleep(0.3)                                   # the slow edit is embedding now
    t0 = time.perf_counter()
    update_segment(db, slow, seeded[3], actor="b", expected_version=1, caption="another video")
    waited = time.perf_counter() - t0
    worker.join()
    assert waited < 0.9, f"an edit of another video waited {waited:.1f} s for a slow embedding"


def test_texts_longer_than_the_limit_are_refused_naming_it(app_factory, config, seeded):
    with TestClient(app_factory(config)) as api:
        for field in ("caption", "caption_ko"):
            r = api.patch(f"/api/segments/{seeded[0]}", json={"version": 1, field: "x" * (CAPTION_MAX + 1)})
            assert r.status_code in (400, 422) and str(CAPTION_MAX) in r.text, r.text
        r = api.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "members": ["x" * 201]})
        assert r.status_code in (400, 422) and "200" in r.text
        r = api.post("/api/segments", json={"video_id": "v1", "start": 20, "end": 21, "caption": "y" * 200_000})
        assert r.status_code in (400, 422) and str(CAPTION_MAX) in r.text
        at_limit = api.patch(f"/api/segments/{seeded[0]}", json={"version": 1, "caption": "z" * CAPTION_MAX})
        assert at_limit.status_code == 200


def test_the_limit_holds_for_every_door(ctx, seeded):
    from edits.errors import EditError

    with pytest.raises(EditError, match=str(CAPTION_MAX)):
        update_segment(ctx.db, ctx.embedder, seeded[0], actor="slack:U1", expected_version=1,
                       caption="w " * CAPTION_MAX)

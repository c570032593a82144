"""`make demo`: the bundled sample is indexed offline with the demo's own config, and a newcomer's first searches
find it (in English and in Korean), and its video plays through the playable copy."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from fastapi.testclient import TestClient

from tests.helpers import REPO

DEMO = REPO / "demo"


def test_the_demo_sample_is_bundled_with_its_source_and_licence():
    sources = (DEMO / "SOURCES.md").read_text()
    for name in ("popeye_p1.mkv", "popeye_p1.eng.srt", "jfk_inaugural_1961.mp4"):
        assert (DEMO / "media" / name).is_file() and name in sources
    assert "public domain" in sources
    assert sum(f.stat().st_size for f in (DEMO / "media").iterdir()) < 5 * 2**20


def test_make_demo_indexes_the_sample_offline_and_search_finds_it(tmp_path, database_url):
    from app import create_app
    from core.config import load_config

    demo = json.loads((DEMO / "config.json").read_text())
    demo.update(database_url=database_url, data_dir=str(tmp_path / "data"),      # this test's database and folder
                library_dir=str(DEMO / "media"), server={"allowed_hosts": ["testserver"]})
    config = tmp_path / "demo.json"
    config.write_text(json.dumps(demo))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "indexer", "index", "demo/media", "--config", str(config),
                          "--no-progress"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "2 indexed" in out.stdout and "popeye_p1.eng.srt" in out.stdout and "speech: 1 video(s)" in out.stdout
    with TestClient(create_app(load_config(config))) as c:
        assert c.get("/healthz").json()["status"] == "ok"
        for query in ("a whale of an island", "고래 섬"):
            top = c.get("/api/search", params={"q": query}).json()["results"][0]
            assert "whale" in top["transcript"] and 19 < top["start"] < 22, (query, top)
        spoken = c.get("/api/search", params={"q": "what you can do for your country"}).json()["results"][0]
        assert spoken["video_title"] == "jfk_inaugural_1961" and "country" in spoken["transcript"]
        video = next(v for v in c.get("/api/videos").json()["videos"] if v["title"] == "popeye_p1")
        media = c.get(video["media_url"], headers={"Range": "bytes=0-11"})
        assert media.status_code == 206 and media.content[4:8] == b"ftyp"       # the H.264 MP4 copy, not the MKV

"""import-legacy, reembed, status, missing-model errors, and the CLI as a real subprocess."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import numpy as np

from indexer.cli import main
from indexer.legacy import merge_seconds
from tests.helpers import REPO, asset

LEGACY = "legacy/combined_metadata_excerpt.json"


def test_merge_seconds_rule():
    rows = [{"timestamp": t, "caption": c, "faces": [{"group": "G", "member": m, "confidence": 0.8}] if m else []}
            for t, c, m in [(1, "x", "A"), (2, "x", "A"), (3, "x", None), (5, "x", None), (6, "y", None)]]
    spans, groups = merge_seconds(rows)
    assert [(s.start, s.end, s.caption, sorted(s.members)) for s in spans] == [
        (1, 3, "x", ["A"]), (3, 4, "x", []), (5, 6, "x", []), (6, 7, "y", [])]
    assert groups == {"A": "G"}


def test_import_legacy_merges_seconds_creates_members_and_is_idempotent(write_config, db, minilm_dir, capsys):
    src = asset(LEGACY)
    rows = json.loads(src.read_text(encoding="utf-8"))
    cfg = write_config(models={"embedding": str(minilm_dir)})
    args = ["import-legacy", str(src), "--video-id", "FuJ1RiLoq-M", "--title", "NJZ vlog", "--config", str(cfg)]
    assert main(args) == 0
    with db.connection() as conn:
        segs = conn.execute("SELECT id, start_s, end_s, caption_auto FROM segments ORDER BY start_s").fetchall()
        video = conn.execute("SELECT * FROM videos").fetchone()
        members = {r["name"]: r["group_name"] for r in conn.execute("SELECT name, group_name FROM members")}
    assert video["id"] == "FuJ1RiLoq-M" and video["source"] == "legacy" and video["title"] == "NJZ vlog"
    assert segs[0]["start_s"] == 200 and segs[-1]["end_s"] == 260
    assert all(a["end_s"] == b["start_s"] for a, b in itertools.pairwise(segs))
    assert len(segs) < len(rows)  # some seconds were merged
    names = {f["member"] for r in rows for f in r["faces"]}
    assert set(members) == names and members["Gang Harin"] == "NJZ"
    # Relevance with the real MiniLM: the doughnut second is the nearest segment to a doughnut query.
    from core.embedding import SentenceTransformerEmbedder

    q = SentenceTransformerEmbedder(str(minilm_dir)).embed(["a woman holding a doughnut"])[0]
    with db.connection() as conn:
        best = conn.execute("SELECT caption_auto FROM segments ORDER BY embedding <=> %s LIMIT 1", (q,)).fetchone()
    assert "doughnut" in best["caption_auto"]

    assert main(args) == 0  # idempotent: replaced, not duplicated
    with db.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM segments").fetchone()["n"] == len(segs)
        assert conn.execute("SELECT count(*) AS n FROM members").fetchone()["n"] == len(names)


def test_reembed_switches_model(write_config, db, minilm_dir, capsys):
    cfg_tiny = write_config()
    assert main(["import-legacy", str(asset(LEGACY)), "--video-id", "v1", "--config", str(cfg_tiny)]) == 0
    cfg_minilm = write_config(models={"embedding": str(minilm_dir)})
    # the other model is refused with the fix...
    assert main(["import-legacy", str(asset(LEGACY)), "--video-id", "v1", "--config", str(cfg_minilm)]) == 2
    assert "indexer reembed" in capsys.readouterr().err
    # ...which works
    assert main(["reembed", "--config", str(cfg_minilm)]) == 0
    assert "384-d" in capsys.readouterr().out
    with db.connection() as conn:
        dims = {r["d"] for r in conn.execute("SELECT vector_dims(embedding) AS d FROM segments")}
        v = conn.execute("SELECT embedding FROM segments LIMIT 1").fetchone()["embedding"]
    assert dims == {384}
    assert abs(np.linalg.norm(v.to_numpy()) - 1) < 1e-3
    assert main(["status", "--config", str(cfg_minilm)]) == 0
    assert "(384-d)" in capsys.readouterr().out


def test_missing_face_pack_is_a_clear_error(write_config, db, synthetic_video, tmp_path, capsys):
    empty = tmp_path / "packs" / "buffalo_l"
    empty.mkdir(parents=True)
    cfg = write_config(models={"faces": str(empty)})
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "buffalo_l" in err and "Fix:" in err and "Traceback" not in err
    cfg = write_config(models={"faces": "no_such_pack"})
    assert main(["enroll", "X", str(asset("faces/enroll/obama/obama.jpg")), "--config", str(cfg)]) == 2
    assert ".insightface/models/no_such_pack" in capsys.readouterr().err


def test_missing_caption_model_is_a_clear_error(write_config, db, synthetic_video, capsys):
    cfg = write_config(models={"captioner": "eilev", "caption_model": "kpyu/eilev-blip2-opt-2.7b"})
    assert main(["index", str(synthetic_video), "--config", str(cfg), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "kpyu/eilev-blip2-opt-2.7b" in err and "models.caption_model" in err
    with db.connection() as conn:  # nothing was written for the video
        assert conn.execute("SELECT count(*) AS n FROM videos").fetchone()["n"] == 0


def test_cli_as_subprocess(write_config, synthetic_video):
    cfg = write_config()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "indexer", "index", str(synthetic_video), "--config", str(cfg)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert "1 indexed" in run.stdout and "segments: 3" in run.stdout
    run = subprocess.run([sys.executable, "-m", "indexer", "status", "--config", str(cfg)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "segments: 3" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "indexer", "status", "--config", str(cfg) + ".missing"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr

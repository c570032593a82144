import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import REPO, free_port


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "models": {}, "hub": "not needed so far"}


def test_help_lists_the_fixed_flags():
    out = subprocess.run([sys.executable, "app.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for flag in ("--host", "--port", "--ngrok", "--config"):
        assert flag in out.stdout


def test_bad_config_exits_with_the_key(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"indexer": {"segment_max_s": -1}}))
    out = subprocess.run([sys.executable, "app.py", "--config", str(f)], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "indexer.segment_max_s" in out.stderr


def test_public_bind_without_token_is_refused(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"data_dir": str(tmp_path / "d")}))
    out = subprocess.run([sys.executable, "app.py", "--config", str(f), "--host", "0.0.0.0"], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "auth.token" in out.stderr


def test_app_serves_healthz_on_the_embedded_database(tmp_path):
    """What `make run` does: no database_url, so pgserver starts under the data folder."""
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"data_dir": str(tmp_path / "data")}))
    port = free_port()
    env = {**os.environ, "MVSE_CONFIG": str(f), "XDG_RUNTIME_DIR": "/tmp"}
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 90
        status = None
        while time.time() < deadline and proc.poll() is None:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                status = r.status_code
                if status == 200:         # the default embedding model is not downloaded here: "degraded"
                    assert r.json()["status"] in ("ok", "degraded")
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert status == 200, proc.stdout.read() if proc.poll() is not None else "no answer"
        assert (Path(tmp_path) / "data" / "pgdata" / "PG_VERSION").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # the embedded server stopped with its last user
    assert not (Path(tmp_path) / "data" / "pgdata" / "postmaster.pid").exists() or _wait_stopped(tmp_path)


def _wait_stopped(tmp_path) -> bool:
    pid_file = Path(tmp_path) / "data" / "pgdata" / "postmaster.pid"
    deadline = time.time() + 20
    while time.time() < deadline:
        if not pid_file.exists():
            return True
        time.sleep(0.2)
    return False

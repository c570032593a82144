"""--ngrok: refused without auth.token, and without network/binary/token it fails at once with a clear message."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from bot.tunnel import TunnelError, open_tunnel
from core.config import parse_config
from tests.helpers import REPO, free_port


def test_ngrok_is_refused_without_an_auth_token(tmp_path):
    cfg = parse_config({"data_dir": str(tmp_path)})
    with pytest.raises(TunnelError, match="auth.token"):
        open_tunnel(cfg, 8000)
    assert cfg.public_url is None


def _run_app_ngrok(tmp_path, **env_extra) -> tuple[subprocess.CompletedProcess, float]:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"data_dir": str(tmp_path / "data"), "auth": {"token": "t0ken-long-enough-here"}}))
    env = {k: v for k, v in os.environ.items() if k not in ("NGROK_AUTHTOKEN", "MVSE_CONFIG")}
    env["PYNGROK_NGROK_PATH"] = str(tmp_path / "bin" / "ngrok")   # no binary there: pyngrok would download it
    env["HOME"] = str(tmp_path)                                    # no ngrok config file with a token
    env.update(env_extra)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "app.py", "--ngrok", "--config", str(config), "--port", str(free_port())],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    return proc, time.perf_counter() - started


def test_app_ngrok_without_an_authtoken_fails_at_once(tmp_path):
    proc, took = _run_app_ngrok(tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "needs an ngrok authtoken" in proc.stderr and "NGROK_AUTHTOKEN" in proc.stderr
    assert "serving on" not in proc.stderr and took < 20
    assert not (tmp_path / "bin").exists(), "nothing downloaded"


def test_app_ngrok_without_network_fails_fast_with_a_clear_message(tmp_path):
    proc, took = _run_app_ngrok(tmp_path, NGROK_AUTHTOKEN="not-a-real-token")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--ngrok failed" in proc.stderr and "PYNGROK_NGROK_PATH" in proc.stderr
    assert str(tmp_path / "bin" / "ngrok") in proc.stderr
    assert "serving on" not in proc.stderr
    assert took < 20, f"took {took:.1f} s"

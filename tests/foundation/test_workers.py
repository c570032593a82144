"""`python app.py --workers N`: N processes answer on one port, each with its own pool, model and query cache; the
parent settles the database and the public URL once, and SIGTERM stops every process within seconds."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest

from core.config import ConfigError, ServerConfig, parse_config
from tests.helpers import REPO, free_port, wait_for


def _workers(parent: psutil.Process) -> list[psutil.Process]:
    """The parent's serving processes (uvicorn spawns them), not multiprocessing's resource tracker."""
    return [p for p in parent.children() if "spawn_main" in " ".join(p.cmdline())]


def _answered(worker: psutil.Process, port: int) -> bool:
    """The worker holds an open client connection on the port: it accepted (and answered) one."""
    return any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
               for c in worker.net_connections(kind="tcp"))


def test_two_workers_answer_and_stop_on_sigterm(write_config, data_dir):
    port = free_port()
    env = {**os.environ, "MVSE_LOG_LEVEL": "WARNING"}
    env.pop("MVSE_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "app.py", "--config", str(write_config()), "--port", str(port),
                             "--workers", "2"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    clients: list[httpx.Client] = []
    try:
        def healthy():
            assert proc.poll() is None, proc.stdout.read()
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, "the app's /healthz", timeout=25, interval=0.2)
        # The parent made the signing key before the workers started: two workers making it at once would each
        # sign links and sessions with their own, and reject the other's.
        assert (data_dir / "secret.key").exists()
        parent = psutil.Process(proc.pid)
        workers = wait_for(lambda: len(_workers(parent)) == 2 and _workers(parent), "two worker processes")
        everyone = [parent, *parent.children(recursive=True)]

        # Each client keeps its connection open, so the worker that took it still holds it afterwards. Which worker
        # accepts a connection is the kernel's choice: open connections until both have answered one.
        for _ in range(40):
            clients.append(httpx.Client(base_url=base, timeout=25))
            assert clients[-1].get("/healthz").json()["status"] == "ok"
            if all(_answered(w, port) for w in workers):
                break
        assert all(_answered(w, port) for w in workers), "one worker answered every connection"
        # Answers on a kept-alive connection do not wait for the client's delayed ACK (≥ 40 ms with Nagle on).
        took = []
        for _ in range(10):
            started = time.monotonic()
            clients[0].get("/healthz")
            took.append(time.monotonic() - started)
        assert sorted(took)[5] < 0.035, f"kept-alive answers take {sorted(took)[5] * 1000:.0f} ms: TCP_NODELAY is off"
        # Then a search on every connection at once: both workers load their own model and answer.
        with ThreadPoolExecutor(len(clients)) as pool:
            answers = list(pool.map(lambda c: c.get("/api/search", params={"q": "dog on the beach"}), clients))
        assert all(r.status_code == 200 and "results" in r.json() for r in answers)
        assert all(_answered(w, port) for w in workers)
    finally:
        for c in clients:
            c.close()
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("app.py did not stop within 10 s of SIGTERM")
    assert time.monotonic() - started < 10
    _, alive = psutil.wait_procs(everyone[1:], timeout=3)
    assert not alive, f"left running after the parent stopped: {[p.pid for p in alive]}"


def test_a_worker_takes_the_parents_settings_and_closes_its_pool(write_config, database_url, monkeypatch):
    """What the parent settled (the ngrok URL, the embedded database it started) reaches every worker's config."""
    from fastapi.testclient import TestClient

    from app import WORKER_SETTINGS_ENV, worker_app

    path = write_config(database_url="postgresql://nobody@127.0.0.1:1/unused", public_url=None)
    monkeypatch.setenv("MVSE_CONFIG", str(path))
    monkeypatch.setenv(WORKER_SETTINGS_ENV, json.dumps({"public_url": "https://tunnel.example",
                                                        "database_url": database_url}))
    app = worker_app()
    assert app.state.ctx.config.public_url == "https://tunnel.example"
    with TestClient(app) as client:
        assert client.get("/healthz").json()["status"] == "ok"
    assert app.state.ctx.db.pool.closed


def test_workers_default_to_the_usable_cpus_at_most_four():
    assert 1 <= ServerConfig().worker_count <= min(4, os.cpu_count() or 1)
    assert ServerConfig(workers=3).worker_count == 3
    with pytest.raises(ConfigError, match="server.workers"):
        parse_config({"server": {"workers": 0}})


def test_workers_flag_must_be_positive():
    out = subprocess.run([sys.executable, "app.py", "--workers", "0"], cwd=REPO, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "--workers" in out.stderr


def test_a_port_in_use_is_refused_even_by_a_listener_sharing_it(write_config):
    """Workers listen with SO_REUSEPORT; a second app.py on the same port must still fail, not share its traffic."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        out = subprocess.run([sys.executable, "app.py", "--config", str(write_config()), "--port", str(port),
                              "--workers", "2"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and f"Cannot listen on 127.0.0.1:{port}" in out.stderr

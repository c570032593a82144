"""The embedded PostgreSQL stops with its last live holder, even after a holder was killed (SIGKILL).

pgserver lists the processes holding the server in ``<pgdata>/.handle_pids.json`` and stops the server when
the last of them exits; a killed process never takes itself off that list. Each holder here is a real process
that opens the server through ``db.server.embedded_server`` and holds it until its stdin closes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.helpers import REPO, wait_for

HOLDER = """
import sys
from pathlib import Path
from db.server import embedded_server
server = embedded_server(Path(sys.argv[1]), shared_buffers_mb=128)
print(server.get_pid(), flush=True)
sys.stdin.readline()
"""


class Holders:
    """Processes holding one embedded server; whatever is still running at the end is ended."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.procs: list[subprocess.Popen] = []
        self.postmaster: int | None = None

    def start(self) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_RUNTIME_DIR": "/tmp"}
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(self.pgdata)], cwd=REPO, env=env, text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(proc)
        line = proc.stdout.readline()
        assert line.strip().isdigit(), f"the holder did not start the server: {line}{proc.stderr.read()}"
        self.postmaster = int(line)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        proc.kill()
        proc.wait(10)

    def exit_cleanly(self, proc: subprocess.Popen) -> str:
        proc.stdin.close()
        assert proc.wait(30) == 0, proc.stderr.read()
        return proc.stderr.read()

    def handle_pids(self) -> list[int]:
        return json.loads((self.pgdata / ".handle_pids.json").read_text())

    def server_stopped(self) -> bool:
        return not (self.pgdata / "postmaster.pid").exists()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        if self.postmaster and psutil.pid_exists(self.postmaster):   # left running by a failed test
            server = psutil.Process(self.postmaster)
            server.terminate()
            server.wait(10)


@pytest.fixture
def holders(tmp_path):
    h = Holders(tmp_path / "pgdata")
    yield h
    h.close()


def test_a_killed_holder_is_pruned_and_the_next_holder_stops_the_server_on_exit(holders):
    killed = holders.start()
    holders.kill(killed)
    assert holders.handle_pids() == [killed.pid] and not holders.server_stopped()   # what a SIGKILL leaves

    later = holders.start()
    assert holders.handle_pids() == [later.pid]             # the dead holder was pruned when the handle was taken
    log = holders.exit_cleanly(later)
    assert f"forgot holder process(es) {killed.pid}" in log
    wait_for(holders.server_stopped, "the server to stop with its last live holder", timeout=10)
    assert holders.handle_pids() == []


def test_a_holder_killed_while_another_holds_does_not_keep_the_server_up(holders):
    survivor = holders.start()
    killed = holders.start()
    holders.kill(killed)
    assert sorted(holders.handle_pids()) == sorted([survivor.pid, killed.pid])

    holders.exit_cleanly(survivor)                          # pruned at release, then the last holder stops it
    wait_for(holders.server_stopped, "the server to stop with its last live holder", timeout=10)
    assert holders.handle_pids() == []

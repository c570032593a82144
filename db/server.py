"""Where the database lives: ``database_url`` from the config, or an embedded PostgreSQL (pgserver).

The embedded server keeps its files under ``<data_dir>/pgdata``. pgserver records which processes hold
it: a second process started on the same folder finds the running server instead of starting another,
and the server stops when the last of them exits (``cleanup_mode="stop"``). That list
(``<pgdata>/.handle_pids.json``) is only updated by processes that exit cleanly: one that was killed stays
in it as a holder forever, and the server then outlives every real user. So the PIDs of processes that no
longer exist are pruned (under pgserver's own lock) before a handle is taken and before one is released.

PostgreSQL's default ``shared_buffers`` (128 MB) is far smaller than the HNSW index of a large library
(about 0.8 GB per million segments at 128 dimensions), and every page it cannot keep costs a copy from the OS
cache on each search: at 1M segments the vector search takes twice as long. The embedded server is given
a quarter of the machine's memory (at most 8 GB; ``embedded_db.shared_buffers_mb`` sets it) with
``ALTER SYSTEM``, which takes effect from the server's next start: an empty library does not need it yet.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
from pathlib import Path

from core.errors import MvseError

log = logging.getLogger(__name__)
_servers: dict[str, object] = {}
_exit_hook = False


class DatabaseUnavailable(MvseError):
    """The database cannot be reached (not started, stopped, or unreachable): 503, try again later."""

    status_code = 503

    def __init__(self, message: str = "", retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def default_shared_buffers_mb() -> int:
    """A quarter of the memory this process may use (the container's limit where there is one), 128 MB–8 GB."""
    import psutil

    memory = psutil.virtual_memory().total
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            memory = min(memory, int(Path(limit_file).read_text().strip()))
        except (OSError, ValueError):       # no such cgroup file, or "max"
            continue
    return int(min(8192, max(128, memory // 4 // 2**20)))


def embedded_server(pgdata: Path, cleanup_mode: str | None = "stop", shared_buffers_mb: int | None = None):
    key = str(pgdata.resolve())
    if key not in _servers:
        os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
        import pgserver

        logging.getLogger("pgserver").setLevel(logging.WARNING)

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        prune_dead_holders(pgdata)
        try:
            _servers[key] = pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)
        except Exception as err:
            raise DatabaseUnavailable(
                f"Could not start the embedded PostgreSQL in {pgdata} ({type(err).__name__}: {err}). "
                f"Fix: check that the folder is writable, and read {pgdata / 'log'}; if it says the memory could "
                f"not be mapped, set embedded_db.shared_buffers_mb lower and delete the shared_buffers line of "
                f"{pgdata / 'postgresql.auto.conf'}; or set database_url in the config to a PostgreSQL "
                "server with the pgvector extension."
            ) from err
        log.info("embedded PostgreSQL running in %s", pgdata)
        _release_at_exit()
        _set_shared_buffers(_servers[key].get_uri(), shared_buffers_mb or default_shared_buffers_mb())
    return _servers[key]


def _release_at_exit() -> None:
    """Release through ``stop_embedded_servers`` (which prunes dead holders) also when the process just exits:
    registered after pgserver's own exit hook, so it runs first (atexit is last in, first out)."""
    global _exit_hook
    if not _exit_hook:
        atexit.register(stop_embedded_servers)
        _exit_hook = True


def _set_shared_buffers(url: str, mb: int) -> None:
    """Record the wanted ``shared_buffers``; PostgreSQL applies it when the server next starts."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        current = conn.execute("SELECT setting::bigint * 8192 / 1048576 FROM pg_settings "
                               "WHERE name = 'shared_buffers'").fetchone()[0]
        if current == mb:
            return
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{int(mb)}MB'")
        log.info("embedded PostgreSQL: shared_buffers %s MB → %s MB from its next start", current, mb)


def restart_embedded_server(pgdata: Path, shared_buffers_mb: int | None = None):
    """Stop and start the embedded server if this process is its only holder (applies new settings);
    otherwise the running server is kept. Close connection pools first."""
    key = str(pgdata.resolve())
    srv = _servers.pop(key, None)
    if srv is not None and srv.cleanup_mode == "stop":
        prune_dead_holders(srv.pgdata)
        srv.cleanup()
    return embedded_server(pgdata, shared_buffers_mb=shared_buffers_mb)


def stop_embedded_servers() -> None:
    """Release this process's handles; pgserver stops a server when its last process lets go."""
    while _servers:
        _, srv = _servers.popitem()
        prune_dead_holders(srv.pgdata)
        srv.cleanup()


def prune_dead_holders(pgdata: Path) -> list[int]:
    """Drop the PIDs of processes that no longer exist from pgserver's list of the server's holders (see the
    module docstring); returns them. Taken under the lock pgserver itself uses for that file."""
    from pgserver.postgres_server import PostgresServer

    handle_file = pgdata / ".handle_pids.json"
    if not handle_file.exists():
        return []
    with PostgresServer._lock:
        try:
            pids = json.loads(handle_file.read_text())
        except (OSError, ValueError) as err:
            log.warning("could not read %s (%s); if no process uses the embedded PostgreSQL, delete that file",
                        handle_file, err)
            return []
        dead = [pid for pid in pids if not _process_exists(pid)]
        if dead:
            tmp = handle_file.with_name(handle_file.name + ".part")
            tmp.write_text(json.dumps([pid for pid in pids if pid not in dead]))
            tmp.replace(handle_file)
    if dead:
        log.warning("embedded PostgreSQL in %s: forgot holder process(es) %s, which no longer exist (killed?)",
                    pgdata, ", ".join(map(str, dead)))
    return dead


def _process_exists(pid: int) -> bool:
    """A zombie (exited, not yet reaped by its parent) no longer holds anything."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:       # someone else's process: leave it
        return True


def database_url(cfg) -> str:
    if cfg.database_url:
        return cfg.database_url
    return embedded_server(cfg.data_path / "pgdata", shared_buffers_mb=cfg.embedded_db.shared_buffers_mb).get_uri()

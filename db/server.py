"""Where the database lives: ``database_url`` from the config, or an embedded PostgreSQL (pgserver).

The embedded server keeps its files under ``<data_dir>/pgdata``. pgserver records which processes hold
it: a second process started on the same folder finds the running server instead of starting another,
and the server stops when the last of them exits (``cleanup_mode="stop"``).

PostgreSQL's default ``shared_buffers`` (128 MB) is far smaller than the HNSW index of a large library
(about 0.8 GB per million segments at 128 dimensions), and every page it cannot keep costs a copy from the OS
cache on each search: at 1M segments the vector search takes twice as long. The embedded server is given
a quarter of the machine's memory (at most 8 GB; ``embedded_db.shared_buffers_mb`` sets it) with
``ALTER SYSTEM``, which takes effect from the server's next start: an empty library does not need it yet.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from core.errors import MvseError

log = logging.getLogger(__name__)
_servers: dict[str, object] = {}


class DatabaseUnavailable(MvseError):
    pass


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
        _set_shared_buffers(_servers[key].get_uri(), shared_buffers_mb or default_shared_buffers_mb())
    return _servers[key]


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
        srv.cleanup()
    return embedded_server(pgdata, shared_buffers_mb=shared_buffers_mb)


def stop_embedded_servers() -> None:
    """Release this process's handles; pgserver stops a server when its last process lets go."""
    while _servers:
        _, srv = _servers.popitem()
        srv.cleanup()


def database_url(cfg) -> str:
    if cfg.database_url:
        return cfg.database_url
    return embedded_server(cfg.data_path / "pgdata", shared_buffers_mb=cfg.embedded_db.shared_buffers_mb).get_uri()

"""Where the database lives: ``database_url`` from the config, or an embedded PostgreSQL (pgserver).

The embedded server keeps its files under ``<data_dir>/pgdata``. pgserver records which processes hold
it: a second process started on the same folder finds the running server instead of starting another,
and the server stops when the last of them exits (``cleanup_mode="stop"``).
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


def embedded_server(pgdata: Path, cleanup_mode: str | None = "stop"):
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
                "Fix: check that the folder is writable, or set database_url in the config to a PostgreSQL "
                "server with the pgvector extension."
            ) from err
        log.info("embedded PostgreSQL running in %s", pgdata)
    return _servers[key]


def stop_embedded_servers() -> None:
    """Release this process's handles; pgserver stops a server when its last process lets go."""
    while _servers:
        _, srv = _servers.popitem()
        srv.cleanup()


def database_url(cfg) -> str:
    if cfg.database_url:
        return cfg.database_url
    return embedded_server(cfg.data_path / "pgdata").get_uri()

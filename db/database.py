"""A connection pool over the configured database, opened after the migrations have run."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from db.migrate import apply_migrations
from db.server import DatabaseUnavailable, database_url

log = logging.getLogger(__name__)


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)


class Database:
    """Owns the pool. ``connection()`` lends a connection whose rows are dicts; commit happens on exit."""

    def __init__(self, url: str, min_size: int = 1, max_size: int = 8):
        self.url = url
        try:
            with psycopg.connect(url, autocommit=False) as conn:
                apply_migrations(conn)
        except psycopg.OperationalError as err:
            raise DatabaseUnavailable(
                f"Cannot connect to the database ({err}). Fix: check database_url in the config, "
                "or remove it to use the embedded server."
            ) from err
        self.pool = ConnectionPool(url, min_size=min_size, max_size=max_size, configure=_configure,
                                   kwargs={"row_factory": dict_row}, open=True, name="mvse")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; the block runs in one transaction (committed on success, rolled back on error)."""
        with self.pool.connection() as conn:
            yield conn

    def ping(self) -> bool:
        try:
            with self.pool.connection(timeout=5) as conn:
                conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - a health check reports, it does not raise
            return False

    def close(self) -> None:
        self.pool.close()


def connect_database(cfg, **pool_args) -> Database:
    return Database(database_url(cfg), **pool_args)

"""A connection pool over the configured database, opened after the migrations have run."""
from __future__ import annotations

import logging
import time
import weakref
from contextlib import contextmanager
from typing import Iterator

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from core.errors import MvseError, first_line
from db.migrate import apply_migrations
from db.server import DatabaseUnavailable, database_url

log = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 2       # libpq's connect_timeout (whole seconds)
# How long one background reconnection keeps retrying (1 s, 2 s, 4 s, … apart) before it gives up. Kept short:
# after it, the next request starts a fresh attempt at once, so the app is back within seconds of the database
# however long the outage lasted (a long retry would wait minutes between tries by then).
RECONNECT_TIMEOUT_S = 10.0
DB_WAIT_S = 1.5     # the longest a request waits for a connection (or a new one to open) before answering 503


def database_error(err: Exception) -> MvseError:
    """What a request answers when the database fails it mid-way (``psycopg.OperationalError`` or the pool's
    ``PoolTimeout``): 503 when it is not answering or no connection came free in time, 409 when the change collided
    with another one (try again), else 500."""
    state = getattr(err, "sqlstate", None)
    if isinstance(err, PoolTimeout):
        return DatabaseUnavailable(
            f"No database connection came free within {DB_WAIT_S:g} s: the server is very busy, or the database is "
            "not answering. Try again in a moment; if this persists, check that PostgreSQL is running.",
            retry_after=1)
    if state is None or state.startswith(("08", "57P")):        # no connection, connection lost, server shut down
        return DatabaseUnavailable(
            f"The database is not answering ({type(err).__name__}). Try again in a moment; if this persists, check "
            "that PostgreSQL is running (the embedded one logs to <data_dir>/pgdata/log) and that database_url is "
            "right. The app reconnects by itself once the database is back.", retry_after=2)
    if state in ("40001", "40P01"):                             # serialization failure, deadlock
        return MvseError("The change collided with another one made at the same moment and was not made. "
                         "Try again.", status_code=409)
    return MvseError(f"The database refused the request ({first_line(err)}).")


CHECK_IDLE_S = 1.0  # a connection back in the pool for longer than this is checked before it is lent again

_idle_since: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)


def _returned(conn: psycopg.Connection) -> None:
    _idle_since[conn] = time.monotonic()


def _check_if_idle(conn: psycopg.Connection) -> None:
    """A round trip before lending a connection that sat idle (the database may have restarted meanwhile), not
    one that was just returned: a busy server would otherwise pay it on every checkout, several per search."""
    if time.monotonic() - _idle_since.get(conn, 0.0) > CHECK_IDLE_S:
        ConnectionPool.check_connection(conn)


class Database:
    """Owns the pool. ``connection()`` lends a connection whose rows are dicts; commit happens on exit.

    A connection idle for more than ``CHECK_IDLE_S`` is checked before it is lent (a database restart leaves dead
    ones in the pool; they are replaced, not handed out), and waiting for one is bounded by ``DB_WAIT_S``: with the
    database down a request fails fast (``PoolTimeout``, answered 503 by the app) while the pool keeps reconnecting
    in the background.
    """

    def __init__(self, url: str, min_size: int = 1, max_size: int = 8):
        self.url = url
        try:
            with psycopg.connect(url, autocommit=False, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                apply_migrations(conn)
        except psycopg.OperationalError as err:
            raise DatabaseUnavailable(
                f"Cannot connect to the database ({err}). Fix: check database_url in the config, "
                "or remove it to use the embedded server."
            ) from err
        self.pool = ConnectionPool(url, min_size=min_size, max_size=max_size, configure=_configure,
                                   check=_check_if_idle, reset=_returned, timeout=DB_WAIT_S,
                                   reconnect_timeout=RECONNECT_TIMEOUT_S,
                                   kwargs={"row_factory": dict_row, "connect_timeout": CONNECT_TIMEOUT_S},
                                   open=True, name="mvse")

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; the block runs in one transaction (committed on success, rolled back on error)."""
        with self.pool.connection() as conn:
            yield conn

    def ping(self) -> bool:
        try:
            with self.pool.connection() as conn:
                conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - a health check reports, it does not raise
            return False

    def close(self) -> None:
        self.pool.close()


def connect_database(cfg, **pool_args) -> Database:
    return Database(database_url(cfg), **pool_args)

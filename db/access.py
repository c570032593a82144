"""What access control must share between worker processes: revoked sessions and the wrong-credential throttle.

Both live in the database so that every worker (``server.workers``) sees the same state and a restart keeps it.
The rules (how long a lock lasts, who is a client) are ``core.auth``'s; this module only stores.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg


def revoke_session(conn: psycopg.Connection, session_id: str, expires_at: datetime) -> None:
    """Record a logged-out session until it would have expired anyway; drop records past that."""
    conn.execute("DELETE FROM revoked_sessions WHERE expires_at < now()")
    conn.execute("INSERT INTO revoked_sessions (session_id, expires_at) VALUES (%s, %s) "
                 "ON CONFLICT (session_id) DO NOTHING", (session_id, expires_at))


def is_revoked(conn: psycopg.Connection, session_id: str) -> bool:
    return conn.execute("SELECT 1 FROM revoked_sessions WHERE session_id = %s", (session_id,)).fetchone() is not None


def serialize_client(conn: psycopg.Connection, client: str) -> None:
    """Until this transaction ends, no other check of the same client runs: parallel guesses cannot all pass the
    lock-out check before the first of them is counted."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", ("auth:" + client,))


def failure_state(conn: psycopg.Connection, client: str) -> tuple[int, float] | None:
    """The client's wrong credentials in a row and the seconds it must still wait (0: it may try now); None when
    it has no failures on record."""
    row = conn.execute("SELECT failures, extract(epoch FROM locked_until - now()) AS wait FROM auth_failures "
                       "WHERE client = %s", (client,)).fetchone()
    return (row["failures"], max(0.0, float(row["wait"]))) if row else None


def record_failure(conn: psycopg.Connection, client: str, free: int, max_lock_s: float) -> float:
    """Count a wrong credential from ``client``; past ``free`` failures in a row the client is locked out for a
    time that doubles with each further one (1 s, 2 s, 4 s, … up to ``max_lock_s``). Returns the lock in seconds.

    A client quiet for a day starts again from zero."""
    row = conn.execute(
        "INSERT INTO auth_failures AS f (client, failures) VALUES (%s, 1) ON CONFLICT (client) DO UPDATE SET "
        "failures = CASE WHEN f.updated_at < now() - interval '1 day' THEN 1 ELSE f.failures + 1 END, "
        "updated_at = now() RETURNING failures", (client,)).fetchone()
    over = row["failures"] - free
    lock = 0.0 if over <= 0 else min(max_lock_s, 2.0 ** min(over - 1, 30))
    if lock:
        conn.execute("UPDATE auth_failures SET locked_until = now() + %s WHERE client = %s",
                     (timedelta(seconds=lock), client))
    return lock


def clear_failures(conn: psycopg.Connection, client: str) -> None:
    conn.execute("DELETE FROM auth_failures WHERE client = %s", (client,))


def utc_from_timestamp(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)

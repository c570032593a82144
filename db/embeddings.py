"""The embedding model recorded in the database, and the guard against mixing models.

Vectors of two models (or two dimensions) are not comparable, so the first model to write embeddings is
recorded in ``settings``; any other configured model is refused with the fix (``indexer reembed``).
Recording a model fixes ``segments.embedding`` to its dimension and builds the HNSW index.
"""
from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from core.errors import EmbeddingModelMismatch

SETTING_KEY = "embedding_model"


def recorded_embedding_model(conn: psycopg.Connection) -> dict | None:
    row = conn.execute("SELECT value FROM settings WHERE key = %s", (SETTING_KEY,)).fetchone()
    if row is None:
        return None
    return row["value"] if isinstance(row, dict) else row[0]


def _fix_column(conn: psycopg.Connection, dim: int) -> None:
    conn.execute("DROP INDEX IF EXISTS segments_embedding_hnsw")
    conn.execute(f"ALTER TABLE segments ALTER COLUMN embedding TYPE vector({int(dim)})")
    conn.execute(f"ALTER TABLE segment_members ALTER COLUMN embedding TYPE vector({int(dim)})")   # its copy
    conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
    conn.execute("CREATE INDEX segments_embedding_hnsw ON segments USING hnsw (embedding vector_cosine_ops)")


def _record(conn: psycopg.Connection, name: str, dim: int) -> None:
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        (SETTING_KEY, Jsonb({"name": name, "dim": int(dim)})),
    )


def ensure_embedding_model(conn: psycopg.Connection, name: str, dim: int) -> None:
    """Record the model on first use; raise EmbeddingModelMismatch if another one is recorded."""
    conn.execute("LOCK TABLE settings IN SHARE ROW EXCLUSIVE MODE")
    current = recorded_embedding_model(conn)
    if current is None:
        _fix_column(conn, dim)
        _record(conn, name, dim)
        return
    if current.get("name") != name or int(current.get("dim", -1)) != int(dim):
        raise EmbeddingModelMismatch(
            f"The database holds embeddings from {current.get('name')!r} ({current.get('dim')}-d) but the "
            f"configured model is {name!r} ({dim}-d). Fix: run `python -m indexer reembed` to re-embed every "
            "segment with the configured model, or set models.embedding back to the recorded one."
        )


def switch_embedding_model(conn: psycopg.Connection, name: str, dim: int) -> None:
    """Forget all stored vectors and record a new model (used by ``indexer reembed``, in its transaction)."""
    conn.execute("LOCK TABLE settings IN SHARE ROW EXCLUSIVE MODE")
    conn.execute("UPDATE segments SET embedding = NULL")
    _fix_column(conn, dim)
    _record(conn, name, dim)

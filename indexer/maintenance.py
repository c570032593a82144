"""``reembed`` and ``status``."""
from __future__ import annotations

from db.embeddings import switch_embedding_model
from db.segments import all_segment_ids, refresh_search_fields
from indexer import shutdown

BATCH = 256


def reembed(db, embedder) -> int:
    """Re-embed every segment with the configured model, in one transaction (rolled back when stopped)."""
    with db.connection() as conn:
        switch_embedding_model(conn, embedder.name, embedder.dim)
        ids = all_segment_ids(conn)
        for i in range(0, len(ids), BATCH):
            shutdown.check()
            refresh_search_fields(conn, ids[i:i + BATCH], embedder)
    return len(ids)

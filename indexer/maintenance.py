"""``reembed`` and ``status``."""
from __future__ import annotations

from db.embeddings import recorded_embedding_model, switch_embedding_model
from db.segments import all_segment_ids, refresh_search_fields
from indexer import store

BATCH = 256


def reembed(db, embedder) -> int:
    """Re-embed every segment with the configured model, in one transaction."""
    with db.connection() as conn:
        switch_embedding_model(conn, embedder.name, embedder.dim)
        ids = all_segment_ids(conn)
        for i in range(0, len(ids), BATCH):
            refresh_search_fields(conn, ids[i:i + BATCH], embedder)
    return len(ids)


def status_report(db) -> str:
    with db.connection() as conn:
        by_status, counts, failed, models = store.library_counts(conn)
        emb = recorded_embedding_model(conn)
    lines = ["videos: " + (", ".join(f"{r['n']} {r['status']}" for r in by_status) or "none"),
             f"segments: {counts['segments']}",
             f"members: {counts['members']} ({counts['member_faces']} gallery faces"
             + "".join(f"; {r['n']} of {r['model']}" for r in models) + ")",
             f"face detections: {counts['faces']} ({counts['unmatched']} unmatched)",
             "embedding model: " + (f"{emb['name']} ({emb['dim']}-d)" if emb else "none recorded yet")]
    lines += [f"failed {r['id']} ({r['path']}): {r['error']}" for r in failed]
    return "\n".join(lines)

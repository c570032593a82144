"""``reembed`` and ``status``."""
from __future__ import annotations

from db.embeddings import recorded_embedding_model, switch_embedding_model
from db.segments import refresh_search_fields

BATCH = 256


def reembed(db, embedder) -> int:
    """Re-embed every segment with the configured model, in one transaction."""
    with db.connection() as conn:
        switch_embedding_model(conn, embedder.name, embedder.dim)
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments ORDER BY id")]
        for i in range(0, len(ids), BATCH):
            refresh_search_fields(conn, ids[i:i + BATCH], embedder)
    return len(ids)


def status_report(db) -> str:
    with db.connection() as conn:
        by_status = conn.execute("SELECT status, count(*) AS n FROM videos GROUP BY status ORDER BY status").fetchall()
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM segments) AS segments, (SELECT count(*) FROM members) AS members, "
            "(SELECT count(*) FROM member_faces) AS member_faces, (SELECT count(*) FROM face_detections) AS faces, "
            "(SELECT count(*) FROM face_detections WHERE member_id IS NULL) AS unmatched").fetchone()
        failed = conn.execute("SELECT id, path, error FROM videos WHERE status = 'failed' ORDER BY id").fetchall()
        models = conn.execute("SELECT model, count(*) AS n FROM member_faces GROUP BY model ORDER BY model").fetchall()
        emb = recorded_embedding_model(conn)
    lines = ["videos: " + (", ".join(f"{r['n']} {r['status']}" for r in by_status) or "none"),
             f"segments: {counts['segments']}",
             f"members: {counts['members']} ({counts['member_faces']} gallery faces"
             + "".join(f"; {r['n']} of {r['model']}" for r in models) + ")",
             f"face detections: {counts['faces']} ({counts['unmatched']} unmatched)",
             "embedding model: " + (f"{emb['name']} ({emb['dim']}-d)" if emb else "none recorded yet")]
    lines += [f"failed {r['id']} ({r['path']}): {r['error']}" for r in failed]
    return "\n".join(lines)

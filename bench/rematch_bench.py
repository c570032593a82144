"""Re-match benchmark (issue 18): the time to re-match a library of stored face detections after one correction.

    .venv/bin/python bench/rematch_bench.py                  # 1,000,000 detections, embedded PostgreSQL
    .venv/bin/python bench/rematch_bench.py --n 200000       # smaller
    .venv/bin/python bench/rematch_bench.py --storage external   # vectors out of line (before migration 010)

Synthetic faces like buffalo_l's (512-d, normed): 200 identities in look-alike pairs (cosine ≈ 0.6 between the
two of a pair), each detection its identity plus noise (same-person cosine ≈ 0.55 to a gallery face, like
ArcFace on video frames). 50 identities are enrolled members with 3–5 gallery faces each. Detections are spread
over ``--videos`` videos of 5 s segments, 10 per segment; their initial matches and auto tags are what a full
retag gives (``Gallery.match`` semantics, computed in numpy for the build only).

One correction = one gallery face added to a member, then ``rematch_members([member, its look-alike])``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from core.config import parse_config
from db import Database
from db.members import add_gallery_face
from db.server import embedded_server, restart_embedded_server
from edits.rematch import rematch_members

MODEL, DIM = "buffalo_l", 512
IDENTITIES, MEMBERS = 200, 50
NOISE = 1.1                          # a detection: unit(identity + NOISE * random unit)
PER_SEGMENT, SEGMENT_S = 10, 5.0


class BenchEmbedder:
    """Text vectors for refreshed search fields (no model: their content does not matter here)."""
    name, dim = "bench-synthetic", 128

    def __init__(self):
        self.rng = np.random.default_rng(1)

    def embed(self, texts):
        x = self.rng.normal(size=(len(texts), self.dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Faces:
    def __init__(self, seed: int = 7):
        self.rng = np.random.default_rng(seed)
        base = unit(self.rng.normal(size=(IDENTITIES // 2, DIM)))
        self.identities = unit(np.repeat(base, 2, axis=0) + 0.5 * unit(self.rng.normal(size=(IDENTITIES, DIM))))

    def of(self, who: np.ndarray) -> np.ndarray:
        return unit(self.identities[who] + NOISE * unit(self.rng.normal(size=(len(who), DIM))))


def match_many(gallery_members: np.ndarray, gallery: np.ndarray, x: np.ndarray, threshold: float, margin: float):
    """``Gallery.match`` for many rows at once (build only): (member id or -1, best similarity)."""
    sims = x @ gallery.T
    members = np.unique(gallery_members)
    per = np.stack([sims[:, gallery_members == m].max(axis=1) for m in members], axis=1)
    order = np.argsort(-per, axis=1)
    best = per[np.arange(len(x)), order[:, 0]]
    second = per[np.arange(len(x)), order[:, 1]]
    ok = (best >= threshold) & (best - second >= margin)
    return np.where(ok, members[order[:, 0]], -1), best


def build(db: Database, cfg, n: int, videos: int, storage: str, faces: Faces) -> dict:
    out: dict = {}
    t0 = time.perf_counter()
    segments_per_video = max(1, -(-n // (videos * PER_SEGMENT)))
    with db.connection() as conn:
        conn.execute("DROP INDEX IF EXISTS face_detections_member")
        conn.execute("DROP INDEX IF EXISTS face_detections_video_t")
        conn.execute(f"ALTER TABLE face_detections ALTER COLUMN embedding SET STORAGE {storage.upper()}")
        conn.execute("INSERT INTO videos (id, title, status) SELECT 'bv' || g, 'Bench video ' || g, 'indexed' "
                     "FROM generate_series(0, %s) g", (videos - 1,))
        conn.execute("INSERT INTO segments (video_id, start_s, end_s, caption_auto) SELECT 'bv' || v, k * %s, "
                     "k * %s + %s, 'scene ' || k FROM generate_series(0, %s) v, generate_series(0, %s) k",
                     (SEGMENT_S, SEGMENT_S, SEGMENT_S, videos - 1, segments_per_video - 1))
        member_ids = []
        gallery_members, gallery = [], []
        for i in range(MEMBERS):
            mid = conn.execute("INSERT INTO members (name) VALUES (%s) RETURNING id", (f"P{i}",)).fetchone()["id"]
            member_ids.append(mid)
            for e in faces.of(np.full(int(faces.rng.integers(3, 6)), i)):
                add_gallery_face(conn, mid, MODEL, e, "bench")
                gallery_members.append(mid)
                gallery.append(e)
        gallery_members, gallery = np.array(gallery_members), np.stack(gallery)
        batch = 50_000
        matched = 0
        with conn.cursor() as cur, cur.copy("COPY face_detections (video_id, t_s, bbox, det_score, model, embedding, "
                                            "member_id, similarity) FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["text", "float8", "float4[]", "float4", "text", "vector", "int4", "float4"])
            for lo in range(0, n, batch):
                k = min(batch, n - lo)
                x = faces.of(faces.rng.integers(0, IDENTITIES, k))
                mids, sims = match_many(gallery_members, gallery, x, cfg.faces.threshold, cfg.faces.margin)
                matched += int((mids >= 0).sum())
                seg = (lo + np.arange(k)) // PER_SEGMENT
                t = (seg % segments_per_video) * SEGMENT_S + faces.rng.uniform(0, SEGMENT_S, k)
                for j in range(k):
                    cp.write_row((f"bv{seg[j] // segments_per_video}", float(t[j]), [0.0, 0.0, 50.0, 50.0], 0.9,
                                  MODEL, x[j], int(mids[j]) if mids[j] >= 0 else None, float(sims[j])))
    out["load_s"] = round(time.perf_counter() - t0, 1)
    out["matched_share"] = round(matched / n, 3)
    t0 = time.perf_counter()
    with db.connection() as conn:
        conn.execute("CREATE INDEX face_detections_video_t ON face_detections (video_id, t_s)")
        conn.execute("CREATE INDEX face_detections_member ON face_detections (member_id) WHERE member_id IS NOT NULL")
    out["btree_indexes_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    with db.connection() as conn:       # the auto tags a full retag gives (vote, min_votes 1)
        conn.execute(
            "INSERT INTO segment_members (segment_id, member_id, confidence, source) "
            "SELECT s.id, d.member_id, avg(d.similarity), 'auto' FROM face_detections d JOIN segments s "
            "ON s.video_id = d.video_id AND d.t_s >= s.start_s AND d.t_s < s.end_s "
            "WHERE d.member_id IS NOT NULL GROUP BY 1, 2")
    with db.connection() as conn:
        conn.autocommit = True
        for table in ("face_detections", "segments", "segment_members"):
            conn.execute(f"VACUUM ANALYZE {table}")
        conn.autocommit = False
        size = conn.execute("SELECT pg_total_relation_size('face_detections') AS b").fetchone()["b"]
    out["tags_and_vacuum_s"] = round(time.perf_counter() - t0, 1)
    out["face_detections_MiB"] = round(size / 2**20)
    out["gallery_faces"] = len(gallery)
    return out


def lookalike_of(conn, member_id: int) -> int:
    """The member whose gallery faces are closest to this member's (mean cosine of the best pairs)."""
    row = conn.execute(
        "SELECT o.member_id, max(1 - (o.embedding <=> f.embedding)) AS s FROM member_faces f "
        "JOIN member_faces o ON o.member_id <> f.member_id WHERE f.member_id = %s GROUP BY 1 ORDER BY 2 DESC "
        "LIMIT 1", (member_id,)).fetchone()
    return row["member_id"]


def run(args) -> dict:
    tmp = tempfile.mkdtemp(prefix="mvse-rematch-bench-")
    pgdata = Path(tmp) / "pgdata"
    url = embedded_server(pgdata).get_uri()
    cfg = parse_config({"database_url": url})
    db = Database(url, min_size=1, max_size=4)
    faces = Faces()
    report: dict = {"n": args.n, "dim": DIM, "model": MODEL, "videos": args.videos, "storage": args.storage,
                    "threshold": cfg.faces.threshold, "margin": cfg.faces.margin}
    try:
        report["build"] = build(db, cfg, args.n, args.videos, args.storage, faces)
        print(json.dumps(report["build"]), flush=True)
        db.close()
        url = restart_embedded_server(pgdata).get_uri()          # shared_buffers take effect at a restart
        db = Database(url, min_size=1, max_size=4)
        embedder = BenchEmbedder()
        runs = []
        with db.connection() as conn:
            members = [r["id"] for r in conn.execute("SELECT id FROM members ORDER BY id").fetchall()]
        for i in range(args.repeat):
            member = members[(7 * i) % len(members)]
            with db.connection() as conn:
                other = lookalike_of(conn, member)
                add_gallery_face(conn, member, MODEL, faces.of(np.array([members.index(member)]))[0], "correction")
            t0 = time.perf_counter()
            r = rematch_members(db, cfg, [member, other], embedder=embedder)
            seconds = time.perf_counter() - t0
            runs.append({"member": member, "lookalike": other, "seconds": round(seconds, 3),
                         "checked": r["detections_checked"], "changed": r["detections_changed"],
                         "tags_added": len(r["tags_added"]), "tags_removed": len(r["tags_removed"]),
                         "videos": len(r["videos"]), "phases_s": r["timings_s"]})
            print(json.dumps(runs[-1]), flush=True)
        report["corrections"] = runs
        report["median_s"] = round(statistics.median(r["seconds"] for r in runs), 3)
        report["median_s_after_first"] = round(statistics.median(r["seconds"] for r in runs[1:]), 3) \
            if len(runs) > 1 else None
    finally:
        db.close()
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="stored face detections")
    ap.add_argument("--videos", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5, help="corrections measured (each a different member)")
    ap.add_argument("--storage", choices=("plain", "external"), default="plain",
                    help="storage of face_detections.embedding (plain: migration 010; external: pgvector's)")
    args = ap.parse_args(argv)
    print(json.dumps(run(args), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

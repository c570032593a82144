"""Highlights benchmark: a 2-hour video with 20,000 viewer comments, time and memory (issue 16).

    .venv/bin/python bench/highlights_bench.py                          # 2000 segments, 20k comments, 5 runs
    .venv/bin/python bench/highlights_bench.py --comments 100000 --runs 3
    .venv/bin/python bench/highlights_bench.py --media concert.mp4 --json out.json
    .venv/bin/python bench/highlights_bench.py --keep /tmp/hllib --profile     # reuse a library; profile one call

Not a timed test: run it by hand and read the table.

The library is ``bench/editor_bench.py``'s (its ``build_library``, run in a child process so that this one never
loads the embedding model and its memory figures are the measured calls' own): one video of ``--duration`` seconds
with ``--segments`` segments (English captions, Korean on half, members on most, three shot changes per segment,
MiniLM vectors), in an embedded PostgreSQL under a temporary folder. The video's file does not exist unless
``--media FILE`` names one with sound: the offline summary then also ranks by audio loudness, and its first call
(which decodes the waveform) is reported apart from the later ones.

The comments (``--comments``, seeded): Korean and English, about 45 % without a time (some with numbers that are
not times: scores, ratios, times of day, durations), the rest naming times in every form ``indexer.comments``
extracts (``m:ss``, ``mmm:ss``, ``h:mm:ss``, ``3분 15초``, ``75분 30초``, ``1시간 2분 3초``, ``1h2m3s``, a YouTube
link's ``t=``, ranges joined by ``-``/``~``/``to``/``부터``), most of them around ``--hot`` planted moments (jittered
by a few seconds, ranges around them), the others spread over the video, a few past its end, some naming two or
three times, one in a thousand a "chapter list" of 20 times; likes heavy-tailed (Pareto, a few as ``"1.2K"``),
some comments replies. They are written as JSON (``text``, ``likes``, ``author``, ``id``, ``parent_id``,
``published_at``: the shape ``read_comments_file`` takes) and imported with ``import_comments_file``.

Measured ``--runs`` times each (median and worst), in this process, no Gemini configured (the offline summary):
import (the whole, and its parts: reading the file, extracting the times, storing with COPY), ``comment_moments``,
the segments ``highlights`` reads, ``key_moments(n=10)`` (its first call apart), ``highlights`` (n=5) with and
without ``--member``; then ``GET /api/videos/{id}/highlights`` of the real server (``app.py`` as a subprocess, as
``bench/concurrency_bench.py`` starts it; ``--no-http`` skips it). Memory per call: the peak of Python's own
allocations (tracemalloc, one extra call with tracing on, so that tracing does not slow the timed ones) and the
rise of the process's resident memory above where the call began (sampled every 5 ms during the timed calls;
worst of the runs); the first import's rise of ``ru_maxrss`` (the process's high-water mark) is given too.

Then the top highlights with their reasons, and whether they fall on the planted moments (they should).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from concurrency_bench import MEMBERS, Server, minilm_dir  # noqa: E402
from editor_bench import VIDEO_ID, build_library  # noqa: E402

from core.records import clock  # noqa: E402 - the repository is on the path once concurrency_bench is imported

YT_ID = "dQw4w9WgXcQ"
EN = ["{t} the high note 😭", "{t} omg", "who else came back for {t}", "{t} best part of the whole concert",
      "{t} this part!!!", "{t} the crowd went crazy", "the way she smiled at {t}", "{t} goosebumps every time",
      "{t} 👏👏👏", "{t} I can't stop replaying this"]
KO = ["{t} 미쳤다", "{t} 여기 진짜 레전드", "{t} 표정 봐 ㅋㅋㅋ", "{t} 고음 소름", "{t} 부분 무한반복 중",
      "{t} 이 부분 때문에 계속 봄", "{t} 떼창 감동", "{t} 에서 울었어요", "여러분 {t} 꼭 보세요",
      "{t} 하니 목소리 ㅠㅠ"]
MULTI = {1: ["{t} 최고", "{t} so good"], 2: ["{t} 그리고 {u} 둘 다 최고", "{t} and {u} are the best parts"],
         3: ["{t}, {u}, {v} 다 좋아요", "my favourites: {t} {u} {v}"]}
NO_TIME = ["I love this so much", "뉴진스 사랑해", "who's watching in 2025?", "2:1 never forget that game",
           "16:9 화면이라 너무 좋다", "오후 3:15에 시작했어요", "3분 동안 울었다", "10년째 팬입니다 ㅠㅠ",
           "1000만 가자!!", "best concert ever", "하니 목소리 너무 좋다", "the camera work was amazing",
           "가사 진짜 좋다", "watching from Brazil 🇧🇷", "조회수 100만 축하해요", "15초만에 반함",
           "the 3rd song hit hard"]
SONGS = ["Intro", "Attention", "Hype Boy", "Cookie", "Hurt", "Ditto", "OMG", "ETA", "Cool With You", "Get Up",
         "ASAP", "Super Shy", "New Jeans", "Bubble Gum", "How Sweet", "Right Now", "Talk", "Ending ment",
         "Encore", "Outro"]
SINGLE_FORMS = ["m:ss", "m:ss", "m:ss", "h:mm:ss", "ko", "ko", "ko-min", "hms", "link"]
RANGE_FORMS = ["m:ss", "h:mm:ss", "ko"]
RANGE_SEPS = {"m:ss": ["-", " - ", "~", " to "], "h:mm:ss": ["-", " ~ "], "ko": ["~", "부터 ", " - "]}
NEAR_S = 10.0               # a highlight "is" a planted moment when that moment lies within its span ± this


# ---------------------------------------------------------------- comments
def fmt_time(t: int, form: str) -> str:
    h, m, s = t // 3600, t // 60 % 60, t % 60
    if form == "m:ss":
        return f"{t // 60}:{s:02d}"                         # past an hour: mmm:ss (75:30)
    if form == "h:mm:ss":
        return f"{h}:{m:02d}:{s:02d}"
    if form == "ko":
        return f"{h}시간 {m}분 {s}초" if h else f"{m}분 {s}초"
    if form == "ko-min":
        return f"{t // 60}분 {s}초"                          # 75분 30초
    if form == "hms":
        return f"{h}h{m}m{s}s" if h else f"{m}m{s}s"
    if form == "link":
        return f"https://youtu.be/{YT_ID}?t={t}" if t % 2 else f"https://www.youtube.com/watch?v={YT_ID}&t={t}s"
    raise ValueError(form)


def plan_hot(duration: float, k: int, rng) -> list[float]:
    """``k`` moment times at least 4 minutes apart, away from the video's ends."""
    gap = min(240.0, duration / (2 * k + 2))
    while True:
        times = np.sort(rng.uniform(min(120.0, duration / 10), duration - min(120.0, duration / 10), k))
        if k < 2 or np.diff(times).min() >= gap:
            return [round(float(t), 1) for t in times]


def make_comments(n: int, duration: float, hot: list[float], rng) -> tuple[list[dict], list[list], dict]:
    """The comments (JSON objects), the times planted in each (``(start, end)``, as ``extract_times`` should
    find them), and counts."""
    popularity = np.linspace(1.0, 0.55, len(hot))
    rng.shuffle(popularity)
    popularity /= popularity.sum()
    spam = max(3, n // 1000)
    kinds = rng.choice(["none", "hot", "noise"], n, p=[.45, .44, .11])
    kinds[rng.choice(n, spam, replace=False)] = "spam"
    likes = np.minimum((rng.pareto(1.2, n) * 3).astype(int), 500_000)
    start = datetime(2025, 6, 1, tzinfo=timezone.utc)
    counts = {"hot_stamps": 0, "noise_stamps": 0, "past_end_stamps": 0, "ranges": 0, "chapter_lists": spam,
              "multi_stamp_comments": 0}

    def noise_time() -> int:
        if rng.random() < .04:                              # past the end
            counts["past_end_stamps"] += 1
            return int(rng.uniform(duration + 1, duration + 3600))
        counts["noise_stamps"] += 1
        return int(rng.uniform(0, duration))

    def hot_time() -> int:
        counts["hot_stamps"] += 1
        at = hot[int(rng.choice(len(hot), p=popularity))]
        return max(0, int(round(at + rng.normal(0, 2.5))))

    def stamp(t: int, can_range: bool) -> tuple[str, tuple[float, float]]:
        if can_range and rng.random() < .12:
            counts["ranges"] += 1
            form = RANGE_FORMS[int(rng.integers(len(RANGE_FORMS)))]
            a, b = max(0, t - int(rng.integers(0, 6))), t + int(rng.integers(3, 21))
            sep = RANGE_SEPS[form][int(rng.integers(len(RANGE_SEPS[form])))]
            return f"{fmt_time(a, form)}{sep}{fmt_time(b, form)}", (float(a), float(b))
        return fmt_time(t, SINGLE_FORMS[int(rng.integers(len(SINGLE_FORMS)))]), (float(t), float(t))

    comments, planted = [], []
    for i in range(n):
        kind = kinds[i]
        if kind == "none":
            text, times = NO_TIME[int(rng.integers(len(NO_TIME)))], []
        elif kind == "spam":
            ts = sorted({int(t) for t in rng.uniform(0, duration, 19)} | {0})
            while len(ts) < 20:
                ts = sorted(set(ts) | {int(rng.uniform(0, duration))})
            lines = [f"{fmt_time(t, 'h:mm:ss' if t >= 3600 else 'm:ss')} {SONGS[j]}" for j, t in enumerate(ts)]
            text, times = "Timestamps 🎤\n" + "\n".join(lines), [(float(t), float(t)) for t in ts]
        else:
            pick = hot_time if kind == "hot" else noise_time
            k = 1 if rng.random() < .85 else int(rng.integers(2, 4))
            if k == 1:
                part, span = stamp(pick(), True)
                pool = KO if rng.random() < .5 else EN
                text, times = pool[int(rng.integers(len(pool)))].format(t=part), [span]
            else:
                counts["multi_stamp_comments"] += 1
                spans = [stamp(t, False) for t in sorted({pick() for _ in range(k)})]
                fill = [s for s, _ in spans] + [""] * 2
                templates = MULTI[len(spans)]
                text = templates[int(rng.integers(len(templates)))].format(t=fill[0], u=fill[1], v=fill[2])
                times = [s for _, s in spans]
        like = int(likes[i])
        comment = {"id": f"Ugx{i:06d}", "text": text,
                   "likes": f"{like / 1000:.1f}K" if like >= 1000 and rng.random() < .3 else like,
                   "author": f"@viewer{int(rng.integers(n * 2))}",
                   "published_at": (start + timedelta(minutes=i)).isoformat()}
        if i > 10 and rng.random() < .15:
            comment["parent_id"] = f"Ugx{int(rng.integers(i)):06d}"
        comments.append(comment)
        planted.append(times)
    return comments, planted, counts


def check_extraction(comments: list[dict], planted: list[list]) -> tuple[int, list[str]]:
    """Comments whose extracted times differ from the planted ones (a few "1.2K" likes aside, the texts are
    exactly as written), with examples."""
    from indexer.comments import extract_times

    bad = [f"{c['text'][:70]!r}: planted {p}, found {extract_times(c['text'])}"
           for c, p in zip(comments, planted, strict=True) if sorted(set(extract_times(c["text"]))) != sorted(set(p))]
    return len(bad), bad[:3]


# ---------------------------------------------------------------- measuring
def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssPeak:
    """The resident memory's highest point above where the block began, sampled every 5 ms by a thread."""

    def __enter__(self) -> RssPeak:
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def mib(self) -> float:
        return (self.peak - self.base) / 2**20


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024        # KiB on Linux


def measure(rows: list[dict], name: str, fn, runs: int, trace: bool = True, note: str = ""):
    """Time ``fn`` ``runs`` times (RSS sampled), then once more under tracemalloc; a row; fn's last answer."""
    times, rss = [], []
    for _ in range(runs):
        with RssPeak() as r:
            t0 = time.perf_counter()
            out = fn()
            times.append((time.perf_counter() - t0) * 1000)
        rss.append(r.mib)
    py = None
    if trace:
        tracemalloc.start()
        try:
            fn()
            py = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
    rows.append(row(name, times, py, max(rss), note))
    return out


def row(name: str, times: list[float], py: float | None = None, rss: float | None = None, note: str = "") -> dict:
    return {"measure": name, "runs": len(times), "median_ms": round(statistics.median(times), 1),
            "worst_ms": round(max(times), 1), "py_peak_mib": None if py is None else round(py, 1),
            "rss_rise_mib": None if rss is None else round(rss, 1), "note": note, "samples_ms": times}


def table(rows: list[dict]) -> str:
    def cell(v) -> str:
        return "–" if v is None else str(v)

    lines = ["| measure | runs | median ms | worst ms | Python peak MiB | RSS rise MiB | note |",
             "|---|--:|--:|--:|--:|--:|---|"]
    lines += [f"| {r['measure']} | {r['runs']} | {r['median_ms']} | {r['worst_ms']} | {cell(r['py_peak_mib'])} | "
              f"{cell(r['rss_rise_mib'])} | {r['note']} |" for r in rows]
    return "\n".join(lines)




def on_planted(h: dict, hot: list[float]) -> float | None:
    return next((t for t in hot if h["start"] - NEAR_S <= t <= h["end"] + NEAR_S), None)


# ---------------------------------------------------------------- the benchmark
def in_process(args, cfg, comments_file: Path, hot: list[float]) -> tuple[list[dict], dict, dict]:
    from core.context import AppContext
    from db import Database
    from db import comments as store
    from db.comments import comment_moments
    from db.segments import get_segments, video_segment_ids
    from db.server import database_url
    from indexer.comments import Comment, import_comments_file, read_comments_file
    from search.highlights import highlights
    from search.summary import key_moments

    rows: list[dict] = []
    facts: dict = {}
    db = Database(database_url(cfg), min_size=1, max_size=4)
    try:
        ctx = AppContext(config=cfg, db=db, embedder=None, translator=None)
        runs = args.runs

        # 1. the import, whole (the first call's rise of ru_maxrss: this process has not held anything as big yet)
        before = maxrss_mib()
        times, rss = [], []
        for i in range(runs):
            with RssPeak() as r:
                t0 = time.perf_counter()
                result = import_comments_file(db, VIDEO_ID, comments_file)
                times.append((time.perf_counter() - t0) * 1000)
            rss.append(r.mib)
            if i == 0:
                facts["first import: ru_maxrss rise MiB"] = round(maxrss_mib() - before, 1)
        tracemalloc.start()
        try:
            import_comments_file(db, VIDEO_ID, comments_file)
            py = tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()
        rows.append(row(f"import_comments_file ({args.comments:,} comments)", times, py, max(rss),
                        "read + extract + replace (the 1st run has nothing to delete)"))
        facts["import"] = {k: getattr(result, k) for k in ("comments", "with_times", "mentions", "past_end")}

        # … and its parts
        parsed = measure(rows, "  ├ read_comments_file (JSON)", lambda: read_comments_file(comments_file), runs)
        stored = measure(rows, "  ├ extract_times (Comment.row each)", lambda: [c.row() for c in parsed], runs)

        def store_rows():
            with db.connection() as conn:
                store.replace_comments(conn, VIDEO_ID, "file", stored)
                return store.comment_counts(conn, VIDEO_ID, args.duration)

        measure(rows, "  └ replace_comments + comment_counts (COPY, commit)", store_rows, runs)
        assert isinstance(parsed[0], Comment)

        # 2. the comments' moments
        def moments():
            with db.connection() as conn:
                return comment_moments(conn, VIDEO_ID, args.duration)

        found = measure(rows, "comment_moments (SQL)", moments, runs)
        facts["comment moments"] = len(found)
        facts["longest comment moment s"] = round(max((m["end_s"] - m["start_s"] for m in found), default=0), 1)
        facts["top-10 comment moments on planted ones"] = sum(
            any(m["start_s"] - NEAR_S <= t <= m["end_s"] + NEAR_S for t in hot) for m in found[:10])

        def segments():
            with db.connection() as conn:
                return get_segments(conn, video_segment_ids(conn, VIDEO_ID))

        measure(rows, "get_segments (what highlights reads)", segments, runs)

        # 3. the offline summary; its first call apart (with --media: it decodes the waveform)
        t0 = time.perf_counter()
        with RssPeak() as r:
            summary = key_moments(ctx, VIDEO_ID, n=10)
        rows.append(row("key_moments n=10 offline: first call", [(time.perf_counter() - t0) * 1000], None, r.mib,
                        "decodes the waveform" if args.media else "cold: no media, no waveform"))
        facts["summary signals"] = summary["signals"]
        facts["summary notice"] = summary["notice"]
        measure(rows, "key_moments n=10 offline", lambda: key_moments(ctx, VIDEO_ID, n=10), runs)

        # 4. highlights, whole
        first = time.perf_counter()
        highlights(ctx, VIDEO_ID)
        rows.append(row("highlights n=5: first call", [(time.perf_counter() - first) * 1000]))
        result = measure(rows, "highlights n=5", lambda: highlights(ctx, VIDEO_ID), runs)
        with_member = measure(rows, f"highlights n=5 member={args.member}",
                              lambda: highlights(ctx, VIDEO_ID, member=args.member), runs)
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(highlights, ctx, VIDEO_ID)
            print("\nprofile of one highlights(n=5) call, by cumulative time:")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(18)
    finally:
        db.close()
    return rows, facts, {"all": result, "member": with_member}


def over_http(args, config_file: Path, root: Path, expected: dict) -> tuple[list[dict], dict]:
    import httpx

    rows, facts = [], {}
    server = Server(config_file, None, root / "server.log")
    try:
        t0 = time.perf_counter()
        server.wait_ready()
        path = f"/api/videos/{VIDEO_ID}/highlights"
        with httpx.Client(base_url=server.url, timeout=120) as c:
            t1 = time.perf_counter()
            r = c.get(path)
            r.raise_for_status()
            first = (time.perf_counter() - t1) * 1000
            for _ in range(2 * server.serving_workers()):           # every worker's first request out of the way
                c.get(path).raise_for_status()
            facts["server"] = (f"ready in {t1 - t0:.1f}s, {server.serving_workers()} workers; first request "
                               f"{first:.0f} ms")
            for label, params, want in (("", {}, expected["all"]), (f" member={args.member}",
                                                                     {"member": args.member}, expected["member"])):
                times, size = [], 0
                for _ in range(args.runs):
                    t1 = time.perf_counter()
                    r = c.get(path, params=params)
                    times.append((time.perf_counter() - t1) * 1000)
                    r.raise_for_status()
                    size = len(r.content)
                same = [(h["start"], h["end"]) for h in r.json()["highlights"]] == \
                    [(h["start"], h["end"]) for h in want["highlights"]]
                rows.append(row(f"GET …/highlights{label} (httpx, warm)", times,
                                note=f"{size / 1024:.1f} KiB; " + ("same clips as in-process" if same
                                                                   else "clips DIFFER from in-process")))
        try:
            facts["server RSS MiB (all processes)"] = round(sum(p.memory_info().rss
                                                                for p in server.app_processes()) / 2**20)
        except Exception:  # noqa: BLE001 - a report only
            pass
    finally:
        server.stop()
    return rows, facts


def run(args) -> dict:
    from core.config import load_config
    from db.server import stop_embedded_servers

    keep = Path(args.keep).resolve() if args.keep else None
    root = keep or Path(tempfile.mkdtemp(prefix="mvse-highlights-"))
    root.mkdir(parents=True, exist_ok=True)
    data_dir, config_file = root / "data", root / "config.json"
    media = str(Path(args.media).resolve()) if args.media else None
    try:
        if not (data_dir / "pgdata").exists():
            config_file.write_text(json.dumps({
                "data_dir": str(data_dir),
                "models": {"embedding": minilm_dir(), "captioner": "none", "faces": "none"}}))
            # a child process: this one never loads the model, so its memory is the measured calls'
            child = multiprocessing.get_context("spawn").Process(
                target=build_library, args=(data_dir, config_file, args.segments, args.duration, media))
            child.start()
            child.join()
            if child.exitcode:
                raise SystemExit(f"building the library failed (exit {child.exitcode})")
        else:
            print(f"reusing the library in {root} (--segments, --duration and --media as it was built)", flush=True)
        cfg = load_config(config_file)

        rng = np.random.default_rng(args.seed)
        hot = plan_hot(args.duration, args.hot, rng)
        t0 = time.perf_counter()
        comments, planted, counts = make_comments(args.comments, args.duration, hot, rng)
        comments_file = root / "comments.json"
        comments_file.write_text(json.dumps(comments, ensure_ascii=False))
        bad, examples = check_extraction(comments, planted)
        print(f"comments: {len(comments):,} written in {time.perf_counter() - t0:.1f}s "
              f"({comments_file.stat().st_size / 2**20:.1f} MiB); planted {counts}; hot moments at "
              f"{', '.join(clock(t) for t in hot)}; extractor disagrees with the plan on {bad} comment(s)"
              + "".join(f"\n  {e}" for e in examples), flush=True)

        rows, facts, results = in_process(args, cfg, comments_file, hot)
        facts = {"segments": args.segments, "duration_s": args.duration, "comments": args.comments,
                 "runs": args.runs, "cpus": os.cpu_count(), "media": media, "planted": counts,
                 "hot_moments": [clock(t) for t in hot], "extractor_disagreements": bad, **facts,
                 "ru_maxrss MiB at the end of in-process": round(maxrss_mib(), 1)}
        if not args.no_http:
            http_rows, http_facts = over_http(args, config_file, root, results)
            rows += http_rows
            facts.update(http_facts)
    finally:
        stop_embedded_servers()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    return {"facts": facts, "rows": rows, "hot": hot, "highlights": results}


def print_top(data: dict, hot: list[float], title: str) -> int:
    print(f"\n{title} ({data['methods']}):")
    hits = 0
    for h in data["highlights"]:
        near = on_planted(h, hot)
        hits += near is not None
        mark = f"planted {clock(near)}" if near is not None else "NOT planted"
        print(f"  {h['rank']}. {clock(h['start'])}–{clock(h['end'])} peak {clock(h['peak'])} score {h['score']} "
              f"[{'+'.join(h['sources'])}; {mark}]")
        for reason in h["reasons"]:
            print(f"       · {reason[:110]}")
    return hits


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--segments", type=int, default=2000, help="segments of the video (default 2000)")
    p.add_argument("--duration", type=float, default=7200.0, help="the video's length in seconds (default 7200)")
    p.add_argument("--comments", type=int, default=20_000, help="viewer comments (default 20000)")
    p.add_argument("--hot", type=int, default=10, help="planted moments most stamps point at (default 10)")
    p.add_argument("--runs", type=int, default=5, help="timed calls per measure (default 5)")
    p.add_argument("--member", default="Haerin", help=f"the member of the member-filtered highlights "
                                                       f"(one of {', '.join(MEMBERS)}; default Haerin)")
    p.add_argument("--media", default=None, help="a real media file with sound for the video (default: none)")
    p.add_argument("--no-http", action="store_true", help="skip GET /api/videos/{id}/highlights of the server")
    p.add_argument("--profile", action="store_true", help="print a cProfile of one highlights call")
    p.add_argument("--seed", type=int, default=16, help="seed of the comments (default 16)")
    p.add_argument("--keep", default=None, help="a folder to build the library in and keep (reused when it exists)")
    p.add_argument("--json", default=None, help="also write the facts, rows, samples and highlights to this file")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # the finally blocks stop the servers
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()}", flush=True)
    result = run(args)
    print(json.dumps(result["facts"], ensure_ascii=False))
    print(table(result["rows"]))
    hits = print_top(result["highlights"]["all"], result["hot"], "top highlights")
    print(f"  → {hits}/{len(result['highlights']['all']['highlights'])} on planted moments")
    print_top(result["highlights"]["member"], result["hot"], f"top highlights, member={args.member}")
    slow = [f"{r['measure']} (median {r['median_ms']} ms)" for r in result["rows"]
            if "highlights" in r["measure"] and r["median_ms"] > 1000]
    print("\nhighlights calls over 1 s: " + ("; ".join(slow) if slow else "none"))
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

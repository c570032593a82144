// The editor's timeline: a zoomable, scrollable view of one video with a time ruler, a filmstrip, the audio
// waveform, shot changes, the in/out marks and the segments as labelled blocks whose edges can be dragged.
// Plain JS, no build step. Ruler, filmstrip, waveform, shots and marks are drawn on one canvas; segment blocks are
// DOM elements (only those in view, reused between redraws), so they can be clicked, dragged and tested; when more
// than DENSE are in view (a long video seen whole) they are drawn on the canvas too, and clicked through it.
// The page (editor.js) owns the data; the timeline asks for it through the callbacks it is given and reports
// seeks, selections and retimes back.
(function () {
  "use strict";

  const RULER_H = 20, FILM_H = 40, WAVE_H = 34, LANE_TOP = RULER_H + FILM_H + WAVE_H, LANE_H = 40;
  const MAX_PX_PER_S = 400;          // the deepest zoom: 400 px per second (a frame is ~16 px at 25 fps)
  const SNAP_PX = 8;                 // a dragged edge snaps to a shot change or boundary this close
  const MIN_LEN_S = 0.1;             // as the server's MIN_LENGTH_S: a segment keeps at least this length
  const DENSE = 300;                 // more segments than this in view: drawn on the canvas, not as elements
  const TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

  const clock = window.MVSE.clock;   // (t, step): tenths only when the ruler's step needs them

  class Timeline {
    constructor(root, opts) {
      this.root = root; this.o = opts;
      this.scale = 0;                 // px per second; 0 until the first fit
      this.start = 0;                 // the time at the left edge
      this.blocks = new Map();        // segment id -> its block element
      this.wave = null; this.film = null; this.filmImg = null;
      this.drag = null;
      this.stage = root.querySelector(".tl-stage");
      this.canvas = root.querySelector("canvas");
      this.lane = root.querySelector(".tl-lane");
      this.playhead = root.querySelector(".tl-playhead");
      this.hover = root.querySelector(".tl-hover");
      this.scroller = root.querySelector(".tl-scroll");
      this.spacer = root.querySelector(".tl-spacer");
      this.zoomLabel = root.querySelector(".tl-zoom");
      this._wire();
      this._w = this.stage.clientWidth || 1;
      new ResizeObserver(() => { this._w = this.stage.clientWidth || 1; this.redraw(); }).observe(this.stage);
    }

    // ------------------------------------------------------------ geometry
    get width() { return this._w; }   // read once per draw / resize: reading layout after writes would force it
    get duration() { return Math.max(this.o.duration(), 0.1); }
    get minScale() { return this.width / this.duration; }
    x(t) { return (t - this.start) * this.scale; }
    t(x) { return this.start + x / this.scale; }
    get end() { return this.t(this.width); }

    setView(start, scale) {
      this.scale = Math.min(Math.max(scale, this.minScale), MAX_PX_PER_S);
      const visible = this.width / this.scale;
      this.start = Math.min(Math.max(0, start), Math.max(0, this.duration - visible));
      this.spacer.style.width = Math.ceil(this.duration * this.scale) + "px";
      const left = Math.round(this.start * this.scale);
      if (Math.abs(this.scroller.scrollLeft - left) > 1) { this._ignoreScroll = true; this.scroller.scrollLeft = left; }
      const zoom = this.scale / this.minScale;
      this.whole = zoom < 1.0001;       // showing the whole video: stays so when the duration becomes known
      this.zoomLabel.textContent = zoom < 1.05 ? "whole video" : "×" + (zoom < 10 ? zoom.toFixed(1) : Math.round(zoom));
      this.root.dataset.viewStart = this.start.toFixed(3);
      this.root.dataset.viewEnd = this.end.toFixed(3);
      this.redraw();
    }
    zoomBy(factor, atX) {
      if (!this.scale) this.fitVideo();
      const x = atX === undefined ? this._anchorX() : atX;
      const t = this.t(x);
      const scale = Math.min(Math.max(this.scale * factor, this.minScale), MAX_PX_PER_S);
      this.setView(t - x / scale, scale);
    }
    _anchorX() {                      // zoom around the playhead when it is in view, else around the middle
      const px = this.x(this.o.playhead());
      return px >= 0 && px <= this.width ? px : this.width / 2;
    }
    fitVideo() { this.setView(0, this.minScale); }
    fitSegments() {
      const segs = this.o.segments();
      if (!segs.length) { this.fitVideo(); return; }
      const a = segs[0].start, b = segs[segs.length - 1].end, pad = (b - a) * 0.02;
      this.setView(a - pad, this.width / (b - a + 2 * pad));
    }
    reveal(t) {                       // scroll so that t is in view (a selected segment, the playhead while playing)
      if (!this.scale) return;
      if (t < this.start || t > this.end) this.setView(t - (this.end - this.start) * 0.1, this.scale);
    }

    // ------------------------------------------------------------ data that arrives later
    setWaveform(w) { this.wave = w && w.peaks && w.peaks.length ? w : null; this.root.dataset.waveform = this.wave ? "1" : "none"; this.redraw(); }
    setHighlights(list) { this.highlights = list || []; this.redraw(); }
    setFilmstrip(f) {
      if (!f || !f.url) { this.root.dataset.filmstrip = "none"; return; }
      const img = new Image();
      img.onload = () => { this.film = f; this.filmImg = img; this.root.dataset.filmstrip = "1"; this.redraw(); };
      img.src = f.url;
    }

    // ------------------------------------------------------------ drawing
    redraw() {
      if (this._frame) return;
      this._frame = requestAnimationFrame(() => { this._frame = null; this.draw(); });
    }
    draw() {
      this._w = this.stage.clientWidth || 1;
      if (!this.scale || (this.whole && Math.abs(this.scale - this.minScale) > 1e-9)) { this.fitVideo(); return; }
      const t0 = performance.now();
      const segs = this.o.segments();
      const first = this._firstInView(segs);
      let last = first;
      while (last < segs.length && segs[last].start <= this.end) last++;
      this.dense = last - first > DENSE;
      this._drawCanvas(segs, first, last);
      this._drawBlocks(segs, first, last);
      this.movePlayhead();
      this.root.dataset.drawMs = (performance.now() - t0).toFixed(2);
      this.root.dataset.draws = String(Number(this.root.dataset.draws || 0) + 1);
    }

    _firstInView(segs) {               // segments are in start order: the first that reaches into view
      let lo = 0, hi = segs.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (segs[m].end < this.start) lo = m + 1; else hi = m; }
      return lo;
    }

    _colors() {                        // the theme's colours, read once (getComputedStyle on every draw costs)
      if (!this._palette) {
        const css = getComputedStyle(this.root);
        const get = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
        this._palette = { bg: get("--tl-bg", "#1e2128"), text: get("--tl-text", "#c9ccd4"), wave: get("--tl-wave", "#6fb3a8"),
                          shot: get("--tl-shot", "#f5c451"), lane: get("--tl-lane", "#262a33"), seg: get("--tl-seg", "#4f6fc6"),
                          sel: get("--sel", "#f0a500"), play: get("--tl-play", "#3d5bb0") };
      }
      return this._palette;
    }

    _drawCanvas(segs, first, last) {
      const w = this.width, h = LANE_TOP + LANE_H, dpr = window.devicePixelRatio || 1;
      const c = this.canvas;
      if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
        c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); c.style.width = w + "px"; c.style.height = h + "px";
      }
      const g = c.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      const pal = this._colors();
      g.fillStyle = pal.bg; g.fillRect(0, 0, w, LANE_TOP);
      g.fillStyle = pal.lane; g.fillRect(0, LANE_TOP, w, LANE_H);
      this._drawRuler(g, w, pal.text);
      this._drawFilmstrip(g, w);
      this._drawWaveform(g, w, pal.wave);
      if (this.dense) this._drawDenseBlocks(g, segs, first, last, pal);
      // outside the video (a short video fitted wide): dimmed
      const endX = this.x(this.duration);
      if (endX < w) { g.fillStyle = "rgba(0,0,0,.35)"; g.fillRect(endX, 0, w - endX, h); }
      g.fillStyle = pal.shot;
      for (const b of this.o.shots()) {
        const x = this.x(b);
        if (x < -2 || x > w + 2) continue;
        g.fillRect(Math.round(x), RULER_H, 1, FILM_H + WAVE_H);
        g.beginPath(); g.moveTo(x - 4, RULER_H - 6); g.lineTo(x + 4, RULER_H - 6); g.lineTo(x, RULER_H); g.fill();
      }
      for (const h of this.highlights || []) {      // highlights: bands on the ruler, numbered by rank
        const a = this.x(h.start), b = this.x(h.end);
        if (b < 0 || a > w) continue;
        g.fillStyle = "rgba(255, 92, 168, .38)"; g.fillRect(a, 0, Math.max(2, b - a), RULER_H);
        g.fillStyle = "#ff5ca8"; g.fillRect(a, RULER_H - 2, Math.max(2, b - a), 2);
        g.fillStyle = "#fff"; g.font = "bold 11px system-ui, sans-serif"; g.fillText("★" + h.rank, Math.max(a, 0) + 3, 4);
      }
      const marks = this.o.marks();
      for (const [k, col] of [["in", "#3fbf6f"], ["out", "#e5534b"]]) {
        if (marks[k] === null || marks[k] === undefined) continue;
        g.fillStyle = col; g.fillRect(Math.round(this.x(marks[k])) - 1, 0, 2, LANE_TOP);
      }
    }

    _drawRuler(g, w, text) {
      const visible = w / this.scale;
      const step = TICKS.find((s) => s * this.scale >= 80) || 3600;
      g.fillStyle = text; g.font = "11px system-ui, sans-serif"; g.textBaseline = "top";
      const first = Math.floor(this.start / step) * step;
      for (let t = first; t <= this.start + visible + step; t += step) {
        const x = Math.round(this.x(t));
        g.fillRect(x, RULER_H - 8, 1, 8);
        g.fillText(clock(t, step), x + 3, 3);
        for (let k = 1; k < 5; k++) g.fillRect(Math.round(this.x(t + k * step / 5)), RULER_H - 4, 1, 4);
      }
    }

    _drawFilmstrip(g, w) {
      const f = this.film, img = this.filmImg;
      if (!f || !img || !f.times.length) return;
      const tileW = f.tile_width * FILM_H / f.tile_height, n = f.times.length;
      const startX = Math.max(0, Math.floor(this.x(0)));
      const endX = Math.min(w, this.x(this.duration));
      for (let x = startX; x < endX; x += tileW) {
        const t = this.t(x + tileW / 2);
        let i = Math.floor(t / this.duration * n);
        i = Math.min(Math.max(i, 0), n - 1);
        g.drawImage(img, i * f.tile_width, 0, f.tile_width, f.tile_height, x, RULER_H, tileW, FILM_H);
      }
    }

    _drawWaveform(g, w, col) {
      const wave = this.wave;
      if (!wave) return;
      const peaks = wave.peaks, step = wave.step, mid = RULER_H + FILM_H + WAVE_H / 2;
      g.fillStyle = col;
      for (let x = 0; x < w; x++) {
        const a = Math.floor(this.t(x) / step), b = Math.max(a + 1, Math.floor(this.t(x + 1) / step));
        if (b <= 0 || a >= peaks.length) continue;
        let p = 0;
        for (let i = Math.max(a, 0); i < Math.min(b, peaks.length); i++) if (peaks[i] > p) p = peaks[i];
        const hh = Math.max(1, p / 255 * (WAVE_H / 2 - 1));
        g.fillRect(x, mid - hh, 1, 2 * hh);
      }
    }

    _drawDenseBlocks(g, segs, first, last, pal) {
      const sel = this.o.selection(), playing = this.o.playing();
      for (let i = first; i < last; i++) {
        const s = segs[i];
        const a = this.x(s.start), width = Math.max(1, (s.end - s.start) * this.scale);
        g.fillStyle = sel.has(s.id) ? pal.sel : s.id === playing ? pal.play : pal.seg;
        g.fillRect(a, LANE_TOP + 3, width > 3 ? width - 1 : width, LANE_H - 6);
      }
    }

    _drawBlocks(segs, first, last) {
      const sel = this.o.selection(), playing = this.o.playing();
      const w = this.width, seen = new Set();
      if (this.dense) {                // all on the canvas: no elements to keep
        for (const e of this.blocks.values()) e.remove();
        this.blocks.clear();
        last = first;
      }
      for (let i = first; i < last; i++) {
        const s = segs[i];
        const live = (this.drag && this.drag.preview[s.id]) || (this.saving && this.saving[s.id]);
        const a = live ? live[0] : s.start, b = live ? live[1] : s.end;
        const left = this.x(a), width = Math.max(1, (b - a) * this.scale);
        let e = this.blocks.get(s.id);
        if (!e) { e = this._block(s); this.blocks.set(s.id, e); this.lane.appendChild(e); }
        e.style.transform = "translateX(" + left.toFixed(1) + "px)";
        e.style.width = width.toFixed(1) + "px";
        e.classList.toggle("selected", sel.has(s.id));
        e.classList.toggle("playing", s.id === playing);
        e.classList.toggle("narrow", width < 24);
        if (e._key !== s.version + "|" + (i + 1)) this._label(e, s, i + 1);
        seen.add(s.id);
      }
      for (const [id, e] of this.blocks) if (!seen.has(id)) { e.remove(); this.blocks.delete(id); }
      this.root.dataset.blocks = String(seen.size);
      this.root.dataset.dense = this.dense ? "1" : "0";
      if (w && this.lane.style.width !== w + "px") this.lane.style.width = w + "px";
    }

    _block(s) {
      const e = document.createElement("div");
      e.className = "tl-seg"; e.dataset.id = s.id;
      const l = document.createElement("div"); l.className = "tl-handle l"; l.dataset.side = "start"; l.title = "drag to move the start";
      const r = document.createElement("div"); r.className = "tl-handle r"; r.dataset.side = "end"; r.title = "drag to move the end";
      const label = document.createElement("div"); label.className = "tl-label";
      e.append(l, label, r);
      return e;
    }

    _label(e, s, n) {
      e._key = s.version + "|" + n;
      const label = e.querySelector(".tl-label");
      label.replaceChildren();
      const who = document.createElement("b"); who.textContent = s.members.length ? s.members.join(", ") : "#" + n;
      const what = document.createElement("span"); what.textContent = s.caption || s.transcript || "";
      label.append(who, document.createTextNode(" "), what);
      e.title = "#" + n + " · " + clock(s.start, 0.1) + "–" + clock(s.end, 0.1) +
                (s.members.length ? " · " + s.members.join(", ") : "") + (s.caption ? "\n" + s.caption : "");
    }

    movePlayhead() {
      const x = this.x(this.o.playhead());
      this.playhead.style.transform = "translateX(" + x.toFixed(1) + "px)";
      this.playhead.hidden = x < -1 || x > this.width + 1;
    }

    // ------------------------------------------------------------ interaction
    _wire() {
      const tb = this.root.querySelector(".tl-toolbar");
      tb.querySelector(".tl-zoom-in").addEventListener("click", () => this.zoomBy(1.5));
      tb.querySelector(".tl-zoom-out").addEventListener("click", () => this.zoomBy(1 / 1.5));
      tb.querySelector(".tl-fit-video").addEventListener("click", () => this.fitVideo());
      tb.querySelector(".tl-fit-segments").addEventListener("click", () => this.fitSegments());
      this.scroller.addEventListener("scroll", () => {
        if (this._ignoreScroll) { this._ignoreScroll = false; return; }
        this.setView(this.scroller.scrollLeft / this.scale, this.scale);
      });
      this.stage.addEventListener("wheel", (ev) => {        // wheel: zoom at the pointer; shift+wheel or sideways: scroll
        ev.preventDefault();
        const r = this.stage.getBoundingClientRect();
        if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
          const d = Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : ev.deltaY;
          this.setView(this.start + d / this.scale, this.scale);
        } else {
          this.zoomBy(Math.pow(1.0015, -ev.deltaY), ev.clientX - r.left);
        }
      }, { passive: false });
      this.stage.addEventListener("pointerdown", (ev) => this._down(ev));
      this.stage.addEventListener("pointermove", (ev) => this._move(ev));
      this.stage.addEventListener("pointerup", (ev) => this._up(ev));
      this.stage.addEventListener("pointercancel", () => {
        this.drag = null; delete this.root.dataset.dragging; this.hover.hidden = true; this.redraw();
      });
      this.stage.addEventListener("pointerleave", () => { if (!this.drag) this.hover.hidden = true; });
    }

    _segmentAt(t) {                   // the segment under time t (dense mode: blocks are pixels on the canvas)
      const segs = this.o.segments();
      let best = null, bestD = 4 / this.scale;        // within 4 px of a block counts as on it
      let lo = 0, hi = segs.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (segs[m].end < t - bestD) lo = m + 1; else hi = m; }
      for (let k = lo; k < segs.length && segs[k].start <= t + bestD; k++) {
        const s = segs[k], d = t < s.start ? s.start - t : t > s.end ? t - s.end : 0;
        if (d <= bestD) { best = s.id; bestD = d; }
      }
      return best;
    }

    _px(ev) { return ev.clientX - this.stage.getBoundingClientRect().left; }

    _down(ev) {
      if (ev.button !== 0) return;
      const block = ev.target.closest(".tl-seg");
      const side = ev.target.dataset.side;
      if (block && side) {
        const id = Number(block.dataset.id);
        this.drag = this._edgeDrag(id, side);
        this.stage.setPointerCapture(ev.pointerId);
        ev.preventDefault();
        return;
      }
      this.press = { x: this._px(ev), y: ev.clientY - this.stage.getBoundingClientRect().top,
                     block: block ? Number(block.dataset.id) : null };
    }

    _edgeDrag(id, side) {
      // The edge moves between its neighbours; a neighbour that touches it moves with it (a shared boundary).
      const segs = this.o.segments(), i = segs.findIndex((s) => s.id === id), s = segs[i];
      const prev = segs[i - 1], next = segs[i + 1];
      const touching = side === "end" ? (next && Math.abs(next.start - s.end) < 0.01 ? next : null)
                                      : (prev && Math.abs(prev.end - s.start) < 0.01 ? prev : null);
      let lo, hi;
      if (side === "end") {
        lo = s.start + MIN_LEN_S;
        hi = touching ? touching.end - MIN_LEN_S : (next ? next.start : this.duration);
      } else {
        hi = s.end - MIN_LEN_S;
        lo = touching ? touching.start + MIN_LEN_S : (prev ? prev.end : 0);
      }
      return { id, side, seg: s, touching, lo, hi, from: side === "end" ? s.end : s.start, to: null, preview: {},
               versions: { [s.id]: s.version, ...(touching ? { [touching.id]: touching.version } : {}) } };
    }

    _snap(t, skip) {
      if (!this.o.snapOn()) return t;
      let best = t, bestPx = SNAP_PX;
      const consider = (b) => { const d = Math.abs(b - t) * this.scale; if (d < bestPx) { best = b; bestPx = d; } };
      for (const b of this.o.shots()) consider(b);
      for (const s of this.o.segments()) if (!skip.has(s.id)) { consider(s.start); consider(s.end); }
      consider(this.o.playhead());
      return best;
    }

    _move(ev) {
      const x = this._px(ev);
      const d = this.drag;
      if (!d) {
        this.hover.hidden = false;
        this.hover.style.transform = "translateX(" + x + "px)";
        this.hover.dataset.time = clock(this.t(x), 0.1);
        return;
      }
      const skip = new Set([d.id].concat(d.touching ? [d.touching.id] : []));
      let t = this._snap(this.t(x), skip);
      t = Math.round(Math.min(Math.max(t, d.lo), d.hi) * 1000) / 1000;
      d.to = t;
      d.preview = {};
      const s = d.seg;
      d.preview[s.id] = d.side === "end" ? [s.start, t] : [t, s.end];
      if (d.touching) d.preview[d.touching.id] = d.side === "end" ? [t, d.touching.end] : [d.touching.start, t];
      this.hover.hidden = false;
      this.hover.style.transform = "translateX(" + this.x(t) + "px)";
      this.hover.dataset.time = clock(t, 0.1);
      this.root.dataset.dragging = "1";
      this.redraw();
    }

    _up(ev) {
      const d = this.drag;
      if (d) {
        this.drag = null; delete this.root.dataset.dragging;
        if (d.to !== null && Math.abs(d.to - d.from) > 1e-4) {
          const changes = Object.entries(d.preview).map(([id, [start, end]]) =>
            ({ id: Number(id), version: d.versions[id], start, end }));
          this.saving = d.preview;        // shown where it was dropped until the page has the server's answer
          Promise.resolve(this.o.onRetime(changes)).finally(() => { this.saving = null; this.redraw(); });
        }
        this.redraw();
        return;
      }
      const p = this.press; this.press = null;
      if (!p || Math.abs(this._px(ev) - p.x) > 4) return;
      if (p.block === null && this.dense && p.y >= LANE_TOP) p.block = this._segmentAt(this.t(p.x));
      if (p.block !== null) {
        const mode = ev.shiftKey ? "range" : (ev.ctrlKey || ev.metaKey) ? "toggle" : "single";
        this.o.onSelect(p.block, mode);
      } else {
        this.o.onSeek(Math.min(Math.max(this.t(p.x), 0), this.duration));
      }
    }
  }

  window.Timeline = Timeline;
})();

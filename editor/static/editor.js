// Video editor page: player, timeline, segment list, detail form, history, keyboard shortcuts.
// Plain JS, no build step. All text from the server goes into the page through textContent (never innerHTML).
(function () {
  "use strict";
  const root = document.getElementById("editor");
  if (!root) return;
  const videoId = root.dataset.videoId;
  const player = document.getElementById("player");
  const $ = (id) => document.getElementById(id);
  const SNAP_S = 0.5;

  const state = { video: null, segments: [], members: [], selected: null, marks: { in: null, out: null },
                  draftMembers: null, history: [] };

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const fmt = (t) => (t === null || t === undefined) ? "–" : Number(t).toFixed(2);
  const duration = () => (state.video && state.video.duration_s) || player.duration || 1;

  function banner(text, offerReload) {
    $("banner-text").textContent = text;
    $("banner-reload").hidden = !offerReload;
    $("banner").hidden = false;
    $("banner").className = offerReload ? "banner conflict" : "banner";
  }
  function clearBanner() { $("banner").hidden = true; }

  async function api(method, url, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const res = await fetch(url, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      let msg = data && data.detail ? data.detail : res.status + " " + res.statusText;
      if (Array.isArray(msg)) msg = msg.map((d) => (d.loc || []).join(".") + ": " + d.msg).join("; ");
      const err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // Operations run one after another (a key pressed while one is under way waits its turn, it is not lost).
  let queue = Promise.resolve();
  let pending = 0;
  function act(fn) {
    pending += 1; root.dataset.busy = "1";
    queue = queue.then(async () => {
      try {
        await fn();
        clearBanner();
      } catch (err) {
        if (err.status === 409) banner(err.message + " Reload to see the current state.", true);
        else if (err.status === 401 || err.status === 403) banner(err.message + " (log in again)", false);
        else banner(err.message, false);
      } finally {
        pending -= 1; if (pending === 0) root.dataset.busy = "0";
      }
    });
    return queue;
  }

  function snap(t) {
    if (!$("snap").checked || !state.video) return t;
    let best = t, bestD = SNAP_S;
    for (const b of state.video.shot_boundaries || []) {
      const d = Math.abs(b - t);
      if (d < bestD) { best = b; bestD = d; }
    }
    return Math.round(best * 1000) / 1000;
  }
  const now = () => Math.round(player.currentTime * 1000) / 1000;
  const segById = (id) => state.segments.find((s) => s.id === id) || null;
  const segAt = (t) => state.segments.find((s) => s.start <= t && t < s.end) || null;
  const selected = () => segById(state.selected);

  // ------------------------------------------------------------------ loading
  async function loadAll() {
    const [data, members] = await Promise.all([api("GET", "/api/videos/" + encodeURIComponent(videoId)),
                                               api("GET", "/api/members")]);
    state.video = data.video;
    state.segments = data.segments.sort((a, b) => a.start - b.start);
    state.members = members.members;
    if (!segById(state.selected)) state.selected = null;      // the selection survives a reload while it exists
    state.draftMembers = null;
    renderAll();
    await loadHistory();
  }

  async function loadHistory() {
    const scope = document.querySelector("input[name=hscope]:checked").value;
    let url = "/api/videos/" + encodeURIComponent(videoId) + "/history";
    if (scope === "segment") {
      if (!state.selected) { state.history = []; renderHistory(); return; }
      url = "/api/segments/" + state.selected + "/history";
    }
    state.history = (await api("GET", url)).history;
    renderHistory();
  }

  // ------------------------------------------------------------------ rendering
  function renderAll() { renderTimeline(); renderList(); renderDetail(); renderMarks(); }

  function renderTimeline() {
    const box = $("timeline-segments"); box.replaceChildren();
    const d = duration();
    for (const s of state.segments) {
      const b = el("div", { class: "tl-seg" + (s.id === state.selected ? " selected" : ""), title: "#" + s.id + " " + s.caption, "data-id": s.id });
      b.style.left = (100 * s.start / d) + "%"; b.style.width = (100 * (s.end - s.start) / d) + "%";
      b.addEventListener("click", (ev) => { ev.stopPropagation(); select(s.id, true); });
      box.appendChild(b);
    }
    const shots = $("timeline-shots"); shots.replaceChildren();
    for (const t of (state.video && state.video.shot_boundaries) || []) {
      const m = el("div", { class: "tl-shot", title: "shot change " + fmt(t) + " s" }); m.style.left = (100 * t / d) + "%"; shots.appendChild(m);
    }
  }

  function renderMarks() {
    $("marks").textContent = "in " + fmt(state.marks.in) + " / out " + fmt(state.marks.out);
    const box = $("timeline-marks"); box.replaceChildren();
    const d = duration();
    for (const [k, t] of Object.entries(state.marks)) {
      if (t === null) continue;
      const m = el("div", { class: "tl-mark " + k }); m.style.left = (100 * t / d) + "%"; box.appendChild(m);
    }
  }

  function matchesFilter(s, words) {      // every word of the filter in a member name, a caption or what is said
    const text = [s.caption, s.caption_ko, s.transcript, ...s.members].filter(Boolean).join(" ").toLowerCase();
    return words.every((w) => text.includes(w));
  }

  function renderList() {
    const body = document.querySelector("#segments tbody"); body.replaceChildren();
    const words = $("list-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
    state.segments.forEach((s, i) => {
      if (words.length && !matchesFilter(s, words)) return;
      const tr = el("tr", { "data-id": s.id, class: s.id === state.selected ? "selected" : "" });
      tr.appendChild(el("td", { title: "segment id " + s.id }, i + 1));    // its place in this video, not a database id
      tr.appendChild(el("td", {}, fmt(s.start)));
      tr.appendChild(el("td", {}, fmt(s.end)));
      const cap = el("td", { class: "cap" });
      if (s.caption) cap.appendChild(el("div", {}, s.caption));
      if (s.caption_ko) cap.appendChild(el("div", { class: "ko" }, s.caption_ko));
      if (s.transcript) cap.appendChild(el("div", { class: "said" }, "“" + s.transcript + "”"));
      tr.appendChild(cap);
      tr.appendChild(el("td", {}, s.members.join(", ")));
      tr.addEventListener("click", () => select(s.id, true));
      body.appendChild(tr);
    });
  }

  function renderDetail() {
    const s = selected();
    $("d-form").hidden = !s; $("d-empty").hidden = !!s;
    $("d-id").textContent = s ? s.id : "–";
    $("d-range").textContent = s ? fmt(s.start) + "–" + fmt(s.end) + " s" : "";
    $("d-version").textContent = s ? "v" + s.version : "";
    if (!s) return;
    $("d-auto").textContent = s.caption_auto || "(none)";
    $("d-caption").value = s.caption_edited || "";
    $("d-ko").value = s.caption_ko || "";
    $("d-transcript").value = s.transcript || "";
    $("d-export").href = "/api/segments/" + s.id + "/clip.mp4";
    renderMemberChips();
  }

  function renderMemberChips() {
    const s = selected(); if (!s) return;
    const names = state.draftMembers || s.members;
    const chips = $("d-members"); chips.replaceChildren();
    for (const n of names) {
      const c = el("span", { class: "chip" }, n);
      const x = el("button", { type: "button", class: "chip-x", title: "remove " + n }, "×");
      x.setAttribute("aria-label", "remove " + n);
      x.addEventListener("click", () => { state.draftMembers = names.filter((m) => m !== n); renderMemberChips(); });
      c.appendChild(x); chips.appendChild(c);
    }
    const sel = $("d-add-member");
    sel.replaceChildren(el("option", { value: "" }, "+ add member…"));
    for (const m of state.members) if (!names.includes(m.name)) sel.appendChild(el("option", { value: m.name }, m.name + (m.aliases.length ? " (" + m.aliases.join(", ") + ")" : "")));
  }

  function renderHistory() {
    const list = $("history"); list.replaceChildren();
    if (!state.history.length) { list.appendChild(el("li", { class: "empty" }, "No changes yet.")); return; }
    for (const h of state.history) {
      const li = el("li", { "data-id": h.id, class: h.reverted_by ? "reverted" : "" });
      li.appendChild(el("span", { class: "h-id" }, "#" + h.id));
      li.appendChild(el("span", { class: "h-sum" }, h.summary));
      li.appendChild(el("span", { class: "h-meta" }, h.actor + " · " + new Date(h.created_at).toLocaleString()));
      if (h.reverted_by) {          // already undone: say by which entry instead of offering a revert that would fail
        const by = state.history.find((x) => x.id === h.reverted_by);
        li.appendChild(el("span", { class: "h-reverted" },
          "reverted by #" + h.reverted_by + (by ? " (" + by.actor + ")" : "")));
      } else {
        const b = el("button", { type: "button", class: "h-revert" }, "Revert");
        b.addEventListener("click", () => revert(h.id));
        li.appendChild(b);
      }
      list.appendChild(li);
    }
  }

  function select(id, seek) {
    state.selected = id; state.draftMembers = null;
    const s = selected();
    if (s && seek) player.currentTime = s.start + 0.001;
    renderTimeline(); renderList(); renderDetail();
    const row = document.querySelector('#segments tr[data-id="' + id + '"]');
    if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
    if (document.querySelector("input[name=hscope]:checked").value === "segment") act(loadHistory);
  }

  // ------------------------------------------------------------------ playhead sync
  let lastActive = null;
  function tick() {
    const looping = $("loop").checked && selected();
    if (looping && !player.paused && player.currentTime >= looping.end) player.currentTime = looping.start;
    const t = player.currentTime;
    $("playhead").style.left = (100 * t / duration()) + "%";
    $("clock").textContent = fmt(t) + " s";
    const active = segAt(t);
    const id = active ? active.id : null;
    if (id !== lastActive) {
      lastActive = id;
      document.querySelectorAll("#segments tr.playing, .tl-seg.playing").forEach((e) => e.classList.remove("playing"));
      if (id !== null) document.querySelectorAll('[data-id="' + id + '"]').forEach((e) => e.classList.add("playing"));
      const row = id !== null && document.querySelector('#segments tr[data-id="' + id + '"]');
      if (row && $("follow").checked) row.scrollIntoView({ block: "nearest" });   // the list follows the playhead
      if (id !== null && !player.paused && state.selected !== id && !document.activeElement.matches("textarea, input")) select(id, false);
    }
  }
  player.addEventListener("timeupdate", tick);
  player.addEventListener("seeked", tick);
  player.addEventListener("loadedmetadata", () => { renderTimeline(); renderMarks(); tick(); });
  (function frame() { if (!player.paused) tick(); requestAnimationFrame(frame); })();

  // ------------------------------------------------------------------ media that does not play
  // No file recorded (a metadata-only import), a file gone, or a codec browsers do not play with no playable copy:
  // a plain notice instead of a black player. The media route's 404 says why; anything else is the browser's error.
  const MEDIA_ERRORS = { 1: "loading was aborted", 2: "a network error", 3: "it could not be decoded",
                         4: "its format or codec is not supported" };
  let mediaNoticeShown = false;
  async function noPlayableMedia() {
    if (mediaNoticeShown) return;
    mediaNoticeShown = true;
    const err = player.error;
    let reason = "this browser cannot play it (" + ((err && (MEDIA_ERRORS[err.code] || err.message)) || "unknown error") +
                 "). Re-index the video to make a playable copy: python -m indexer index --force FILE";
    try {
      const res = await fetch(player.getAttribute("src"), { headers: { "Range": "bytes=0-0", "Accept": "application/json" },
                                                            credentials: "same-origin" });
      if (!res.ok) {
        let data = null;
        try { data = await res.json(); } catch (e) { data = null; }
        reason = data && data.detail ? String(data.detail) : res.status + " " + res.statusText;
      }
    } catch (e) { /* keep the browser's reason */ }
    const notice = $("media-notice");
    notice.textContent = "No playable media for this video: " + reason.replace(/[.\s]+$/, "") +
                         ". The segments can still be edited.";
    notice.hidden = false;
    player.hidden = true;
    root.dataset.media = "none";
  }
  player.addEventListener("error", noPlayableMedia);
  if (player.error) noPlayableMedia();         // it failed before this script ran
  $("timeline").addEventListener("click", (ev) => {
    const r = $("timeline").getBoundingClientRect();
    player.currentTime = Math.max(0, (ev.clientX - r.left) / r.width * duration());
  });

  // ------------------------------------------------------------------ operations
  function afterChange(selectId) {
    return loadAll().then(() => { if (selectId !== undefined) select(selectId, false); });
  }
  function needSelected() {
    const s = selected();
    if (!s) throw new Error("Select a segment first.");
    return s;
  }

  const save = () => act(async () => {
    const s = needSelected();
    const body = { version: s.version, caption: $("d-caption").value, caption_ko: $("d-ko").value,
                   transcript: $("d-transcript").value };
    if (state.draftMembers) body.members = state.draftMembers;
    const out = await api("PATCH", "/api/segments/" + s.id, body);
    await afterChange(out.id);
    acknowledge(out.version === s.version ? "Nothing changed" : "Saved · v" + out.version);
  });

  let ackTimer = null;
  function acknowledge(text) {           // a save is confirmed where the person looks, then fades
    $("d-saved").textContent = text;
    clearTimeout(ackTimer);
    ackTimer = setTimeout(() => { $("d-saved").textContent = ""; }, 4000);
  }

  const setBound = (which) => act(async () => {
    const s = selected();
    const t = snap(now());
    if (!s) { state.marks[which === "start" ? "in" : "out"] = t; renderMarks(); return; }
    const out = await api("PATCH", "/api/segments/" + s.id, { version: s.version, [which]: t });
    await afterChange(out.id);
  });

  const setMark = (which) => { state.marks[which] = snap(now()); renderMarks(); };

  const split = (at) => act(async () => {
    const t = at === undefined ? snap(now()) : at;
    const s = segAt(t) || selected();
    if (!s) throw new Error("No segment at " + fmt(t) + " s to split.");
    const out = await api("POST", "/api/segments/" + s.id + "/split", { version: s.version, at: t });
    await afterChange(out.segments[1].id);
  });

  const merge = () => act(async () => {
    const s = needSelected();
    const i = state.segments.indexOf(s);
    const next = state.segments[i + 1];
    if (!next) throw new Error("Segment " + s.id + " is the last one: there is no next segment to merge with.");
    const out = await api("POST", "/api/segments/merge", { segment_ids: [s.id, next.id],
                                                           versions: { [s.id]: s.version, [next.id]: next.version } });
    await afterChange(out.id);
  });

  const create = () => act(async () => {
    const { in: a, out: b } = state.marks;
    if (a === null || b === null) throw new Error("Set the in and out marks first (Shift+I, Shift+O).");
    const out = await api("POST", "/api/segments", { video_id: videoId, start: a, end: b });
    state.marks = { in: null, out: null };
    await afterChange(out.id);
  });

  const remove = () => act(async () => {
    const s = needSelected();
    if (!window.confirm("Delete segment " + s.id + " (" + fmt(s.start) + "–" + fmt(s.end) + " s)? It can be reverted from the history.")) return;
    await api("DELETE", "/api/segments/" + s.id + "?version=" + s.version);
    state.selected = null;
    await afterChange();
  });

  const revert = (historyId) => act(async () => {
    await api("POST", "/api/history/" + historyId + "/revert");
    await afterChange(state.selected && segById(state.selected) ? state.selected : undefined);
  });

  const undoLast = () => act(async () => {
    const all = (await api("GET", "/api/videos/" + encodeURIComponent(videoId) + "/history")).history;
    const last = all.find((h) => h.operation !== "revert" && !h.reverted_by);
    if (!last) throw new Error("Nothing to revert.");
    await api("POST", "/api/history/" + last.id + "/revert");
    await afterChange(state.selected && segById(state.selected) ? state.selected : undefined);
  });

  function boundaries() {
    const set = new Set();
    for (const s of state.segments) { set.add(s.start); set.add(s.end); }
    for (const b of (state.video && state.video.shot_boundaries) || []) set.add(b);
    return [...set].sort((a, b) => a - b);
  }
  function jumpBoundary(dir) {
    const t = player.currentTime, bs = boundaries();
    const target = dir > 0 ? bs.find((b) => b > t + 0.01) : [...bs].reverse().find((b) => b < t - 0.01);
    if (target !== undefined) player.currentTime = target;
  }

  // ------------------------------------------------------------------ wiring
  $("d-form").addEventListener("submit", (ev) => { ev.preventDefault(); save(); });
  $("d-add-member").addEventListener("change", (ev) => {
    const s = selected(); const n = ev.target.value; if (!s || !n) return;
    state.draftMembers = [...(state.draftMembers || s.members), n]; renderMemberChips();
  });
  $("btn-split").addEventListener("click", () => split());
  $("btn-split-at").addEventListener("click", () => {
    const v = $("split-at").value;
    if (v === "") { banner("Type a time in seconds to split at.", false); return; }
    split(Number(v));
  });
  $("btn-merge").addEventListener("click", merge);
  $("btn-create").addEventListener("click", create);
  $("btn-delete").addEventListener("click", remove);
  $("btn-undo").addEventListener("click", undoLast);
  $("banner-reload").addEventListener("click", () => act(() => afterChange(state.selected || undefined)));
  $("banner-close").addEventListener("click", clearBanner);
  document.querySelectorAll("input[name=hscope]").forEach((r) => r.addEventListener("change", () => act(loadHistory)));

  function seekBy(d) { player.currentTime = Math.min(Math.max(0, player.currentTime + d), duration()); }
  function frameStep(n) {             // one frame at the video's own rate; playing stops, as in every editor
    player.pause();
    seekBy(n / ((state.video && state.video.fps) || 25));
  }
  $("list-filter").addEventListener("input", renderList);
  $("rate").addEventListener("change", () => { player.playbackRate = Number($("rate").value); });
  player.addEventListener("ratechange", () => {
    const option = [...$("rate").options].find((o) => Number(o.value) === player.playbackRate);
    if (option) $("rate").value = option.value;
  });
  $("loop").addEventListener("change", () => {
    const s = selected();
    if ($("loop").checked && s && (player.currentTime < s.start || player.currentTime >= s.end)) player.currentTime = s.start;
  });
  function togglePlay() { if (player.paused) player.play(); else player.pause(); }

  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.matches && ev.target.matches("textarea, input[type=text], input[type=number], input[type=search], input[type=password], select");
    if (typing) {
      if (ev.key === "Escape") ev.target.blur();
      else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); save(); }
      return;   // Ctrl+Z inside a text field stays the browser's own undo
    }
    if ((ev.ctrlKey || ev.metaKey) && (ev.key === "z" || ev.key === "Z")) { ev.preventDefault(); undoLast(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key;
    const handled = {
      " ": togglePlay,
      "j": () => seekBy(-5), "J": () => seekBy(-5),
      "k": () => { player.pause(); player.playbackRate = 1; }, "K": () => { player.pause(); player.playbackRate = 1; },
      "l": () => { if (!player.paused) player.playbackRate = Math.min(player.playbackRate * 2, 4); player.play(); },
      "L": () => { if (!player.paused) player.playbackRate = Math.min(player.playbackRate * 2, 4); player.play(); },
      "ArrowLeft": () => seekBy(-1), "ArrowRight": () => seekBy(1),
      ",": () => frameStep(-1), ".": () => frameStep(1),
      "i": () => setBound("start"), "o": () => setBound("end"),
      "I": () => setMark("in"), "O": () => setMark("out"),
      "n": create, "N": create,
      "s": () => split(), "S": () => split(),
      "m": merge, "M": merge,
      "[": () => jumpBoundary(-1), "]": () => jumpBoundary(1),
      "Delete": remove,
      "Escape": () => { state.selected = null; renderAll(); },
    }[k];
    if (handled) { ev.preventDefault(); handled(); }
  });

  act(async () => {
    const initial = Number(root.dataset.segment);
    await loadAll();
    if (initial && segById(initial)) select(initial, true);
    root.dataset.ready = "1";
  });
})();

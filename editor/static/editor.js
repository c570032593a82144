// Video editor page: player, timeline (timeline.js), segment list, detail form or bulk panel for a multi-selection,
// history, keyboard shortcuts.
// Plain JS, no build step. All text from the server goes into the page through textContent (never innerHTML).
(function () {
  "use strict";
  const root = document.getElementById("editor");
  if (!root) return;
  const videoId = root.dataset.videoId;
  const player = document.getElementById("player");
  const $ = (id) => document.getElementById(id);
  const SNAP_S = 0.5;
  const MAX_JOINED = 50;

  // selected: the segment the detail form shows (the last one clicked); selection: every selected id (shift-click
  // adds a run, ctrl/cmd-click one more); anchor: where a shift-click run starts.
  const state = { video: null, segments: [], members: [], selected: null, selection: new Set(), anchor: null,
                  marks: { in: null, out: null }, draftMembers: null, history: [], bulkAdd: [], bulkRemove: [] };

  // ------------------------------------------------------------------ helpers
  const { el, api } = window.MVSE;
  const fmt = (t) => (t === null || t === undefined) ? "–" : Number(t).toFixed(2);
  const duration = () => (state.video && state.video.duration_s) || player.duration || 1;

  function banner(text, offerReload) {
    $("banner-text").textContent = text;
    $("banner-reload").hidden = !offerReload;
    $("banner").hidden = false;
    $("banner").className = offerReload ? "banner conflict" : "banner";
  }
  function clearBanner() { $("banner").hidden = true; }

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
    const hm = $("hl-member");
    if (hm.options.length === 1) for (const mm of state.members) hm.appendChild(el("option", { value: mm.name }, mm.name));
    if (!segById(state.selected)) state.selected = null;      // the selection survives a reload while it exists
    state.selection = new Set([...state.selection].filter((id) => segById(id)));
    if (state.selected !== null) state.selection.add(state.selected);
    state.draftMembers = null;
    renderAll();
    await loadHistory();
  }

  // The timeline's filmstrip and waveform: made by the server on the first open (then cached), so they arrive
  // after the page works; without them (no media, no audio) the timeline still shows everything else.
  function loadOverview() {
    const base = "/api/videos/" + encodeURIComponent(videoId);
    api("GET", base + "/waveform.json").then((w) => timeline.setWaveform(w), () => timeline.setWaveform(null));
    api("GET", base + "/filmstrip.json").then((f) => timeline.setFilmstrip(f), () => timeline.setFilmstrip(null));
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

  const timeline = new window.Timeline($("timeline"), {
    duration: duration,
    segments: () => state.segments,
    shots: () => (state.video && state.video.shot_boundaries) || [],
    marks: () => state.marks,
    selection: () => state.selection,
    playing: () => lastActive,
    playhead: () => player.currentTime,
    snapOn: () => $("snap").checked,
    onSeek: (t) => { player.currentTime = t; },
    onSelect: (id, mode) => select(id, mode === "single", mode),
    onRetime: (changes) => retime(changes),
  });
  function renderTimeline() { timeline.redraw(); }

  function renderMarks() {
    $("marks").textContent = "in " + fmt(state.marks.in) + " / out " + fmt(state.marks.out);
    timeline.redraw();
  }

  function matchesFilter(s, words) {      // every word of the filter in a member name, a caption or what is said
    const text = [s.caption, s.caption_ko, s.transcript, ...s.members].filter(Boolean).join(" ").toLowerCase();
    return words.every((w) => text.includes(w));
  }

  // The list is built once per load (2,000 rows take a while); filtering hides rows, selecting marks them.
  function renderList() {
    const body = document.querySelector("#segments tbody");
    const rows = state.segments.map((s, i) => {
      const tr = el("tr", { "data-id": s.id, class: state.selection.has(s.id) ? "selected" : "" });
      tr.appendChild(el("td", { title: "segment id " + s.id }, i + 1));    // its place in this video, not a database id
      tr.appendChild(el("td", {}, fmt(s.start)));
      tr.appendChild(el("td", {}, fmt(s.end)));
      const cap = el("td", { class: "cap" });
      if (s.caption) cap.appendChild(el("div", {}, s.caption));
      if (s.caption_ko) cap.appendChild(el("div", { class: "ko" }, s.caption_ko));
      if (s.transcript) cap.appendChild(el("div", { class: "said" }, "“" + s.transcript + "”"));
      tr.appendChild(cap);
      tr.appendChild(el("td", {}, s.members.join(", ")));
      return tr;
    });
    body.replaceChildren(...rows);
    applyFilter();
  }
  function applyFilter() {
    const words = $("list-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = document.querySelector("#segments tbody").rows;
    state.segments.forEach((s, i) => { if (rows[i]) rows[i].hidden = words.length > 0 && !matchesFilter(s, words); });
  }
  document.querySelector("#segments tbody").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-id]");
    if (!tr) return;
    const mode = ev.shiftKey ? "range" : (ev.ctrlKey || ev.metaKey) ? "toggle" : "single";
    select(Number(tr.dataset.id), mode === "single", mode);
  });

  function renderDetail() {
    const many = state.selection.size > 1;
    $("detail").hidden = many; $("bulk").hidden = !many;
    if (many) renderBulk();
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
    const teach = $("d-teach-member"); const was = teach.value;    // only saved tags can teach a gallery
    teach.replaceChildren(...s.members.map((n) => el("option", { value: n }, n)));
    if (s.members.includes(was)) teach.value = was;
    $("d-teach").disabled = !s.members.length;
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

  // mode "single": only this one; "toggle": add or take it out (ctrl/cmd-click); "range": the run from the anchor
  // to it (shift-click), in the video's order.
  function select(id, seek, mode) {
    mode = mode || "single";
    if (mode === "toggle" && state.selection.has(id)) {
      state.selection.delete(id);
      if (state.selected === id) state.selected = state.selection.size ? [...state.selection].pop() : null;
    } else if (mode === "range" && state.anchor !== null && segById(state.anchor)) {
      const a = state.segments.indexOf(segById(state.anchor)), b = state.segments.indexOf(segById(id));
      const rows = document.querySelector("#segments tbody").rows;      // rows the filter hides stay out of it
      state.selection = new Set(state.segments.slice(Math.min(a, b), Math.max(a, b) + 1)
        .filter((x) => { const r = rows[state.segments.indexOf(x)]; return !r || !r.hidden || x.id === id || x.id === state.anchor; })
        .map((x) => x.id));
      state.selected = id;
    } else {
      if (mode === "toggle") state.selection.add(id); else state.selection = new Set(id === null ? [] : [id]);
      state.selected = id; state.anchor = id;
    }
    state.draftMembers = null;
    const s = selected();
    if (s && seek) player.currentTime = s.start + 0.001;
    if (s) timeline.reveal(s.start);
    renderTimeline(); markSelectedRows(); renderDetail();
    const row = document.querySelector('#segments tr[data-id="' + id + '"]');
    if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" });
    if (document.querySelector("input[name=hscope]:checked").value === "segment") act(loadHistory);
  }
  function markSelectedRows() {        // cheaper than rebuilding the list (2,000 rows) on every click
    document.querySelectorAll("#segments tr.selected").forEach((tr) => tr.classList.remove("selected"));
    for (const id of state.selection) {
      const tr = document.querySelector('#segments tr[data-id="' + id + '"]');
      if (tr) tr.classList.add("selected");
    }
  }
  function clearSelection() { state.selected = null; state.selection = new Set(); state.anchor = null; renderAll(); }
  const selectedSegments = () => state.segments.filter((s) => state.selection.has(s.id));
  const versionsOf = (segs) => Object.fromEntries(segs.map((s) => [s.id, s.version]));
  function rowNumber(s) { return state.segments.indexOf(s) + 1; }
  function isRun(segs) {               // adjacent in the list (nothing between them), as the server's merge needs
    const idx = segs.map((s) => state.segments.indexOf(s)).sort((a, b) => a - b);
    return idx.length > 1 && idx[idx.length - 1] - idx[0] === idx.length - 1;
  }

  // ------------------------------------------------------------------ bulk panel (two or more selected)
  function renderBulk() {
    const segs = selectedSegments();
    const nums = segs.map(rowNumber);
    $("b-count").textContent = segs.length + " segments selected";
    $("b-rows").textContent = "rows " + (nums.length > 12 ? nums.slice(0, 12).join(", ") + " …" : nums.join(", "));
    const chips = (box, names, list) => {
      box.replaceChildren();
      for (const n of names) {
        const c = el("span", { class: "chip" + (list === "bulkRemove" ? " minus" : "") }, (list === "bulkRemove" ? "−" : "+") + n);
        const x = el("button", { type: "button", class: "chip-x", title: "undo" }, "×");
        x.setAttribute("aria-label", "undo " + n);
        x.addEventListener("click", () => { state[list] = state[list].filter((m) => m !== n); renderBulk(); });
        c.appendChild(x); box.appendChild(c);
      }
    };
    chips($("b-add-list"), state.bulkAdd, "bulkAdd");
    chips($("b-remove-list"), state.bulkRemove, "bulkRemove");
    const present = new Set(segs.flatMap((s) => s.members));
    const fill = (sel, names, label) => {
      sel.replaceChildren(el("option", { value: "" }, label));
      for (const n of names) sel.appendChild(el("option", { value: n }, n));
    };
    fill($("b-add"), state.members.map((m) => m.name).filter((n) => !state.bulkAdd.includes(n)), "+ tag a member on all…");
    fill($("b-remove"), [...present].sort().filter((n) => !state.bulkRemove.includes(n)), "− untag a member from all…");
    $("b-merge").disabled = !isRun(segs);
    $("b-merge").title = isRun(segs) ? "merge the " + segs.length + " segments into one (M)" : "only a run of neighbours can be merged";
    const exportable = segs.length <= MAX_JOINED;       // as the server's MAX_JOINED_SEGMENTS
    if (exportable) $("b-export").href = "/api/videos/" + encodeURIComponent(videoId) + "/clip.mp4?segments=" + segs.map((s) => s.id).join(",");
    else $("b-export").removeAttribute("href");
    $("b-export").classList.toggle("disabled", !exportable);
    $("b-export").title = exportable ? "the selected segments, in time order, as one MP4"
                                     : "at most " + MAX_JOINED + " segments join into one MP4: select fewer";
  }

  // ------------------------------------------------------------------ playhead sync
  let lastActive = null;
  function tick() {
    const looping = $("loop").checked && selected();
    if (looping && !player.paused && player.currentTime >= looping.end) player.currentTime = looping.start;
    const t = player.currentTime;
    $("clock").textContent = fmt(t) + " s";
    const active = segAt(t);
    const id = active ? active.id : null;
    if (id !== lastActive) {
      lastActive = id;
      document.querySelectorAll("#segments tr.playing, .tl-seg.playing").forEach((e) => e.classList.remove("playing"));
      if (id !== null) document.querySelectorAll('#segments tr[data-id="' + id + '"], .tl-seg[data-id="' + id + '"]')
        .forEach((e) => e.classList.add("playing"));
      const row = id !== null && document.querySelector('#segments tr[data-id="' + id + '"]');
      if (row && $("follow").checked) row.scrollIntoView({ block: "nearest" });   // the list follows the playhead
      if (id !== null && !player.paused && state.selected !== id && state.selection.size <= 1 &&
          !document.activeElement.matches("textarea, input")) select(id, false);
    }
    timeline.movePlayhead();
    if (!player.paused) timeline.reveal(t);
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

  // ------------------------------------------------------------------ operations
  function afterChange(selectId) {
    return loadAll().then(() => { if (selectId !== undefined) select(selectId, false); });
  }
  function afterSelectionChange(ids) {  // keep the changed segments selected
    return loadAll().then(() => {
      const alive = ids.filter((id) => segById(id));
      state.selection = new Set(alive);
      if (!alive.includes(state.selected)) state.selected = alive.length ? alive[alive.length - 1] : null;
      renderAll();
    });
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
  function acknowledge(text, ms = 4000) {   // a save is confirmed where the person looks, then fades
    $("d-saved").textContent = text;
    clearTimeout(ackTimer);
    ackTimer = setTimeout(() => { $("d-saved").textContent = ""; }, ms);
  }

  // A confirmed or corrected tag teaches the member's gallery; the server re-matches the library and says
  // how many tags changed (one history entry, revertible).
  const teachGallery = () => act(async () => {
    const s = needSelected();
    const member = $("d-teach-member").value;
    if (!member) return;
    const out = await api("POST", "/api/segments/" + s.id + "/teach", { member });
    await afterChange(s.id);
    acknowledge(out.retagged.text, 12000);
  });

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
    const segs = selectedSegments();
    if (segs.length > 1) {             // a selected run of neighbours: into one
      if (!isRun(segs)) throw new Error("Only neighbours can be merged: select a run of adjacent segments (shift-click).");
      const out = await api("POST", "/api/segments/merge", { segment_ids: segs.map((x) => x.id), versions: versionsOf(segs) });
      state.selection = new Set([out.id]);
      await afterChange(out.id);
      return;
    }
    const s = needSelected();
    const i = state.segments.indexOf(s);
    const next = state.segments[i + 1];
    if (!next) throw new Error("Segment " + rowNumber(s) + " is the last one: there is no next segment to merge with.");
    const out = await api("POST", "/api/segments/merge", { segment_ids: [s.id, next.id],
                                                           versions: { [s.id]: s.version, [next.id]: next.version } });
    await afterChange(out.id);
  });

  const applyBulk = () => act(async () => {
    const segs = selectedSegments();
    const caption = $("b-caption").value.trim();
    const body = { segment_ids: segs.map((x) => x.id), versions: versionsOf(segs) };
    if (state.bulkAdd.length) body.add_members = state.bulkAdd;
    if (state.bulkRemove.length) body.remove_members = state.bulkRemove;
    if (caption) body.caption = caption;
    if (!body.add_members && !body.remove_members && !body.caption) {
      throw new Error("Choose members to tag or untag, or type a caption, then Apply.");
    }
    const out = await api("POST", "/api/segments/bulk", body);
    state.bulkAdd = []; state.bulkRemove = []; $("b-caption").value = "";
    await afterSelectionChange(segs.map((x) => x.id));
    $("b-saved").textContent = out.segments.length ? "Applied to " + out.segments.length + " segment" +
      (out.segments.length === 1 ? "" : "s") + " · one history entry" : "Nothing changed";
  });

  const retime = (changes) => act(async () => {      // versions as the drag saw them: a change since is a 409
    await api("POST", "/api/segments/retime", { changes });
    await afterChange(state.selected || undefined);
  }).then(() => renderTimeline());     // a refused drag snaps back

  const create = () => act(async () => {
    const { in: a, out: b } = state.marks;
    if (a === null || b === null) throw new Error("Set the in and out marks first (Shift+I, Shift+O).");
    const out = await api("POST", "/api/segments", { video_id: videoId, start: a, end: b });
    state.marks = { in: null, out: null };
    await afterChange(out.id);
  });

  const remove = () => act(async () => {
    const segs = state.selection.size > 1 ? selectedSegments() : [needSelected()];
    const what = segs.length === 1 ? "segment " + rowNumber(segs[0]) + " (" + fmt(segs[0].start) + "–" + fmt(segs[0].end) + " s)"
                                   : segs.length + " segments";
    if (!window.confirm("Delete " + what + "? It can be reverted from the history.")) return;
    await api("POST", "/api/segments/delete", { segment_ids: segs.map((x) => x.id), versions: versionsOf(segs) });
    state.selected = null; state.selection = new Set();
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

  // ------------------------------------------------------------------ highlights
  // Asked for when the panel opens (the summary may take Gemini a few seconds the first time; then it is cached).
  const loadHighlights = () => act(async () => {
    const member = $("hl-member").value;
    $("hl-busy").hidden = false;
    try {
      const q = new URLSearchParams({ n: "5" });
      if (member) q.set("member", member);
      const data = await api("GET", "/api/videos/" + encodeURIComponent(videoId) + "/highlights?" + q);
      renderHighlights(data);
    } finally { $("hl-busy").hidden = true; }
  });
  function renderHighlights(data) {
    const m = data.methods;
    $("hl-methods").textContent = "From " + [m.comments ? "viewer comments (" + m.comments + ")" : null,
      "what is said and seen (" + m.summary + ")"].filter(Boolean).join(" and ") + "." +
      (m.comments ? "" : " No viewer comments yet: python -m indexer comments VIDEO --youtube ID adds them.") +
      (data.notices.length ? " " + data.notices.join(" ") : "");
    const list = $("hl-list"); list.replaceChildren();
    if (!data.highlights.length) list.appendChild(el("li", { class: "empty" }, "No highlights found" + (data.member ? " with " + data.member + " on screen." : ".")));
    for (const h of data.highlights) {
      const li = el("li", { "data-rank": h.rank });
      const head = el("div", { class: "hl-head" });
      head.appendChild(el("b", {}, "★" + h.rank + " "));
      const play = el("button", { type: "button", class: "hl-play", title: "play it; its span becomes the in/out marks" },
                      "▶ " + window.MVSE.clock(h.start) + "–" + window.MVSE.clock(h.end));
      play.addEventListener("click", () => {
        state.marks = { in: h.start, out: h.end }; renderMarks();
        timeline.reveal(h.start); player.currentTime = h.start; player.play();
      });
      head.appendChild(play);
      const exp = el("a", { class: "button", href: "/api/videos/" + encodeURIComponent(videoId) + "/clip.mp4?start=" +
                            h.start.toFixed(2) + "&end=" + h.end.toFixed(2), title: "this highlight as an MP4" }, "Export MP4");
      exp.setAttribute("download", "");
      head.appendChild(exp);
      li.appendChild(head);
      const why = el("ul", { class: "hl-why" });
      for (const r of h.reasons) why.appendChild(el("li", {}, r));
      li.appendChild(why);
      list.appendChild(li);
    }
    timeline.setHighlights(data.highlights);
    root.dataset.highlights = String(data.highlights.length);
  }
  $("highlights").addEventListener("toggle", () => { if ($("highlights").open && !root.dataset.highlights) loadHighlights(); });
  $("hl-load").addEventListener("click", loadHighlights);

  // ------------------------------------------------------------------ wiring
  $("d-form").addEventListener("submit", (ev) => { ev.preventDefault(); save(); });
  $("d-teach").addEventListener("click", teachGallery);
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
  $("b-apply").addEventListener("click", applyBulk);
  $("b-merge").addEventListener("click", merge);
  $("b-delete").addEventListener("click", remove);
  $("b-clear").addEventListener("click", clearSelection);
  $("b-add").addEventListener("change", (ev) => { if (ev.target.value) { state.bulkAdd.push(ev.target.value); renderBulk(); } });
  $("b-remove").addEventListener("change", (ev) => { if (ev.target.value) { state.bulkRemove.push(ev.target.value); renderBulk(); } });
  $("btn-undo").addEventListener("click", undoLast);
  $("banner-reload").addEventListener("click", () => act(() => afterChange(state.selected || undefined)));
  $("banner-close").addEventListener("click", clearBanner);
  document.querySelectorAll("input[name=hscope]").forEach((r) => r.addEventListener("change", () => act(loadHistory)));

  function seekBy(d) { player.currentTime = Math.min(Math.max(0, player.currentTime + d), duration()); }
  function frameStep(n) {             // one frame at the video's own rate; playing stops, as in every editor
    player.pause();
    seekBy(n / ((state.video && state.video.fps) || 25));
  }
  $("list-filter").addEventListener("input", applyFilter);
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
      "+": () => timeline.zoomBy(1.5), "=": () => timeline.zoomBy(1.5), "-": () => timeline.zoomBy(1 / 1.5),
      "0": () => timeline.fitVideo(), "f": () => timeline.fitSegments(), "F": () => timeline.fitSegments(),
      "Escape": clearSelection,
    }[k];
    if (handled) { ev.preventDefault(); handled(); }
  });

  act(async () => {
    const initial = Number(root.dataset.segment);
    await loadAll();
    loadOverview();
    if (initial && segById(initial)) select(initial, true);
    root.dataset.ready = "1";
  });
})();

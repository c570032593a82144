// Members page: members with their gallery faces, aliases and group; enrol faces from photos in two steps
// (detect → choose a face per photo → save). Plain JS, no build step; server text goes in through textContent only.
(function () {
  "use strict";
  const root = document.getElementById("members");
  if (!root) return;
  const $ = (id) => document.getElementById(id);

  const { el, api } = window.MVSE;


  function banner(text) { $("m-banner").textContent = text; $("m-banner").hidden = !text; }
  function said(text) { $("m-status").textContent = text; }      // what a gallery change did to the library
  async function run(fn) {
    try { banner(""); await fn(); } catch (err) { banner(err.message); }
  }

  // ------------------------------------------------------------------ rendering
  function faceTile(f) {
    const li = el("li", { class: "m-face", "data-face": f.id });
    if (f.url) li.append(el("img", { src: f.url, alt: "", width: 96, height: 96, loading: "lazy" }));
    else li.append(el("span", { class: "m-noimg" }, "no picture"));
    const facts = [f.photo || "", f.width && f.height ? f.width + "×" + f.height + " px" : "",
                   f.det_score !== null && f.det_score !== undefined ? "score " + Number(f.det_score).toFixed(2) : ""];
    li.title = facts.filter(Boolean).join(" · ");
    li.append(el("span", { class: "m-face-name" }, f.photo || "(earlier enrolment)"));
    const rm = el("button", { type: "button", class: "quiet m-face-remove", title: "Remove this face from the gallery",
                              "aria-label": "Remove face" }, "×");
    rm.addEventListener("click", () => run(async () => {
      if (!confirm("Remove this face from the gallery?")) return;
      const out = await api("DELETE", "/api/member-faces/" + f.id);
      await load();
      said(out.retagged.text);
    }));
    li.append(rm);
    return li;
  }

  function memberCard(m) {
    const li = el("li", { class: "m-card", "data-member": m.id, "data-name": m.name });
    const head = el("div", { class: "m-head" });
    head.append(el("h2", {}, m.name));
    const group = el("input", { class: "m-group", value: m.group || "", placeholder: "group", "aria-label": "Group" });
    group.addEventListener("change", () => run(async () => {
      await api("PATCH", "/api/members/" + m.id, { group: group.value });
    }));
    head.append(group);
    li.append(head);

    const aliases = el("div", { class: "m-aliases" });
    aliases.append(el("span", { class: "m-label" }, "Aliases"));
    for (const a of m.aliases) {
      const chip = el("span", { class: "chip m-alias", "data-alias": a }, a);
      const x = el("button", { type: "button", class: "quiet", title: "Remove alias", "aria-label": "Remove alias " + a }, "×");
      x.addEventListener("click", () => run(async () => {
        await api("DELETE", "/api/members/" + m.id + "/aliases?alias=" + encodeURIComponent(a));
        await load();
      }));
      chip.append(x);
      aliases.append(chip);
    }
    const form = el("form", { class: "m-alias-add" });
    const input = el("input", { placeholder: "add alias", "aria-label": "New alias", maxLength: 100 });
    form.append(input, el("button", { type: "submit" }, "Add"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!input.value.trim()) return;
      run(async () => { await api("POST", "/api/members/" + m.id + "/aliases", { alias: input.value }); await load(); });
    });
    aliases.append(form);
    li.append(aliases);

    const gallery = el("ul", { class: "m-gallery" });
    for (const f of m.faces) gallery.append(faceTile(f));
    if (!m.faces.length) gallery.append(el("li", { class: "muted m-nofaces" }, "No gallery faces yet."));
    li.append(gallery);
    li.append(enrolBox(m));
    return li;
  }

  // ------------------------------------------------------------------ enrolment: detect, choose, save
  function enrolBox(m) {
    const box = el("div", { class: "m-enrol" });
    const label = el("label", { class: "button" }, "Add photos…");
    const file = el("input", { type: "file", accept: "image/*", multiple: true, class: "m-file" });
    label.append(file);
    const previews = el("div", { class: "m-previews" });
    const save = el("button", { type: "button", class: "primary m-save", hidden: true }, "Save chosen faces");
    box.append(label, previews, save);
    const uploads = [];       // {upload, chosen, photo}

    file.addEventListener("change", () => run(async () => {
      for (const f of Array.from(file.files)) {
        const form = new FormData();
        form.append("photo", f, f.name);
        const status = el("p", { class: "muted" }, "Looking for faces in " + f.name + "…");
        previews.append(status);
        let answer;
        try { answer = await api("POST", "/api/members/detect", form); } finally { status.remove(); }
        const entry = { upload: answer.upload, chosen: answer.chosen, photo: answer.photo };
        uploads.push(entry);
        previews.append(photoPreview(answer, entry));
      }
      file.value = "";
      save.hidden = !uploads.some((u) => u.chosen !== null);
      root.dataset.detected = String(uploads.length);
    }));

    save.addEventListener("click", () => run(async () => {
      const choices = uploads.filter((u) => u.chosen !== null).map((u) => ({ upload: u.upload, face: u.chosen }));
      const out = await api("POST", "/api/members/" + m.id + "/faces", { choices });
      await load();
      said(out.retagged.text);
    }));
    return box;
  }

  function photoPreview(answer, entry) {
    const wrap = el("fieldset", { class: "m-photo", "data-upload": answer.upload });
    wrap.append(el("legend", {}, answer.photo + " · " + answer.faces.length + " face(s) found"));
    if (!answer.faces.length) wrap.append(el("p", { class: "error" }, "No face found in this photo."));
    const name = "pick-" + answer.upload;
    for (const f of answer.faces) {
      const opt = el("label", { class: "m-candidate" + (f.reasons.length ? " refused" : "") });
      const radio = el("input", { type: "radio", name, value: String(f.index), disabled: f.reasons.length > 0,
                                  checked: f.index === answer.chosen });
      radio.addEventListener("change", () => { entry.chosen = f.index; });
      opt.append(radio, el("img", { src: f.crop, alt: "", width: 96, height: 96 }));
      opt.append(el("span", { class: "m-facts" },
                    f.width + "×" + f.height + " px · score " + Number(f.det_score).toFixed(2) +
                    " · sharpness " + Math.round(f.sharpness)));
      for (const r of f.reasons) opt.append(el("span", { class: "m-reason" }, r));
      wrap.append(opt);
    }
    const skip = el("label", { class: "m-skip" });
    const none = el("input", { type: "radio", name, value: "", checked: answer.chosen === null });
    none.addEventListener("change", () => { entry.chosen = null; });
    skip.append(none, document.createTextNode(" don't use this photo"));
    wrap.append(skip);
    return wrap;
  }

  // ------------------------------------------------------------------ unknown faces: clusters, "this is…"
  let members = [];

  function clusterCard(c) {
    const li = el("li", { class: "u-card", "data-cluster": c.id });
    const crops = el("div", { class: "u-samples" });
    for (const s of c.samples) crops.append(el("img", { src: s.url, alt: "", width: 80, height: 80, loading: "lazy" }));
    li.append(crops);
    const where = el("p", { class: "u-where" }, "Seen " + c.size + " times in: ");
    c.where.forEach((w, i) => {
      if (i) where.append(document.createTextNode(", "));
      const a = el("a", { href: w.url, title: "first at " + Number(w.first_s).toFixed(1) + " s" },
                   (w.title || w.video_id) + " (" + w.faces + ")");
      where.append(a);
    });
    li.append(where);
    const form = el("form", { class: "u-name" });
    const pick = el("select", { "aria-label": "An existing member" });
    pick.append(el("option", { value: "" }, "— a member —"));
    for (const m of members) pick.append(el("option", { value: String(m.id) }, m.name));
    const name = el("input", { placeholder: "or a new member's name", "aria-label": "New member's name", maxLength: 100 });
    form.append(pick, name, el("button", { type: "submit", class: "primary" }, "This is…"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = name.value.trim() ? { name: name.value.trim() } : pick.value ? { member_id: Number(pick.value) } : null;
      if (!body) { banner("Choose a member or type a new member's name."); return; }
      run(async () => {
        const out = await api("POST", "/api/face-clusters/" + c.id + "/name", body);
        const skipped = out.refused.map((r) => "face " + r.detection_id + ": " + r.reasons.join(", "));
        $("u-status").textContent = "Added " + out.faces.length + " face(s) to the gallery. " + out.retagged.text +
          (skipped.length ? " Skipped " + skipped.join("; ") + "." : "");
        await load();
      });
    });
    li.append(form);
    return li;
  }

  async function loadUnknown() {
    const data = await api("GET", "/api/face-clusters");
    $("u-list").replaceChildren(...data.clusters.map(clusterCard));
    $("u-empty").hidden = data.clusters.length > 0;
  }

  // ------------------------------------------------------------------ load
  async function load() {
    const data = await api("GET", "/api/people");
    members = data.members;
    const list = $("m-list");
    list.replaceChildren(...data.members.map(memberCard));
    $("m-empty").hidden = data.members.length > 0;
    root.dataset.ready = "1";
    await loadUnknown();
    root.dataset.unknown = "1";
  }

  $("m-create").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run(async () => {
      const aliases = $("m-new-aliases").value.split(",").map((s) => s.trim()).filter(Boolean);
      await api("POST", "/api/members", { name: $("m-new-name").value, group: $("m-new-group").value || null, aliases });
      $("m-create").reset();
      await load();
    });
  });
  run(load);
})();

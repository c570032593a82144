// What every page script shares (window.MVSE): building elements (text only through textContent, never innerHTML),
// times as people read them, and calling the JSON API (same-origin credentials; a refusal becomes an Error with the server's `detail` and the
// HTTP status). Plain JS, no build step; loaded before the page's own script.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clock(t, step) {          // 75.5 -> "1:15" (step < 1: "1:15.5"), 3725 -> "1:02:05"
    const neg = t < 0 ? "-" : ""; t = Math.abs(t);
    const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    const ss = step < 1 ? s.toFixed(1).padStart(4, "0") : String(Math.floor(s + 1e-6)).padStart(2, "0");
    return neg + (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + ss;
  }

  async function api(method, url, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body instanceof FormData) opts.body = body;
    else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
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

  window.MVSE = { el, api, clock };
})();

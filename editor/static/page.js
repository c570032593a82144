// What every page script shares (window.MVSE): building elements (text only through textContent, never innerHTML)
// and calling the JSON API (same-origin credentials; a refusal becomes an Error with the server's `detail` and the
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

  window.MVSE = { el, api };
})();

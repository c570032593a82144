"""A local fake of Gemini's generateContent endpoint, for the real google-genai SDK (http_options base_url).

``mode``: "ok" (translate/summarise), "quota" (429), "slow" (sleeps ``delay`` s, then ok), "garbage" (not JSON).
``quota_after``: answer that many requests, then 429 ("quota") to the rest.
``fail_tasks``: tasks answered with a 500 error (e.g. {"moments_reduce"}).
Every request body is recorded in ``requests`` (task and payload).

Key moments (``moments_map`` / ``moments_reduce``), deterministic: a map ranks the part's timeline lines by the
length of their caption (longest first, then earlier), with a member only lines where that member is on screen,
and answers the first k as ``{start, end, reason: "fake: CAPTION"}``; a reduce ranks the candidates the same way
by their reason and prefixes "top: ". Both answers also carry items a validator must drop (``INVALID_MOMENTS``,
outside the range, an overlapping copy, a moment without the member); ``moments_mode = "invalid"`` answers only
those.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EN = {"스케이트보드 타는 장면": "a scene of someone riding a skateboard",
      "고양이가 자는 모습": "a cat sleeping"}
PATH = re.compile(r"^/v1(beta)?/models/([^/:]+):generateContent$")
LINE = re.compile(r"^\[(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)\] (.*)$")
INVALID_MOMENTS = ["not an object", {"start": "soon", "end": 3, "reason": "times are text"},
                   {"start": 2.0, "end": 1.0, "reason": "ends before it starts"},
                   {"start": 0.0, "end": 1.0, "reason": "   "}, {"start": True, "end": 1.0, "reason": "a boolean"}]


def _lines(timeline: str) -> list[dict]:
    out = []
    for line in timeline.splitlines():
        m = LINE.match(line)
        if m:
            fields = m.group(3).split(" | ")
            names = next((f[len("on screen: "):].split(", ") for f in fields if f.startswith("on screen: ")), [])
            out.append({"start": float(m.group(1)), "end": float(m.group(2)), "caption": fields[0], "names": names})
    return out


def map_answer(payload: dict) -> list:
    lo, hi = payload["range_s"]
    lines = sorted(_lines(payload["timeline"]), key=lambda x: (-len(x["caption"]), x["start"]))
    member = payload.get("member")
    chosen = [x for x in lines if not member or member in x["names"]][:payload["k"]]
    out: list = [{"start": x["start"], "end": x["end"], "reason": f"fake: {x['caption']}"} for x in chosen]
    others = [x for x in lines if member and member not in x["names"]]
    if others:              # a moment without the member, which the validator must drop
        out.append({"start": others[0]["start"], "end": others[0]["end"], "reason": "fake: without the member"})
    return out + INVALID_MOMENTS + [{"start": hi + 30, "end": hi + 40, "reason": "after the part"},
                                    {"start": lo - 40, "end": lo - 30, "reason": "before the part"}]


def reduce_answer(payload: dict) -> list:
    ranked = sorted(payload["candidates"], key=lambda c: (-len(c["reason"]), c["start"]))[:payload["n"]]
    out: list = [{"start": c["start"], "end": c["end"], "reason": f"top: {c['reason']}"} for c in ranked]
    if ranked:              # an overlapping copy of the best, which must not be kept twice
        out.insert(1, {"start": ranked[0]["start"], "end": ranked[0]["end"], "reason": "top: the same again"})
    return out + INVALID_MOMENTS + [{"start": payload["duration_s"] + 5, "end": payload["duration_s"] + 9,
                                     "reason": "after the video"}]


class FakeGemini:
    def __init__(self):
        self.mode = "ok"
        self.quota_after: int | None = None
        self.delay = 3.0
        self.fail_tasks: set[str] = set()
        self.moments_mode = "ok"
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                m = PATH.match(self.path)
                if not m or self.headers.get("x-goog-api-key") != "test-key":
                    return self._send(404 if not m else 403, {"error": {"code": 403, "message": "bad key"}})
                payload = json.loads(body["contents"][0]["parts"][0]["text"])
                fake.requests.append({"model": m.group(2), **payload})
                if fake.quota_after is not None and len(fake.requests) > fake.quota_after:
                    fake.mode = "quota"
                if fake.mode == "quota":
                    return self._send(429, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                if fake.mode == "garbage":
                    return self._answer("<b>not json</b>")
                if payload["task"] in fake.fail_tasks:
                    return self._send(500, {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}})
                if payload["task"] in ("moments_map", "moments_reduce"):
                    answer = map_answer if payload["task"] == "moments_map" else reduce_answer
                    out = INVALID_MOMENTS if fake.moments_mode == "invalid" else answer(payload)
                    return self._answer(json.dumps(out, ensure_ascii=False))
                if payload["task"] == "translate":
                    if payload["target_lang"] == "en":
                        out = [EN.get(t, f"english of {t}") for t in payload["texts"]]
                    else:
                        out = [f"[ko] {t}" for t in payload["texts"]]
                else:
                    out = f"'{payload['query']}' 검색 결과 {len(payload['captions'])}개 <script>x</script>"
                return self._answer(json.dumps(out, ensure_ascii=False))

            def _answer(self, text):
                self._send(200, {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]})

            def _send(self, code, obj):
                data = json.dumps(obj).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def tasks(self) -> list[str]:
        return [r["task"] + ":" + r.get("target_lang", "") for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

"""A local fake of Gemini's generateContent endpoint, for the real google-genai SDK (http_options base_url).

``mode``: "ok" (translate/summarise), "quota" (429), "slow" (sleeps ``delay`` s, then ok), "garbage" (not JSON).
``quota_after``: answer that many requests, then 429 ("quota") to the rest.
Every request body is recorded in ``requests`` (task and payload).
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


class FakeGemini:
    def __init__(self):
        self.mode = "ok"
        self.quota_after: int | None = None
        self.delay = 3.0
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

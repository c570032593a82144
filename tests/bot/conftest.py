"""Fixtures for the Slack bot tests: a local mock Slack (Web API + response_url + file upload) in its own
thread, signed requests, and the real app served over HTTP with Slack configured against the mock."""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.factories import add_segment, add_video
from tests.helpers import free_port, wait_for

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
PUBLIC_URL = "https://mvse.example.test"


class MockSlack:
    """Records every request: Web API methods under /api/, response_url posts under /response/, uploads under
    /upload/. Answers like Slack does for the methods the bot uses."""

    def __init__(self):
        self.calls: list[dict] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.fail_methods: set[str] = set()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.do_POST()

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype = self.headers.get("Content-Type") or ""
                data: dict = dict(urllib.parse.parse_qsl(url.query))
                if url.path.startswith("/upload/"):
                    data = {"bytes": raw}
                elif "json" in ctype and raw:
                    data.update(json.loads(raw))
                elif raw:
                    data.update(dict(urllib.parse.parse_qsl(raw.decode())))
                call = {"path": url.path, "method": url.path.rsplit("/", 1)[-1], "data": data,
                        "auth": self.headers.get("Authorization")}
                with mock.lock:
                    mock.calls.append(call)
                status, body = mock.answer(call)
                out = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, call: dict) -> tuple[int, dict]:
        path, method = call["path"], call["method"]
        if path.startswith("/response/") or path.startswith("/upload/"):
            return 200, {"ok": True}
        if method in self.fail_methods:
            return 200, {"ok": False, "error": "not_in_channel"}
        if method == "chat.postMessage":
            return 200, {"ok": True, "channel": call["data"].get("channel"), "ts": "1700000000.000100",
                         "message": {"text": call["data"].get("text")}}
        if method == "files.getUploadURLExternal":
            return 200, {"ok": True, "upload_url": f"{self.base}/upload/F123", "file_id": "F123"}
        if method == "files.completeUploadExternal":
            return 200, {"ok": True, "files": [{"id": "F123", "title": "clip"}]}
        if method == "views.open":
            return 200, {"ok": True, "view": {"id": "V123"}}
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": "1700000000.000200"}
        return 200, {"ok": False, "error": "unknown_method"}

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base}/response/{name}"

    def of(self, method: str) -> list[dict]:
        with self.lock:
            return [c for c in self.calls if c["method"] == method]

    def responses(self, name: str = "r1") -> list[dict]:
        with self.lock:
            return [c["data"] for c in self.calls if c["path"] == f"/response/{name}"]

    def wait(self, predicate, timeout: float = 20.0, what: str = "a Slack call"):
        try:
            return wait_for(predicate, what, timeout)
        except AssertionError as err:
            raise AssertionError(f"{err}; calls seen: {[c['path'] for c in self.calls]}") from None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mock_slack():
    m = MockSlack()
    yield m
    m.close()


def sign(body: str, secret: str = SIGNING_SECRET, ts: int | None = None) -> dict:
    ts_s = str(int(time.time()) if ts is None else ts)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts_s}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts_s, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


class SlackSender:
    """Posts correctly signed payloads (shapes from Slack's docs) to the app's /slack/events."""

    def __init__(self, base: str, mock: MockSlack, command: str = "/search"):
        self.url = f"{base}/slack/events"
        self.mock = mock
        self.command_name = command

    def post_form(self, form: dict, secret: str = SIGNING_SECRET, ts: int | None = None) -> httpx.Response:
        body = urllib.parse.urlencode(form)
        return httpx.post(self.url, content=body, headers=sign(body, secret, ts), timeout=20)

    def command(self, text: str, response: str = "r1", user: str = "U111", **kw) -> httpx.Response:
        form = {"token": "legacy", "team_id": "T1", "team_domain": "mvse", "channel_id": "C123",
                "channel_name": "clips", "user_id": user, "user_name": "editor", "command": self.command_name,
                "text": text, "api_app_id": "A1", "response_url": self.mock.response_url(response),
                "trigger_id": "1337.42.abcd"}
        return self.post_form(form, **kw)

    def block_action(self, action: dict, response: str = "r2", user: str = "U111", **kw) -> httpx.Response:
        payload = {
            "type": "block_actions", "team": {"id": "T1", "domain": "mvse"},
            "user": {"id": user, "username": "editor", "team_id": "T1"}, "api_app_id": "A1",
            "token": "legacy", "trigger_id": "1337.42.trig",
            "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C123",
                          "is_ephemeral": True},
            "channel": {"id": "C123", "name": "clips"}, "response_url": self.mock.response_url(response),
            "actions": [{"block_id": "b1", "action_ts": "1700000001.000001", **action}],
        }
        return self.post_form({"payload": json.dumps(payload)}, **kw)

    def view_submission(self, view: dict, values: dict, user: str = "U111", **kw) -> httpx.Response:
        payload = {
            "type": "view_submission", "team": {"id": "T1", "domain": "mvse"},
            "user": {"id": user, "username": "editor", "team_id": "T1"}, "api_app_id": "A1", "token": "legacy",
            "trigger_id": "1337.42.sub",
            "view": {**view, "id": "V123", "team_id": "T1", "state": {"values": values}, "hash": "1.abc",
                     "app_id": "A1", "bot_id": "B1"},
            "response_urls": [],
        }
        return self.post_form({"payload": json.dumps(payload)}, **kw)


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory):
    """A 4 s H.264/AAC test video made with the bundled ffmpeg."""
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("video") / "stage.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=4:size=160x90:rate=15", "-f", "lavfi", "-i", "sine=frequency=440:duration=4",
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
                    str(out)], check=True, timeout=60)
    return out


@pytest.fixture
def library(db, tiny_embedder, sample_video):
    """Three moments in three videos (so they are three results), with Korean captions, members, thumbnails."""
    with db.connection() as conn:
        add_video(conn, "v1", "Concert <Live> & Talk", path=str(sample_video), duration_s=4.0)
        add_video(conn, "v2", "Beach Day", path=str(sample_video), duration_s=4.0)
        add_video(conn, "v3", "Kitchen", path=None, duration_s=4.0)
        s1 = add_segment(conn, "v1", 1.0, 3.0, tiny_embedder, caption="girl dancing on stage with lights",
                         caption_ko="조명 아래 무대에서 춤추는 소녀", members=["Jisoo"], thumbnail="t1.jpg")
        s2 = add_segment(conn, "v2", 0.5, 2.5, tiny_embedder, caption="dog running on the beach",
                         caption_ko="해변을 달리는 강아지", members=["Lisa", "Rose"], thumbnail="t2.jpg")
        s3 = add_segment(conn, "v3", 0.0, 2.0, tiny_embedder, caption="man cooking pasta in the kitchen",
                         caption_ko="주방에서 파스타를 요리하는 남자", members=[])
    return {"s1": s1, "s2": s2, "s3": s3}


@pytest.fixture
def slack_config(make_config, mock_slack):
    def make(**overrides):
        base = {"public_url": PUBLIC_URL, "auth": {"secret": "link-secret"},
                "slack": {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "api_base_url": mock_slack.api_url,
                          "page_size": 2}}
        for k, v in overrides.items():
            base[k] = {**base[k], **v} if isinstance(v, dict) and isinstance(base.get(k), dict) else v
        return make_config(**base)

    return make


@pytest.fixture
def slack(app_factory, serve, slack_config, mock_slack):
    """(sender, config): the real app served over HTTP with Slack pointed at the mock."""
    cfg = slack_config()
    base = serve(app_factory(cfg))
    sender = SlackSender(base, mock_slack, cfg.slack.command)
    sender.config = cfg
    return sender

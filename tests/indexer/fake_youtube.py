"""A local stand-in for the YouTube Data API v3, reached by the real google-api-python-client through
``youtube.api_base_url``: ``GET /youtube/v3/commentThreads`` and ``/youtube/v3/comments`` with paging, in the API's own
response and error shapes (a bad key, an unknown video, comments turned off, the quota used up on demand).

Threads are given as ``{"id", "text", "likes", "author", "replies": [{"text", "likes", "author"}, ...]}``; a thread
includes at most ``INCLUDED_REPLIES`` of its replies, as the real API does, the rest come from ``comments?parentId``.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

INCLUDED_REPLIES = 5


def _comment(video_id: str, cid: str, c: dict, parent_id: str | None = None) -> dict:
    snippet = {"channelId": "UCfake", "videoId": video_id, "textDisplay": c["text"], "textOriginal": c["text"],
               "authorDisplayName": c.get("author", "@viewer"), "authorChannelId": {"value": "UCviewer"},
               "canRate": True, "viewerRating": "none", "likeCount": c.get("likes", 0),
               "publishedAt": c.get("published", "2025-03-01T12:00:00Z"), "updatedAt": "2025-03-01T12:00:00Z"}
    if parent_id:
        snippet["parentId"] = parent_id
    return {"kind": "youtube#comment", "etag": "e", "id": cid, "snippet": snippet}


def _error(code: int, reason: str, message: str, domain: str = "youtube.commentThread") -> dict:
    return {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": domain,
                                                                    "reason": reason}]}}


BAD_KEY = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                     "errors": [{"message": "API key not valid. Please pass a valid API key.", "domain": "global",
                                 "reason": "badRequest"}], "status": "INVALID_ARGUMENT",
                     "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                                  "domain": "googleapis.com"}]}}
QUOTA = _error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your "
               "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota")


class FakeYouTube:
    """``videos``: YouTube id → list of threads. ``quota``: requests answered before every next one is refused
    with quotaExceeded (None: no limit); ``unavailable``: requests answered 503 first. ``requests`` logs (path, params)
    of each request."""

    def __init__(self, videos: dict[str, list[dict]], key: str = "test-key", page_size: int = 100,
                 disabled: tuple[str, ...] = ()):
        self.videos, self.key, self.page_size, self.disabled = videos, key, page_size, set(disabled)
        self.quota: int | None = None
        self.unavailable = 0            # requests to answer 503 (a server hiccup the client retries) before the others
        self.requests: list[tuple[str, dict]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    def __enter__(self) -> FakeYouTube:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def thread_requests(self) -> list[dict]:
        return [p for path, p in self.requests if path.endswith("/commentThreads")]

    # ---------------------------------------------------------------- answers
    def _page(self, items: list, params: dict) -> tuple[list, str | None]:
        start = int(params.get("pageToken", "p0")[1:])
        size = min(self.page_size, int(params.get("maxResults", 20)))
        end = start + size
        return items[start:end], f"p{end}" if end < len(items) else None

    def answer(self, path: str, params: dict) -> tuple[int, dict]:
        self.requests.append((path, params))
        if params.get("key") != self.key:
            return 400, BAD_KEY
        if self.unavailable > 0:
            self.unavailable -= 1
            return 503, _error(503, "backendError", "Service unavailable", "global")
        if self.quota is not None:
            if self.quota <= 0:
                return 403, QUOTA
            self.quota -= 1
        if path == "/youtube/v3/commentThreads":
            return self._threads(params)
        if path == "/youtube/v3/comments":
            return self._replies(params)
        return 404, _error(404, "notFound", "Not Found", "global")

    def _threads(self, params: dict) -> tuple[int, dict]:
        video_id = params.get("videoId", "")
        assert "snippet" in params.get("part", "").split(","), params
        if video_id in self.disabled:
            return 403, _error(403, "commentsDisabled", "The video identified by the videoId parameter has "
                                                        "disabled comments.")
        if video_id not in self.videos:
            return 404, _error(404, "videoNotFound", "The video identified by the videoId parameter could not be "
                                                     "found.")
        threads, token = self._page(self.videos[video_id], params)
        items = []
        for t in threads:
            replies = t.get("replies", [])
            item = {"kind": "youtube#commentThread", "etag": "e", "id": t["id"],
                    "snippet": {"channelId": "UCfake", "videoId": video_id,
                                "topLevelComment": _comment(video_id, t["id"], t), "canReply": True,
                                "totalReplyCount": len(replies), "isPublic": True}}
            if replies and "replies" in params.get("part", ""):
                item["replies"] = {"comments": [_comment(video_id, f"{t['id']}.r{i}", r, t["id"])
                                                for i, r in enumerate(replies[:INCLUDED_REPLIES])]}
            items.append(item)
        body = {"kind": "youtube#commentThreadListResponse", "etag": "e",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}, "items": items}
        if token:
            body["nextPageToken"] = token
        return 200, body

    def _replies(self, params: dict) -> tuple[int, dict]:
        parent = params.get("parentId", "")
        for video_id, threads in self.videos.items():
            for t in threads:
                if t["id"] == parent:
                    replies = [_comment(video_id, f"{parent}.r{i}", r, parent)
                               for i, r in enumerate(t.get("replies", []))]
                    page, token = self._page(replies, params)
                    body = {"kind": "youtube#commentListResponse", "etag": "e", "items": page,
                            "pageInfo": {"totalResults": len(page), "resultsPerPage": len(page)}}
                    if token:
                        body["nextPageToken"] = token
                    return 200, body
        return 404, _error(404, "commentNotFound", "The comment could not be found.", "youtube.comment")

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                status, body = fake.answer(url.path, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

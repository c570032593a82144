"""What every HTTP request and response goes through, whatever the route: the edge rules of the web door.

- **Cross-site writes are refused.** A state-changing request (any method but GET/HEAD/OPTIONS) whose ``Origin``
  (or, without one, ``Referer``) is not this server's own origin gets 403: a page on another site, or on another
  port of this host, cannot make a logged-in browser edit, revert or log out. Requests with neither header (curl,
  scripts with the bearer token) are not browsers' and pass. The Slack endpoint is exempt: Slack's signature
  proves its requests.
- **An open server answers only to its own names.** Without ``auth.token`` every caller is trusted, so a web page
  that re-points its own host name at 127.0.0.1 (DNS rebinding) would be same-origin with it: requests naming any
  host but localhost, 127.0.0.1, ::1, ``public_url``'s and ``server.allowed_hosts`` get 400.
- **Bodies are bounded** (``MAX_BODY_BYTES``, 413), before any route reads them.
- **Pages cannot be framed or inject scripts**: every response carries ``frame-ancestors 'none'`` and a CSP that
  allows only this server's own scripts and styles, plus ``nosniff`` and a same-origin referrer policy (a page
  opened from a signed link never leaks the link to another site).
- **Tokens never reach the access log**: ``RedactTokens`` masks link tokens (``t=``) in logged request lines.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection
from urllib.parse import urlsplit

from core import urls

MAX_BODY_BYTES = 1 << 20
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT_PATHS = frozenset({urls.SLACK_EVENTS})
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
       "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
}


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL (default ports dropped), or None when it has none."""
    try:
        parts = urlsplit(url)
        port_number = parts.port
    except ValueError:                  # "http://a:99999", "http://[::1": no origin at all
        return None
    if not parts.scheme or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{port_number}" if port_number and port_number != default else ""
    return f"{parts.scheme}://{parts.hostname}{port}".lower()


def _hostname(host_header: str) -> str | None:
    try:
        return urlsplit(f"//{host_header}").hostname
    except ValueError:
        return None


def open_server_hosts(cfg) -> set[str] | None:
    """The host names an open server (no ``auth.token``) answers to; None when a token is set (all)."""
    if cfg.auth.token:
        return None
    hosts = {"localhost", "127.0.0.1", "::1", *cfg.server.allowed_hosts}
    if cfg.public_url and (public := _hostname(urlsplit(cfg.public_url).netloc)):
        hosts.add(public)
    return hosts


class WebGuard:
    """ASGI middleware applying the rules above; ``public_url`` (when the app sits behind a proxy or tunnel)
    is accepted as an own origin besides the address the request was made to."""

    def __init__(self, app, public_url: str | None = None, max_body: int = MAX_BODY_BYTES,
                 allowed_hosts: Collection[str] | None = None):
        self.app = app
        self.public_origin = _origin_of(public_url) if public_url else None
        self.max_body = max_body
        self.allowed_hosts = None if allowed_hosts is None else {h.lower().strip("[]") for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allowed_hosts is not None and _hostname(headers.get("host", "")) not in self.allowed_hosts:
            return await _answer(send, 400, f"This server does not answer to the host name "
                                            f"{headers.get('host', '')[:100]!r}. Use http://127.0.0.1, or add the "
                                            "name to server.allowed_hosts (or set auth.token).")
        if scope["method"] not in SAFE_METHODS and scope["path"] not in EXEMPT_PATHS:
            refusal = self._cross_site(scope, headers)
            if refusal:
                return await _answer(send, 403, refusal)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            return await _answer(send, 413, f"The request body is {int(length)} bytes; the limit is "
                                            f"{self.max_body} bytes.")
        if not length and "chunked" in headers.get("transfer-encoding", ""):
            body = await _read_at_most(receive, self.max_body)
            if body is None:
                return await _answer(send, 413, f"The request body is over the limit of {self.max_body} bytes.")
            receive = _replay(body, receive)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cross_site(self, scope, headers: dict) -> str | None:
        """Why this write is refused as cross-site, or None when it comes from our own pages (or no browser)."""
        claimed = headers.get("origin") or headers.get("referer")
        if claimed is None:
            return None
        scheme = scope.get("scheme", "http")
        own = {_origin_of(f"{scheme}://{headers.get('host', '')}"), self.public_origin} - {None}
        origin = _origin_of(claimed) if claimed != "null" else None
        if origin in own:
            return None
        return (f"Cross-site request refused: a {scope['method']} from {claimed[:100]!r} is not from this "
                "server's own pages. Make the change from the editor itself, or from a script with the bearer "
                "token (scripts send no Origin header). Behind a proxy, set public_url in the config.")


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail, "error": {400: "InvalidRequest", 403: "Forbidden",
                                                   413: "TooLarge"}.get(status, "Refused")})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *SECURITY_HEADERS.items()]})
    await send({"type": "http.response.body", "body": body.encode()})


async def _read_at_most(receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    """A ``receive`` that hands the app the body already read, then goes on with the connection's own."""
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


_TOKEN_IN_QUERY = re.compile(r"([?&]t=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    """Masks signed link tokens in uvicorn's access lines ("GET /videos/v1?t=…" → "?t=[redacted]")."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_QUERY.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub(r"\1[redacted]", record.msg)
        return True


def redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())

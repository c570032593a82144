"""Access to the web API and editor.

- ``auth.token`` unset: the server binds loopback only (app.py enforces it) and every request is allowed,
  acting as ``local``.
- ``auth.token`` set (at least ``core.config.MIN_TOKEN_LENGTH`` characters): a request needs one of
  * ``Authorization: Bearer <token>``,
  * the session cookie set by the login page (signed, expiring, ended by logout),
  * a signed, expiring link token (``?t=…``) issued to a Slack user by the bot.

What revokes what:
- Sessions and links are signed (itsdangerous) with a key made of ``auth.secret`` (or, when unset, a random key
  kept in the data folder) and a fingerprint of the current ``auth.token``: changing the token, or the secret,
  ends every session and every link handed out before.
- Each session carries a random id; logout records it in the database (``db.access``), and a recorded session is
  refused by every worker until it would have expired anyway.
- Wrong tokens (login form or bearer header) are counted per client address in the database: after
  ``FREE_FAILURES`` in a row the client waits 1 s, then 2 s, 4 s, … up to ``MAX_LOCK_S`` (429 with Retry-After).
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.errors import MvseError
from core.urls import Urls

SESSION_COOKIE = "mvse_session"
_LINK_SALT = "mvse.edit-link"
_SESSION_SALT = "mvse.session"
FREE_FAILURES = 5
LINK_REUSE_S = 10       # a link token is signed once per actor this often (so it expires up to this much early)
MAX_LOCK_S = 15 * 60.0


class TooManyAttempts(MvseError):
    """The client presented too many wrong tokens in a row and must wait."""

    status_code = 429

    def __init__(self, wait_s: float):
        self.retry_after = max(1, math.ceil(wait_s))
        super().__init__(f"Too many wrong tokens from your address: try again in {self.retry_after} s.")


@dataclass(frozen=True)
class Principal:
    actor: str  # "local", "token", "slack:U123", "web:<name>"
    via: str    # "open", "bearer", "session", "link" (a link grants the whole library, read-write)
    session_id: str | None = None       # sessions only: what logout revokes
    expires_at: float | None = None     # sessions and links: when the signature runs out (epoch seconds)


@lru_cache(maxsize=16)
def _key_file_secret(path: str) -> str:
    key_file = Path(path)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def signing_secret(cfg) -> str:
    """The key sessions and links are signed with: the secret, bound to the current access token."""
    secret = cfg.auth.secret or _key_file_secret(str(Path(cfg.data_path) / "secret.key"))
    token_print = hashlib.sha256((cfg.auth.token or "").encode()).hexdigest()[:32]
    return f"{secret}.{token_print}"


@lru_cache(maxsize=64)
def _serializer_for(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


def _serializer(cfg, salt: str) -> URLSafeTimedSerializer:
    return _serializer_for(signing_secret(cfg), salt)


def _verify(cfg, salt: str, value: str, max_age: int, via: str) -> Principal | None:
    """The signed actor, or None when the signature is bad or older than ``max_age`` seconds."""
    try:
        data, signed_at = _serializer(cfg, salt).loads(value, max_age=max_age, return_timestamp=True)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    return Principal(actor=str(data.get("a", via)), via=via, session_id=data.get("s"),
                     expires_at=signed_at.timestamp() + max_age)


def make_link_token(cfg, actor: str) -> str:
    """A signed link token for ``actor``. One token serves every link of a page of results (and of the next
    ``LINK_REUSE_S`` seconds): signing each of them cost a search a noticeable share of its time."""
    return _link_token(signing_secret(cfg), actor, int(time.time() // LINK_REUSE_S))


@lru_cache(maxsize=256)
def _link_token(secret: str, actor: str, window: int) -> str:
    return _serializer_for(secret, _LINK_SALT).dumps({"a": actor})


def verify_link_token(cfg, token: str) -> Principal | None:
    return _verify(cfg, _LINK_SALT, token, cfg.auth.link_ttl_s, "link")


def make_edit_url(cfg, video_id: str, segment_id: int | None = None, actor: str = "slack",
                  base_url: str | None = None) -> str:
    """An absolute (when a public URL is known) editor link for one moment, signed for ``actor``."""
    return Urls(base_url or cfg.public_url).moment(video_id, segment_id, token=make_link_token(cfg, actor))


def make_session(cfg, actor: str) -> str:
    """A new session for ``actor``, with its own id (what logout revokes)."""
    return _serializer(cfg, _SESSION_SALT).dumps({"a": actor, "s": secrets.token_urlsafe(16)})


def verify_session(cfg, value: str) -> Principal | None:
    """The session's principal when the signature holds (revocation is checked by ``identify``)."""
    p = _verify(cfg, _SESSION_SALT, value, cfg.auth.session_ttl_s, "session")
    return p if p is not None and p.session_id else None


def token_matches(cfg, presented: str | None) -> bool:
    return bool(cfg.auth.token and presented and hmac.compare_digest(presented.encode(), cfg.auth.token.encode()))


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def check_token(db, cfg, client: str, presented: str) -> bool:
    """Whether the presented access token is right, counting wrong ones per client.

    Raises ``TooManyAttempts`` while the client is locked out (before looking at the token, so a locked client
    learns nothing), and when this wrong token starts a lock-out."""
    from db import access

    with db.connection() as conn:
        access.serialize_client(conn, client)     # one check at a time per client, across every worker
        state = access.failure_state(conn, client)
        if state and state[1] > 0:
            raise TooManyAttempts(state[1])
        if token_matches(cfg, presented):
            if state:
                access.clear_failures(conn, client)
            return True
        lock = access.record_failure(conn, client, FREE_FAILURES, MAX_LOCK_S)
    if lock:
        raise TooManyAttempts(lock)
    return False


def session_principal(db, cfg, cookie: str | None) -> Principal | None:
    """The live session of this cookie: signed with the current key, not expired, not logged out."""
    from db import access

    p = verify_session(cfg, cookie) if cookie else None
    if p is None:
        return None
    with db.connection() as conn:
        return None if access.is_revoked(conn, p.session_id) else p


def end_session(db, cfg, cookie: str | None) -> None:
    """Logout: the session of this cookie is refused from now on (also when the cookie is replayed)."""
    from db import access

    p = verify_session(cfg, cookie) if cookie else None
    if p is not None:
        with db.connection() as conn:
            access.revoke_session(conn, p.session_id, access.utc_from_timestamp(p.expires_at))


def identify(db, cfg, client: str, authorization: str | None, cookie: str | None,
             link_token: str | None) -> Principal | None:
    """Who is asking, or None when the request carries nothing valid and a token is required."""
    if not cfg.auth.token:
        return Principal(actor="local", via="open")
    presented = _bearer(authorization)
    if presented is not None and check_token(db, cfg, client, presented):
        return Principal(actor="token", via="bearer")
    p = session_principal(db, cfg, cookie)
    if p is not None:
        return p
    if link_token:
        return verify_link_token(cfg, link_token)
    return None

"""Access to the web API and editor.

- ``auth.token`` unset: the server binds loopback only (app.py enforces it) and every request is allowed,
  acting as ``local``.
- ``auth.token`` set: a request needs one of
  * ``Authorization: Bearer <token>``,
  * the session cookie set by the login page (signed, expiring),
  * a signed, expiring link token (``?t=…``) issued to a Slack user by the bot.
Signing uses itsdangerous with ``auth.secret`` (or, when unset, a random key kept in the data folder).
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.urls import Urls

SESSION_COOKIE = "mvse_session"
_LINK_SALT = "mvse.edit-link"
_SESSION_SALT = "mvse.session"


@dataclass(frozen=True)
class Principal:
    actor: str  # "local", "token", "slack:U123", "web:<name>"
    via: str    # "open", "bearer", "session", "link" (a link grants the whole library, read-write)


@lru_cache(maxsize=16)
def _key_file_secret(path: str) -> str:
    key_file = Path(path)
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def signing_secret(cfg) -> str:
    if cfg.auth.secret:
        return cfg.auth.secret
    return _key_file_secret(str(Path(cfg.data_path) / "secret.key"))


@lru_cache(maxsize=64)
def _serializer_for(secret: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt)


def _serializer(cfg, salt: str) -> URLSafeTimedSerializer:
    return _serializer_for(signing_secret(cfg), salt)


def _sign(cfg, salt: str, actor: str) -> str:
    return _serializer(cfg, salt).dumps({"a": actor})


def _verify(cfg, salt: str, value: str, max_age: int, via: str) -> Principal | None:
    """The signed actor, or None when the signature is bad or older than ``max_age`` seconds."""
    try:
        data = _serializer(cfg, salt).loads(value, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    return Principal(actor=str(data.get("a", via)), via=via)


def make_link_token(cfg, actor: str) -> str:
    return _sign(cfg, _LINK_SALT, actor)


def verify_link_token(cfg, token: str) -> Principal | None:
    return _verify(cfg, _LINK_SALT, token, cfg.auth.link_ttl_s, "link")


def make_edit_url(cfg, video_id: str, segment_id: int | None = None, actor: str = "slack",
                  base_url: str | None = None) -> str:
    """An absolute (when a public URL is known) editor link for one moment, signed for ``actor``."""
    return Urls(base_url or cfg.public_url).moment(video_id, segment_id, token=make_link_token(cfg, actor))


def make_session(cfg, actor: str) -> str:
    return _sign(cfg, _SESSION_SALT, actor)


def verify_session(cfg, value: str) -> Principal | None:
    return _verify(cfg, _SESSION_SALT, value, cfg.auth.session_ttl_s, "session")


def token_matches(cfg, presented: str | None) -> bool:
    return bool(cfg.auth.token and presented and hmac.compare_digest(presented.encode(), cfg.auth.token.encode()))


def principal_for(cfg, authorization: str | None, cookie: str | None, link_token: str | None) -> Principal | None:
    """Who is asking, or None when the request carries nothing valid and a token is required."""
    if not cfg.auth.token:
        return Principal(actor="local", via="open")
    if authorization and authorization.lower().startswith("bearer ") and token_matches(cfg, authorization[7:].strip()):
        return Principal(actor="token", via="bearer")
    if cookie:
        p = verify_session(cfg, cookie)
        if p:
            return p
    if link_token:
        return verify_link_token(cfg, link_token)
    return None

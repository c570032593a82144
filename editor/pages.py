"""HTML pages: home (search box + videos), a video's editor, login/logout. Templates autoescape everything."""
from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from core import urls
from core.auth import (
    SESSION_COOKIE,
    Principal,
    TooManyAttempts,
    check_token,
    end_session,
    make_session,
    session_principal,
    verify_link_token,
)
from core.context import AppContext, client_address, get_context, request_principal, require_principal
from core.errors import MvseError, NotFound
from core.records import clock, video_record
from core.security import CSP
from core.urls import Urls
from db.segments import video_segment_ids
from db.videos import get_video, list_videos, video_edits
from edits.videos import remove_video
from search.service import search_segments

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                                   autoescape=True))
templates.env.globals["urls"] = Urls()
templates.env.filters["clock"] = clock


def marked(snippet: dict) -> Markup:
    """A search snippet as HTML: its text escaped, the matched words in <mark>."""
    text, pos, parts = snippet["text"], 0, []
    for start, end in snippet["marks"]:
        parts += [escape(text[pos:start]), Markup("<mark>"), escape(text[start:end]), Markup("</mark>")]
        pos = end
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)


templates.env.filters["marked"] = marked
STATIC_FILES = {"page.js": "text/javascript", "editor.js": "text/javascript", "timeline.js": "text/javascript",
                "members.js": "text/javascript", "editor.css": "text/css"}

router = APIRouter(tags=["pages"], include_in_schema=False)


def error_page(request: Request, err: MvseError, headers: dict | None = None) -> Response:
    """An error as a page, for a person's browser (the API answers JSON; see app.create_app)."""
    return templates.TemplateResponse(request, "error.html", {"message": err.message}, status_code=err.status_code,
                                      headers=headers)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: "/x", never "//host" or "http://…"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _set_session(response: Response, request: Request, ctx: AppContext, actor: str) -> None:
    response.set_cookie(SESSION_COOKIE, make_session(ctx.config, actor), max_age=ctx.config.auth.session_ttl_s,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")


def _login_page(request: Request, ctx: AppContext, status: int, message: str | None, next_url: str,
                headers: dict | None = None):
    return templates.TemplateResponse(request, "login.html", {"message": message, "next": next_url,
                                                              "auth_enabled": bool(ctx.config.auth.token)},
                                      status_code=status, headers=headers)


_BAD_LINK = "This link is invalid or has expired. Open a fresh one from Slack, or log in with the access token."


def page_principal(request: Request, ctx: AppContext) -> Principal | Response:
    """The caller of a page, or the page to answer instead (401 login form; 403 for a bad/expired link)."""
    p = request_principal(request, None)
    if p is not None:
        return p
    next_url = _safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.query_params.get("t"):
        return _login_page(request, ctx, 403, _BAD_LINK, "/")
    return _login_page(request, ctx, 401, "Log in with the access token to use the editor.", next_url)


@router.get(urls.API_DOCS, response_class=HTMLResponse)
def api_docs(request: Request, ctx: AppContext = Depends(get_context)):
    """Swagger UI for the API, from files the app serves itself (no CDN), behind the API's access rules."""
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    page = get_swagger_ui_html(openapi_url=urls.OPENAPI, title=request.app.title + " · API",
                               swagger_js_url=urls.DOCS_STATIC + "/swagger-ui-bundle.js",
                               swagger_css_url=urls.DOCS_STATIC + "/swagger-ui.css",
                               swagger_favicon_url=urls.DOCS_STATIC + "/favicon.png")
    # Swagger UI starts from one inline script: allow exactly that script, by its hash.
    inline = re.search(r"<script>(.*?)</script>", page.body.decode(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    page.headers["content-security-policy"] = CSP.replace("script-src 'self'", f"script-src 'self' 'sha256-{digest}'")
    return page


@router.get(urls.OPENAPI)
def openapi_schema(request: Request, _: Principal = Depends(require_principal)):
    return request.app.openapi()


@router.get("/editor-static/{name}")
def static_file(name: str):
    if name not in STATIC_FILES:
        raise NotFound(f"No static file {name!r}.")
    return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name],
                    headers={"Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse)
def home(request: Request, q: str | None = None, member: str | None = None, offset: int = 0,
         removed: str | None = None, ctx: AppContext = Depends(get_context)):
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    result, error = None, None
    if q and q.strip():
        try:
            result = search_segments(ctx, q.strip(), limit=ctx.config.search.default_limit, offset=max(0, offset),
                                     member=member or None, video=None, actor=who.actor)
        except Exception as err:  # noqa: BLE001 - the page shows why search failed instead of a 500
            error = f"Search failed: {err}"
    with ctx.db.connection() as conn:
        library = [video_record(r, r["n"]) for r in list_videos(conn)]
    return templates.TemplateResponse(request, "home.html", {
        "q": q or "", "member": member or "", "result": result, "error": error, "videos": library, "actor": who.actor,
        "removed": removed,
        "auth_enabled": bool(ctx.config.auth.token)})


@router.get(urls.VIDEO_PAGE, response_class=HTMLResponse)
def video_page(request: Request, video_id: str, segment: int | None = None, t: str | None = None,
               ctx: AppContext = Depends(get_context)):
    if t and ctx.config.auth.token:
        return _open_link(request, ctx, t, Urls().moment(video_id, segment))
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
    return templates.TemplateResponse(request, "video.html", {
        "video": video, "segment": segment, "actor": who.actor, "auth_enabled": bool(ctx.config.auth.token)})


@router.get(urls.VIDEO_REMOVE, response_class=HTMLResponse)
def remove_form(request: Request, video_id: str, ctx: AppContext = Depends(get_context)):
    """What removing the video would take away (and which edits would be lost), before anything is removed."""
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
        edits = video_edits(conn, video_id)
        segments = len(video_segment_ids(conn, video_id))
    return templates.TemplateResponse(request, "remove.html", {
        "video": video_record(video, segments), "edits": edits, "actor": who.actor,
        "auth_enabled": bool(ctx.config.auth.token)})


@router.post(urls.VIDEO_REMOVE, response_class=HTMLResponse)
def remove(request: Request, video_id: str, force: str = Form(""), ctx: AppContext = Depends(get_context)):
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    removed = remove_video(ctx.db, ctx.config, video_id, force=bool(force))
    return RedirectResponse("/?" + urlencode({"removed": removed.title}), status_code=303)


@router.get(urls.LOGIN, response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, ctx: AppContext = Depends(get_context)):
    return _login_page(request, ctx, 200, None, _safe_next(next))


def _open_link(request: Request, ctx: AppContext, token: str, target: str) -> Response:
    """A signed link from Slack: traded for a session, then the page without the token in its address. Someone
    already logged in as another person is asked first, instead of being switched silently."""
    link = verify_link_token(ctx.config, token)
    if link is None:
        return _login_page(request, ctx, 403, _BAD_LINK, "/")
    current = session_principal(ctx.db, ctx.config, request.cookies.get(SESSION_COOKIE))
    if current is not None and current.actor != link.actor:
        return templates.TemplateResponse(request, "switch.html", {
            "actor": current.actor, "link_actor": link.actor, "token": token, "next": target,
            "auth_enabled": True}, headers={"Cache-Control": "no-store"})
    response = RedirectResponse(target, status_code=303)
    if current is None:
        _set_session(response, request, ctx, link.actor)
    return response


@router.post(urls.LINK_SWITCH)
def switch_to_link(request: Request, t: str = Form(""), next: str = Form("/"),
                   ctx: AppContext = Depends(get_context)):
    """The person chose to continue as the link's owner: the current session ends, the link's begins."""
    link = verify_link_token(ctx.config, t)
    if link is None:
        return _login_page(request, ctx, 403, _BAD_LINK, "/")
    end_session(ctx.db, ctx.config, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session(response, request, ctx, link.actor)
    return response


@router.post(urls.LOGIN)
def login(request: Request, token: str = Form(""), name: str = Form(""), next: str = Form("/"),
          ctx: AppContext = Depends(get_context)):
    if not ctx.config.auth.token:
        return RedirectResponse(_safe_next(next), status_code=303)
    try:
        right = check_token(ctx.db, ctx.config, client_address(request), token)
    except TooManyAttempts as err:
        return _login_page(request, ctx, 429, err.message, _safe_next(next),
                           headers={"Retry-After": str(err.retry_after)})
    if not right:
        return _login_page(request, ctx, 401, "Wrong token.", _safe_next(next))
    response = RedirectResponse(_safe_next(next), status_code=303)
    actor = "web:" + ("".join(ch for ch in name.strip() if ch.isprintable())[:40] or "user")
    end_session(ctx.db, ctx.config, request.cookies.get(SESSION_COOKIE))
    _set_session(response, request, ctx, actor)
    return response


@router.post(urls.LOGOUT)
def logout(request: Request, ctx: AppContext = Depends(get_context)):
    """Ends the session for good: the cookie is dropped here and refused everywhere if replayed."""
    if ctx.config.auth.token:
        end_session(ctx.db, ctx.config, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(urls.LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

"""HTML pages: home (search box + videos), a video's editor, login/logout. Templates autoescape everything."""
from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from core import urls
from core.auth import SESSION_COOKIE, Principal, make_session, principal_for, token_matches, verify_link_token
from core.context import AppContext, get_context
from core.errors import MvseError, NotFound
from core.records import clock, video_record
from core.urls import Urls
from db.videos import get_video, list_videos
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
STATIC_FILES = {"editor.js": "text/javascript", "editor.css": "text/css"}

router = APIRouter(tags=["pages"], include_in_schema=False)


def error_page(request: Request, err: MvseError) -> Response:
    """An error as a page, for a person's browser (the API answers JSON; see app.create_app)."""
    return templates.TemplateResponse(request, "error.html", {"message": err.message}, status_code=err.status_code)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: "/x", never "//host" or "http://…"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _set_session(response: Response, request: Request, ctx: AppContext, actor: str) -> None:
    response.set_cookie(SESSION_COOKIE, make_session(ctx.config, actor), max_age=ctx.config.auth.session_ttl_s,
                        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/")


def _login_page(request: Request, ctx: AppContext, status: int, message: str | None, next_url: str):
    return templates.TemplateResponse(request, "login.html", {"message": message, "next": next_url,
                                                              "auth_enabled": bool(ctx.config.auth.token)},
                                      status_code=status)


def page_principal(request: Request, ctx: AppContext) -> Principal | Response:
    """The caller of a page, or the page to answer instead (401 login form; 403 for a bad/expired link)."""
    p = principal_for(ctx.config, request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE), None)
    if p is not None:
        return p
    next_url = _safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if request.query_params.get("t"):
        return _login_page(request, ctx, 403, "This link is invalid or has expired. Open a fresh one from Slack, "
                                              "or log in with the access token.", "/")
    return _login_page(request, ctx, 401, "Log in with the access token to use the editor.", next_url)


@router.get("/editor-static/{name}")
def static_file(name: str):
    if name not in STATIC_FILES:
        raise NotFound(f"No static file {name!r}.")
    return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name],
                    headers={"Cache-Control": "no-cache"})


@router.get("/", response_class=HTMLResponse)
def home(request: Request, q: str | None = None, member: str | None = None, offset: int = 0,
         ctx: AppContext = Depends(get_context)):
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
        "auth_enabled": bool(ctx.config.auth.token)})


@router.get(urls.VIDEO_PAGE, response_class=HTMLResponse)
def video_page(request: Request, video_id: str, segment: int | None = None, t: str | None = None,
               ctx: AppContext = Depends(get_context)):
    if t and ctx.config.auth.token:
        link = verify_link_token(ctx.config, t)
        if link is None:
            return _login_page(request, ctx, 403, "This link is invalid or has expired. Open a fresh one from "
                                                  "Slack, or log in with the access token.", "/")
        # Trade the link for a session cookie, then load the page without the token in its address.
        target = Urls().moment(video_id, segment)
        response = RedirectResponse(target, status_code=303)
        _set_session(response, request, ctx, link.actor)
        return response
    who = page_principal(request, ctx)
    if isinstance(who, Response):
        return who
    with ctx.db.connection() as conn:
        video = get_video(conn, video_id)
    return templates.TemplateResponse(request, "video.html", {
        "video": video, "segment": segment, "actor": who.actor, "auth_enabled": bool(ctx.config.auth.token)})


@router.get(urls.LOGIN, response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, ctx: AppContext = Depends(get_context)):
    return _login_page(request, ctx, 200, None, _safe_next(next))


@router.post(urls.LOGIN)
def login(request: Request, token: str = Form(""), name: str = Form(""), next: str = Form("/"),
          ctx: AppContext = Depends(get_context)):
    if not ctx.config.auth.token:
        return RedirectResponse(_safe_next(next), status_code=303)
    if not token_matches(ctx.config, token):
        return _login_page(request, ctx, 401, "Wrong token.", _safe_next(next))
    response = RedirectResponse(_safe_next(next), status_code=303)
    actor = "web:" + ("".join(ch for ch in name.strip() if ch.isprintable())[:40] or "user")
    _set_session(response, request, ctx, actor)
    return response


@router.post("/logout")
def logout():
    response = RedirectResponse(urls.LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

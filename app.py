"""One process serving the web editor, the search API and the Slack endpoint.

    python app.py [--host H] [--port P] [--ngrok] [--config FILE]
"""
from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import sys

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from core.config import Config, ConfigError, load_config
from core.context import AppContext
from core.embedding import embedder_from_config
from core.errors import InvalidRequest, MvseError, first_line

log = logging.getLogger("mvse")


def create_app(cfg: Config, db=None, embedder=None, translator=None, query_translator=None) -> FastAPI:
    """Build the FastAPI app. ``db``/``embedder``/``translator``/``query_translator`` default to what the config
    names."""
    from bot.slack import mount_slack
    from core.gemini import translator_from_config
    from core.query_translation import query_translator_from_config
    from editor import api, media, pages
    from search import api as search_api

    if db is None:
        from db import connect_database

        db = connect_database(cfg)
    ctx = AppContext(config=cfg, db=db, embedder=embedder or embedder_from_config(cfg),
                     translator=translator if translator is not None else translator_from_config(cfg),
                     query_translator=query_translator or query_translator_from_config(cfg))
    app = FastAPI(title="Multimodal Video Search & Edit", docs_url="/api/docs", openapi_url="/api/openapi.json")
    app.state.ctx = ctx

    @app.get("/healthz")
    def healthz():
        if ctx.db.ping():
            return {"status": "ok"}
        return JSONResponse({"status": "error", "detail": "database not answering"}, status_code=503)

    @app.exception_handler(MvseError)
    async def mvse_error(request: Request, err: MvseError):
        """Every error of ours, mapped once, with the error's status: an error page where the route answers
        HTML (the editor's pages), else JSON ``{"detail", "error"}``."""
        if err.status_code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, err)
        if getattr(request.scope.get("route"), "response_class", None) is HTMLResponse:
            return pages.error_page(request, err)
        return JSONResponse({"detail": err.message or str(err), "error": type(err).__name__},
                            status_code=err.status_code)

    @app.exception_handler(psycopg.DataError)
    @app.exception_handler(UnicodeEncodeError)
    async def unusable_value(request: Request, err: Exception):
        """A value the database cannot take (a NUL character, a lone surrogate, a number out of range) came with
        the request: it is the request's fault, answered like any other bad input."""
        return await mvse_error(request, InvalidRequest(
            f"The request holds a value that cannot be stored or looked up ({first_line(err)}). Remove NUL "
            "characters and unpaired surrogates from texts and ids, and keep numbers within 64-bit range."))

    for router in (search_api.router, api.router, media.router, pages.router):
        app.include_router(router)
    mount_slack(app, ctx)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app.py", description="Serve the video search editor, API and Slack endpoint.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; other addresses need auth.token)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--ngrok", action="store_true", help="open a public ngrok tunnel and use it as public_url")
    p.add_argument("--config", default=None, help="config file (default: $MVSE_CONFIG or config.json)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=os.environ.get("MVSE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cfg = load_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if not cfg.auth.token and not is_loopback(args.host):
        print(f"Refusing to bind {args.host}: without auth.token the server is open to anyone who can reach it. "
              "Fix: set auth.token in the config, or bind 127.0.0.1.", file=sys.stderr)
        return 2
    tunnel = None
    if args.ngrok:
        from bot.tunnel import TunnelError, open_tunnel

        try:
            tunnel = open_tunnel(cfg, args.port)
        except TunnelError as err:
            print(err, file=sys.stderr)
            return 2
    try:
        app = create_app(cfg)
    except MvseError as err:
        print(err, file=sys.stderr)
        return 2
    import signal

    import uvicorn

    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so the cleanup below
    # (pool, embedded PostgreSQL) runs instead of the process dying on the default handler.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("serving on http://%s:%d", args.host, args.port)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        if tunnel is not None:
            tunnel.close()
        app.state.ctx.db.close()
        from db.server import stop_embedded_servers

        stop_embedded_servers()
    return 0


if __name__ == "__main__":
    sys.exit(main())

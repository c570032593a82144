"""The web editor, the search API and the Slack endpoint, served on one port by one or more worker processes.

    python app.py [--host H] [--port P] [--ngrok] [--config FILE] [--workers N]
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
from pathlib import Path

import fastapi_offline
import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from psycopg_pool import PoolTimeout

from core import urls
from core.config import CONFIG_ENV_VAR, Config, ConfigError, load_config
from core.context import AppContext
from core.embedding import embedder_from_config
from core.errors import InvalidRequest, MvseError, first_line
from core.model_check import describe, find_missing, hub_note
from core.security import WebGuard, open_server_hosts, redact_access_log
from db.database import database_error

log = logging.getLogger("mvse")


def create_app(cfg: Config, db=None, embedder=None, translator=None, query_translator=None) -> FastAPI:
    """Build the FastAPI app. ``db``/``embedder``/``translator``/``query_translator`` default to what the config
    names."""
    from bot.slack import mount_slack
    from core.gemini import translator_from_config
    from core.query_translation import query_translator_from_config
    from editor import api, media, pages, people
    from search import api as search_api

    if db is None:
        from db import connect_database

        db = connect_database(cfg)
    ctx = AppContext(config=cfg, db=db, embedder=embedder or embedder_from_config(cfg),
                     translator=translator if translator is not None else translator_from_config(cfg),
                     query_translator=query_translator or query_translator_from_config(cfg))
    # The API's docs and schema are routes of editor.pages, behind the same access as the API.
    app = FastAPI(title="Multimodal Video Search & Edit", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.add_middleware(WebGuard, public_url=cfg.public_url, allowed_hosts=open_server_hosts(cfg))
    app.mount(urls.DOCS_STATIC, StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"))
    redact_access_log()

    ctx.missing_models = find_missing({"models.embedding": ctx.embedder,
                                       "models.query_translator": ctx.query_translator})
    if ctx.missing_models:
        log.warning("%s\nServing anyway: search matches words only, and the pages say so.",
                    describe(ctx.missing_models))

    @app.get("/healthz")
    def healthz():
        """200 while the database answers ("degraded" when a configured model is missing), else 503."""
        models = {m.key: f"missing: {m.kind} {m.name}" for m in ctx.missing_models}   # the details: logs, pages
        details = {"models": models, "hub": hub_note()}
        if not ctx.db.ping():
            return JSONResponse({"status": "error", "detail": "database not answering", **details}, status_code=503)
        return {"status": "degraded" if models else "ok", **details}

    @app.exception_handler(MvseError)
    async def mvse_error(request: Request, err: MvseError):
        """Every error of ours, mapped once, with the error's status: an error page where the route answers
        HTML (the editor's pages), else JSON ``{"detail", "error"}``."""
        if err.status_code >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, err)
        headers = {"Retry-After": str(err.retry_after)} if getattr(err, "retry_after", None) else None
        if getattr(request.scope.get("route"), "response_class", None) is HTMLResponse:
            return pages.error_page(request, err, headers)
        return JSONResponse({"detail": err.message or str(err), "error": type(err).__name__},
                            status_code=err.status_code, headers=headers)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_failed(request: Request, err: Exception):
        """The database failed the request mid-way (down, or no connection free within ``DB_WAIT_S``)."""
        return await mvse_error(request, database_error(err))

    @app.exception_handler(psycopg.DataError)
    @app.exception_handler(UnicodeEncodeError)
    async def unusable_value(request: Request, err: Exception):
        """A value the database cannot take (a NUL character, a lone surrogate, a number out of range) came with
        the request: it is the request's fault, answered like any other bad input."""
        return await mvse_error(request, InvalidRequest(
            f"The request holds a value that cannot be stored or looked up ({first_line(err)}). Remove NUL "
            "characters and unpaired surrogates from texts and ids, and keep numbers within 64-bit range."))

    for router in (search_api.router, api.router, media.router, pages.router, people.router):
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
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="processes serving requests (default: server.workers, else the usable CPUs, at most 4; "
                        "1 serves from this process)")
    return p.parse_args(argv)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What the parent process settled for its workers (JSON of config keys: the embedded database's URL, the ngrok
# public_url), laid over the config file that $MVSE_CONFIG names.
WORKER_SETTINGS_ENV = "MVSE_WORKER_SETTINGS"


def worker_app() -> FastAPI:
    """The app of one worker process, made by uvicorn (``"app:worker_app"``, ``factory=True``) when ``main`` serves
    with several. The parent has checked the config, started the embedded database and applied the migrations; a
    worker only connects. Each worker has its own pool, embedding model and query-vector cache, and closes its pool
    when it stops."""
    from contextlib import asynccontextmanager

    from uvicorn.config import STARTUP_FAILURE

    logging.basicConfig(level=os.environ.get("MVSE_LOG_LEVEL", "INFO"), format=LOG_FORMAT)
    try:
        cfg = load_config()
        for key, value in json.loads(os.environ.get(WORKER_SETTINGS_ENV) or "{}").items():
            setattr(cfg, key, value)
        app = create_app(cfg)
    except (ConfigError, MvseError) as err:
        log.error("worker %d cannot start: %s", os.getpid(), err)
        sys.exit(STARTUP_FAILURE)       # uvicorn's parent then stops, instead of restarting workers that fail alike
    db = app.state.ctx.db
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        try:
            async with inner(a) as state:
                yield state
        finally:
            db.close()

    app.router.lifespan_context = lifespan
    return app


def serve_workers(host: str, port: int, workers: int, uvicorn_args: dict) -> int:
    """Serve ``worker_app`` from ``workers`` processes on one port, until SIGTERM or Ctrl-C; 2 when the port is
    taken or a worker could not start (uvicorn's supervisor then stops them all).

    The sockets are bound here, as TCP: the one uvicorn.run binds for workers has no protocol set, so asyncio leaves
    Nagle's algorithm on and each answer on a kept-alive connection waits ~40 ms for the client's delayed ACK
    (uvicorn issue 3149). On Linux each worker gets a socket of its own (SO_REUSEPORT: the kernel spreads new
    connections over them by the client's address); with one shared socket the worker that wakes first accepts a
    whole burst of connections (a proxy's pool, a benchmark's 30 clients) and keeps them all. Elsewhere SO_REUSEPORT
    does not spread connections, so the workers share one socket."""
    import socket

    import uvicorn
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess
    from uvicorn.supervisors.multiprocess import Process

    own = sys.platform.startswith("linux")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))        # fails if anything listens there, SO_REUSEPORT or not (another app.py)
        for _ in range(workers if own else 1):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if own:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.set_inheritable(True)
    except OSError as err:
        for sock in sockets:
            sock.close()
        print(f"Cannot listen on {host}:{port} ({err.strerror}). Fix: stop what uses that port, or choose another "
              "with --port.", file=sys.stderr)
        return 2

    class Supervisor(Multiprocess):
        """uvicorn's supervisor, starting each worker on its own socket (a worker it restarts listens on all)."""

        def init_processes(self) -> None:
            for i in range(self.processes_num):
                process = Process(self.config, [self.sockets[i]] if own else self.sockets)
                process.start()
                self.processes.append(process)

    log.info("serving on http://%s:%d with %d worker processes", host, port, workers)
    supervisor = Supervisor(uvicorn.Config("app:worker_app", factory=True, workers=workers, **uvicorn_args),
                            sockets=sockets)
    try:
        supervisor.run()
    finally:
        for sock in sockets:
            sock.close()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        print("A worker process could not start (its error is above).", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=os.environ.get("MVSE_LOG_LEVEL", "INFO"), format=LOG_FORMAT)
    try:
        cfg = load_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    if not cfg.auth.token and not is_loopback(args.host):
        print(f"Refusing to bind {args.host}: without auth.token the server is open to anyone who can reach it. "
              "Fix: set auth.token in the config, or bind 127.0.0.1.", file=sys.stderr)
        return 2
    workers = args.workers or cfg.server.worker_count
    import signal

    import uvicorn

    from db.server import stop_embedded_servers

    # uvicorn re-raises SIGTERM after its graceful shutdown (and with workers its supervisor takes the signal while
    # it runs); turn it into SystemExit so the cleanup below (pool, tunnel, embedded PostgreSQL) runs instead of
    # the process dying on the default handler.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tunnel = app = None
    try:
        if args.ngrok:
            from bot.tunnel import TunnelError, open_tunnel

            try:
                tunnel = open_tunnel(cfg, args.port)        # sets cfg.public_url
            except TunnelError as err:
                print(err, file=sys.stderr)
                return 2
        try:
            if workers == 1:
                app = create_app(cfg)
            else:
                from core.auth import signing_secret
                from db import connect_database
                from db.server import database_url

                connect_database(cfg, min_size=1, max_size=1).close()    # starts the database, migrates, once
                signing_secret(cfg)     # creates data_dir/secret.key once: workers each creating it would sign apart
                settled = {"public_url": cfg.public_url}
                if not cfg.database_url:
                    settled["database_url"] = database_url(cfg)         # the embedded server this process holds
                os.environ[WORKER_SETTINGS_ENV] = json.dumps(settled)
                if cfg.source:
                    os.environ[CONFIG_ENV_VAR] = cfg.source
        except MvseError as err:
            print(err, file=sys.stderr)
            return 2
        common = {"host": args.host, "port": args.port, "log_level": "info",
                  "timeout_graceful_shutdown": cfg.server.graceful_shutdown_s}
        if app is None:
            return serve_workers(args.host, args.port, workers, common)
        log.info("serving on http://%s:%d", args.host, args.port)
        uvicorn.run(app, **common)
    finally:
        if tunnel is not None:
            tunnel.close()
        if app is not None:
            app.state.ctx.db.close()
        stop_embedded_servers()
    return 0


if __name__ == "__main__":
    sys.exit(main())

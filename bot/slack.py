"""Mounts the Slack endpoint (POST /slack/events) when Slack is configured."""
import logging

from fastapi import Request
from fastapi.responses import JSONResponse

from bot.listeners.context import CONTEXT_KEY
from core import urls

log = logging.getLogger(__name__)


def mount_slack(app, ctx) -> None:
    if not ctx.config.slack_enabled:
        log.info("Slack is not configured (slack.bot_token, slack.signing_secret): serving the editor only")

        @app.post(urls.SLACK_EVENTS, include_in_schema=False)
        async def slack_not_configured():
            return JSONResponse({"error": "Slack is not configured on this server: set slack.bot_token and "
                                          "slack.signing_secret in the config and restart."}, status_code=503)
        return

    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

    from bot.app import build_bolt_app

    handler = AsyncSlackRequestHandler(build_bolt_app(ctx))
    shared = {CONTEXT_KEY: ctx}     # every listener finds the app's context in Bolt's context

    @app.post(urls.SLACK_EVENTS, include_in_schema=False)
    async def slack_events(request: Request):
        return await handler.handle(request, addition_context_properties=shared)

    log.info("Slack bot ready: command %s at POST /slack/events", ctx.config.slack.command)
    if not ctx.config.public_url:
        log.warning("public_url is not set: Slack results will have no thumbnails and no editor links. "
                    "Fix: set public_url in the config, or start with --ngrok.")

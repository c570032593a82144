"""Mounts the Slack endpoint (POST /slack/events) when Slack is configured."""
import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from slack_sdk.signature import SignatureVerifier

from bot.listeners.context import CONTEXT_KEY
from core import urls

log = logging.getLogger(__name__)


def signed(verifier, body: bytes, headers) -> bool:
    """Slack's signature over the body, fresh (5 minutes); anything unreadable is simply not signed."""
    try:
        return verifier.is_valid_request(body, dict(headers))
    except ValueError:                       # a timestamp that is not a number
        return False


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
    verifier = SignatureVerifier(ctx.config.slack.signing_secret)
    shared = {CONTEXT_KEY: ctx}     # every listener finds the app's context in Bolt's context

    @app.post(urls.SLACK_EVENTS, include_in_schema=False)
    async def slack_events(request: Request):
        # The signature is checked here first: Bolt parses a body before it checks it, so unsigned junk
        # ("payload=x", "{", a timestamp that is not a number) would otherwise end in a 500.
        if not signed(verifier, await request.body(), request.headers):
            return JSONResponse({"error": "invalid request signature"}, status_code=401)
        try:
            return await handler.handle(request, addition_context_properties=shared)
        except ValueError as err:            # a signed body that is not what Slack sends (bad JSON, bad payload)
            log.warning("malformed Slack request: %s", err)
            return JSONResponse({"error": "malformed Slack request"}, status_code=400)

    log.info("Slack bot ready: command %s at POST /slack/events", ctx.config.slack.command)
    if not ctx.config.public_url:
        log.warning("public_url is not set: Slack results will have no thumbnails and no editor links. "
                    "Fix: set public_url in the config, or start with --ngrok.")

"""Build the Bolt AsyncApp: signature checks by Bolt, the configured bot token, the configured Web API URL."""
from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners

log = logging.getLogger(__name__)


def build_bolt_app(ctx) -> AsyncApp:
    """The Slack app for ``ctx`` (Slack must be configured). No network at start: the bot token from the config
    is used as is (a custom ``authorize`` instead of Slack's auth.test)."""
    cfg = ctx.config.slack
    token = cfg.bot_token

    async def authorize(enterprise_id=None, team_id=None, user_id=None, **_):
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    client_args = {"timeout": 30}
    if cfg.api_base_url:
        client_args["base_url"] = cfg.api_base_url.rstrip("/") + "/"
    app = AsyncApp(signing_secret=cfg.signing_secret, authorize=authorize, client=AsyncWebClient(**client_args),
                   logger=logging.getLogger("bot.bolt"))
    listeners.register(app, cfg.command, cfg.highlights_command)
    return app

"""Mounts the Slack endpoint (POST /slack/events) when Slack is configured."""
import logging

log = logging.getLogger(__name__)


def mount_slack(app, ctx) -> None:
    if not ctx.config.slack_enabled:
        log.info("Slack is not configured (slack.bot_token, slack.signing_secret): serving the editor only")

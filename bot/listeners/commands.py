"""The search slash command (``slack.command``, default /search): ack at once, search in a lazy listener."""
from __future__ import annotations

from bot import blocks
from bot.listeners.searching import results_message

QUERY_MAX = 500


def register(app, ctx) -> None:
    command_name = ctx.config.slack.command

    async def ack_search(ack, command: dict):
        query = (command.get("text") or "").strip()
        if not query:
            await ack(text=blocks.usage_text(command.get("command") or ctx.config.slack.command))
            return
        await ack(text=f"🔎 ‘{blocks.escape(blocks.clip_text(query, 200))}’ 검색 중…")

    async def run_search(respond, command: dict):
        query = blocks.clip_text((command.get("text") or "").strip(), QUERY_MAX)
        if not query:
            return
        message = await results_message(ctx, query, command.get("user_id"))
        await respond(response_type="ephemeral", replace_original=False, **message)

    app.command(command_name)(ack=ack_search, lazy=[run_search])

"""The search slash command (``slack.command``, default /search): ack at once, search in a lazy listener."""
from __future__ import annotations

from bot import blocks
from bot.listeners.context import app_context
from bot.listeners.searching import results_message


async def ack_search(ack, command: dict, context):
    query = (command.get("text") or "").strip()
    if not query:
        await ack(text=blocks.usage_text(command.get("command") or app_context(context).config.slack.command))
        return
    await ack(text=f"🔎 ‘{blocks.escape(blocks.clip_text(query, 200))}’ 검색 중…")


async def run_search(respond, command: dict, context):
    query = (command.get("text") or "").strip()          # search bounds its length, with a notice
    if not query:
        return
    message = await results_message(app_context(context), query, command.get("user_id"))
    await respond(response_type="ephemeral", replace_original=False, **message)


def register(app, command: str) -> None:
    app.command(command)(ack=ack_search, lazy=[run_search])

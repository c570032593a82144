"""The highlights slash command (``slack.highlights_command``, default /highlights): ``<video title or id> [member]``.

Ack at once, find the video and the highlights in a lazy listener (the summary may take Gemini a few seconds), answer
ephemerally with Block Kit: thumbnails, times, reasons, Export (cut and uploaded like a segment's clip) and Edit.
"""
from __future__ import annotations

import asyncio
import logging

from bot import blocks
from bot.listeners.context import app_context
from bot.listeners.searching import edit_url_for
from core.errors import InvalidRequest
from core.urls import Urls
from db.members import resolve_members
from db.videos import videos_named

log = logging.getLogger(__name__)


def parse_request(ctx, text: str) -> tuple[dict, str | None]:
    """The video (and member) a person meant: the whole text as a video first, else its last word as a member and
    the rest as the video. InvalidRequest saying what matched when it is not exactly one video."""
    words = text.split()
    with ctx.db.connection() as conn:
        found, member = videos_named(conn, text), None
        if not found and len(words) > 1:
            try:
                member = resolve_members(conn, [words[-1]])[0][1]
            except InvalidRequest:
                member = None
            if member:
                found = videos_named(conn, " ".join(words[:-1]))
    if not found:
        raise InvalidRequest(f"‘{text}’: 그런 영상을 찾지 못했어요 (no video with that title or id). "
                             "영상 제목의 일부나 id를 써 주세요.")
    if len(found) > 1:
        names = ", ".join(f"{v['title']} (`{v['id']}`)" for v in found[:5])
        raise InvalidRequest(f"‘{text}’에 맞는 영상이 여러 개예요 (several videos match): {names}. 하나를 골라 주세요.")
    return found[0], member


def highlights_for(ctx, text: str, user_id: str) -> dict:
    from search.highlights import highlights

    video, member = parse_request(ctx, text)
    data = highlights(ctx, video["id"], member=member)
    urls = Urls(ctx.config.public_url)
    edit = {h["rank"]: edit_url_for(ctx, user_id, video["id"], h["segment_id"]) for h in data["highlights"]
            if h.get("segment_id")}
    thumbs = {h["rank"]: urls.thumbnail(h["segment_id"]) for h in data["highlights"] if h.get("thumbnail")}
    return blocks.highlights_message(data, edit, thumbs)


async def ack_highlights(ack, command: dict, context):
    text = (command.get("text") or "").strip()
    if not text:
        await ack(text=blocks.highlights_usage(command.get("command") or
                                               app_context(context).config.slack.highlights_command))
        return
    await ack(text=f"🔥 ‘{blocks.escape(blocks.clip_text(text, 200))}’ 베스트 장면을 찾는 중… (finding highlights)")


async def run_highlights(respond, command: dict, context):
    text = (command.get("text") or "").strip()
    if not text:
        return
    try:
        message = await asyncio.to_thread(highlights_for, app_context(context), text[:300], command.get("user_id"))
    except InvalidRequest as err:
        said = blocks.escape(err.message)
        message = {"text": said, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": said}}]}
    except Exception:  # noqa: BLE001 - the user gets a message, the log gets the traceback
        log.exception("highlights for %r failed", text)
        message = {"text": "베스트 장면을 찾지 못했어요 (highlights failed on the server; see its log)."}
    await respond(response_type="ephemeral", replace_original=False, **message)


def register(app, command: str) -> None:
    app.command(command)(ack=ack_highlights, lazy=[run_highlights])

"""The Edit caption modal's submission: saved through ``edits.operations.update_segment`` (history +
re-embedding), exactly as an edit in the web editor."""
from __future__ import annotations

import asyncio
import json
import logging

from bot import blocks
from bot.listeners.context import app_context
from bot.listeners.searching import actor_of
from edits.errors import EditError, VersionConflict
from edits.operations import update_segment

log = logging.getLogger(__name__)


def _metadata(view: dict) -> dict | None:
    try:
        data = json.loads(view.get("private_metadata") or "")
        return {"s": int(data["s"]), "ver": int(data["ver"]), "c": data.get("c")}
    except (TypeError, KeyError, ValueError):
        return None


def _caption(view: dict) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return ((values.get(blocks.CAPTION_BLOCK) or {}).get(blocks.CAPTION_INPUT) or {}).get("value") or ""


def _form_error(meta: dict | None, caption: str) -> str | None:
    if meta is None:
        return "이 창은 더 이상 쓸 수 없어요. 다시 검색해 주세요. (This form is out of date.)"
    if not caption:
        return "캡션을 입력해 주세요. (Enter a caption.)"
    if len(caption) > blocks.PLAIN_INPUT_MAX:
        return f"캡션은 {blocks.PLAIN_INPUT_MAX}자까지 쓸 수 있어요."
    return None


async def save_caption(ack, context, body, view, client):
    meta = _metadata(view)
    caption = _caption(view).strip()
    error = _form_error(meta, caption)
    if error:
        await ack(response_action="errors", errors={blocks.CAPTION_BLOCK: error})
        return
    ctx = app_context(context)
    user = (body.get("user") or {}).get("id")
    try:
        seg = await asyncio.to_thread(update_segment, ctx.db, ctx.embedder, meta["s"], actor=actor_of(user),
                                      expected_version=meta["ver"], caption=caption)
    except VersionConflict:
        await ack(response_action="errors", errors={blocks.CAPTION_BLOCK:
                  "그 사이 다른 사람이 이 장면을 수정했어요. 창을 닫고 다시 열어 주세요. "
                  "(Someone else changed this segment: close and reopen.)"})
        return
    except EditError as err:
        await ack(response_action="errors", errors={blocks.CAPTION_BLOCK: blocks.clip_text(err.message, 150)})
        return
    await ack()
    if meta.get("c") and user:
        try:
            saved = f"✅ 캡션을 저장했어요 (segment {seg['id']}, version {seg['version']})."
            await client.chat_postEphemeral(channel=meta["c"], user=user, text=saved)
        except Exception as err:  # noqa: BLE001 - slack_sdk errors vary; a confirmation not shown is not an error
            log.info("caption saved but the confirmation was not shown: %s", err)


def register(app) -> None:
    app.view(blocks.CAPTION_MODAL)(save_caption)

"""Buttons on results: Share to channel, Edit in Web, Edit caption (opens the modal), Export clip, More results;
on highlights: Export (a span of the video) and Edit in Web.

Each button carries ``{"s": segment_id, "v": video_id}`` (More results: the query and next offset). Slow work
runs after the ack (lazy listeners); unknown action ids are acknowledged and ignored. Every listener finds
the app's context in Bolt's ``context`` (``bot.listeners.context.app_context``).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re

from bot import blocks, library
from bot.listeners.context import app_context
from bot.listeners.searching import actor_of, edit_url_for, results_message
from core.errors import InvalidRequest
from edits import clips

log = logging.getLogger(__name__)

STALE = "이 버튼은 더 이상 쓸 수 없어요. 다시 검색해 주세요. (This button is out of date: search again.)"
CANNOT_CUT = "⚠️ 클립을 만들 수 없어요: "


def _value(body: dict) -> dict | None:
    actions = body.get("actions") or [{}]
    return blocks.decode_value(actions[0].get("value"))


def _segment_id(data: dict | None) -> int | None:
    try:
        return int(data["s"])
    except (TypeError, KeyError, ValueError):
        return None


def _channel(body: dict) -> str | None:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def _user(body: dict) -> str:
    return (body.get("user") or {}).get("id") or "unknown"


async def _say_private(respond, text: str) -> None:
    await respond(response_type="ephemeral", replace_original=False, text=text)


async def _moment_or_explain(ctx, respond, segment_id: int, prefix: str = "⚠️ ") -> dict | None:
    """The moment behind a button, or None after telling the clicker why it is gone."""
    try:
        return await asyncio.to_thread(library.load_moment, ctx, segment_id)
    except InvalidRequest as err:
        await _say_private(respond, f"{prefix}{blocks.escape(err.message)}")
        return None


async def _button_moment(context, body, respond, prefix: str = "⚠️ ") -> tuple[dict, str] | None:
    """The moment a Share / Export button points at and the channel it was clicked in; None after telling the
    clicker why there is none."""
    sid = _segment_id(_value(body))
    channel = _channel(body)
    if sid is None or not channel:
        await _say_private(respond, STALE)
        return None
    moment = await _moment_or_explain(app_context(context), respond, sid, prefix)
    return (moment, channel) if moment is not None else None


async def ack_only(ack):
    await ack()


async def share(context, body, respond, client):
    """Share to channel: post the moment in the channel for everyone."""
    found = await _button_moment(context, body, respond)
    if found is None:
        return
    moment, channel = found
    try:
        await client.chat_postMessage(channel=channel, unfurl_links=False, **blocks.shared_message(moment, _user(body)))
    except Exception as err:  # noqa: BLE001 - slack_sdk raises SlackApiError / client errors; the user gets a hint
        log.warning("sharing segment %s to %s failed: %s", moment["segment_id"], channel, err)
        await _say_private(respond, "⚠️ 채널에 공유하지 못했어요. 봇을 채널에 초대했는지 확인해 주세요 "
                                    "(invite the bot to this channel: /invite @bot).")


async def edit_in_web(context, body, respond):
    """Edit in Web: a URL button opens the link itself (only needs the ack); without a URL (shared message, or
    no public_url) the clicker gets a link signed for them."""
    data = _value(body)
    if data and data.get("u"):     # a URL button: Slack already opened the link
        return
    sid = _segment_id(data)
    if sid is None or not data.get("v"):
        await _say_private(respond, STALE)
        return
    url = edit_url_for(app_context(context), _user(body), str(data["v"]), sid)
    if blocks.is_public_url(url):
        await _say_private(respond, f"✏️ <{url}|웹 편집기에서 열기 (Edit in Web)> — 이 링크는 본인 전용이며 "
                                    "기간이 지나면 만료돼요 (personal link, expires).")
    else:
        await _say_private(respond, "웹 편집기 링크를 만들 수 없어요: 서버에 public_url이 설정되지 않았어요. "
                                    "(No public URL: set public_url in the config or start with --ngrok.) "
                                    f"On the server's machine: `{url}`")


async def edit_caption(ack, context, body, client, respond):
    """Edit caption: open the modal right away (a trigger_id lives 3 s), so this runs before the ack returns."""
    await ack()
    sid = _segment_id(_value(body))
    if sid is None or not body.get("trigger_id"):
        await _say_private(respond, STALE)
        return
    moment = await _moment_or_explain(app_context(context), respond, sid)
    if moment is None:
        return
    metadata = {"s": sid, "ver": moment["version"], "c": _channel(body)}
    await client.views_open(trigger_id=body["trigger_id"], view=blocks.caption_modal(moment, metadata))


async def export_clip(context, body, respond, client):
    """Export clip: cut with moviepy from the video's own file (its playable copy if that fails), upload with
    files_upload_v2."""
    found = await _button_moment(context, body, respond, CANNOT_CUT)
    if found is None:
        return
    moment, channel = found
    ctx = app_context(context)
    try:
        source, fallback = await asyncio.to_thread(clips.clip_sources, ctx, moment["video_id"])
    except InvalidRequest as err:
        await _say_private(respond, f"{CANNOT_CUT}{blocks.escape(err.message)}")
        return
    await _say_private(respond, "🎬 클립을 만드는 중이에요… (cutting the clip)")
    sid = moment["segment_id"]
    out = clips.clip_path(ctx.config.clips_path, moment["video_id"], sid, moment["start"], moment["end"])
    try:
        await asyncio.to_thread(clips.cut_clip, source, moment["start"], moment["end"], out, fallback)
    except Exception as err:  # noqa: BLE001 - ffmpeg/moviepy errors vary; the user gets one message, the log the rest
        log.exception("cutting segment %s failed", sid)
        await _say_private(respond, f"⚠️ 클립을 자르지 못했어요 (cutting failed: {type(err).__name__}).")
        return
    await _upload(client, respond, body, channel, out,
                  f"{moment['video_title']} {blocks.time_range(moment['start'], moment['end'])}")


async def export_highlight(context, body, respond, client):
    """Export on a highlight: its span (times, not a segment) cut like a segment's clip and uploaded."""
    data, channel = _value(body) or {}, _channel(body)
    try:
        video_id, start, end = str(data["v"]), float(data["a"]), float(data["b"])
    except (KeyError, TypeError, ValueError):
        video_id = None
    if not video_id or not channel:
        await _say_private(respond, STALE)
        return
    await _say_private(respond, "🎬 클립을 만드는 중이에요… (cutting the clip)")
    try:
        out, video = await asyncio.to_thread(clips.export_span, app_context(context), video_id, start, end)
    except InvalidRequest as err:
        await _say_private(respond, f"{CANNOT_CUT}{blocks.escape(err.message)}")
        return
    except Exception as err:  # noqa: BLE001 - ffmpeg/moviepy errors vary; the user gets one message, the log the rest
        log.exception("cutting %s %.2f-%.2f failed", video_id, start, end)
        await _say_private(respond, f"⚠️ 클립을 자르지 못했어요 (cutting failed: {type(err).__name__}).")
        return
    await _upload(client, respond, body, channel, out, f"{video['title']} {blocks.time_range(start, end)}")


async def _upload(client, respond, body, channel: str, out, title: str) -> None:
    try:
        await client.files_upload_v2(channel=channel, file=str(out), filename=out.name, title=title,
                                     initial_comment=f"<@{_user(body)}> 님이 클립을 내보냈어요: {blocks.escape(title)}")
    except Exception as err:  # noqa: BLE001 - slack_sdk raises SlackApiError / client errors; the user gets a hint
        log.warning("uploading clip %s to %s failed: %s", out.name, channel, err)
        await _say_private(respond, "⚠️ 클립을 올리지 못했어요. 봇을 채널에 초대했는지, files:write 권한이 있는지 "
                                    "확인해 주세요 (invite the bot; it needs the files:write scope).")


async def more_results(context, body, respond):
    """More results: the next page replaces the message."""
    data = _value(body) or {}
    query, offset = data.get("q"), data.get("o")
    if not isinstance(query, str) or not query.strip() or not isinstance(offset, int) or offset < 0:
        await _say_private(respond, STALE)
        return
    message = await results_message(app_context(context), query, _user(body), offset=offset, member=data.get("m"),
                                    video=data.get("vid"))
    await respond(response_type="ephemeral", replace_original=True, **message)


async def unknown_action(ack, body):
    """Anything else (an old message's button, a forged id): acknowledge, change nothing."""
    await ack()
    ids = [a.get("action_id") for a in body.get("actions") or []]
    log.warning("ignored Slack action(s) %s from user %s", json.dumps(ids)[:200], actor_of(_user(body)))


def register(app) -> None:
    app.action(blocks.SHARE)(ack=ack_only, lazy=[share])
    app.action(blocks.EDIT_IN_WEB)(ack=ack_only, lazy=[edit_in_web])
    app.action(blocks.EDIT_CAPTION)(edit_caption)
    app.action(blocks.EXPORT_CLIP)(ack=ack_only, lazy=[export_clip])
    app.action(blocks.EXPORT_HIGHLIGHT)(ack=ack_only, lazy=[export_highlight])
    app.action(blocks.MORE_RESULTS)(ack=ack_only, lazy=[more_results])
    app.action(re.compile(r".*"))(unknown_action)     # last: the catch-all for unknown action ids

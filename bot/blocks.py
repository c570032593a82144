"""Block Kit messages built from plain data (search results, a shared moment, the caption modal).

Pure functions: no Slack calls, no database. A moment comes in the app's one segment shape
(``core.records.SegmentRecord``; the caption modal takes an ``EditableSegment``). Everything a person or a
model wrote is escaped for mrkdwn (``& < >``) before it goes into a block, so a caption cannot inject links
or mentions.
"""
from __future__ import annotations

import json

from core.records import EditableSegment, SegmentRecord, time_range
from edits.operations import CAPTION_MAX

# action ids (every button has one, and a listener in bot/listeners/actions.py)
SHARE = "share"
EDIT_IN_WEB = "edit_in_web"
EDIT_CAPTION = "edit_caption"
EXPORT_CLIP = "export_clip"
MORE_RESULTS = "more_results"
EXPORT_HIGHLIGHT = "export_highlight"
# the caption modal
CAPTION_MODAL = "edit_caption_modal"
CAPTION_BLOCK = "caption_block"
CAPTION_INPUT = "caption_input"

SECTION_TEXT_MAX = 2900      # Slack allows 3000 characters in a section's text
CAPTION_SHOW = 300           # a caption longer than this is cut (EILEV sometimes swallows scraped page text)
BAND_ICONS = {"high": "🟢", "medium": "🟡", "low": "⚪"}
NO_MATCH_TEXT = "⚪ 가까운 장면을 찾지 못했어요. 가장 비슷한 장면: (No close match; nearest moments:)"
WEAKER_TEXT = "⚪ 약한 결과: 찾는 장면이 아닐 수 있어요 (weaker matches)"
BUTTON_VALUE_MAX = 2000      # Slack's limit for a button value
QUERY_IN_VALUE_MAX = 500
PLAIN_INPUT_MAX = CAPTION_MAX      # the caption modal's input: the editing rules' limit


def escape(text) -> str:
    """Text for mrkdwn: &, < and > escaped as Slack documents (no links, mentions or markup injection)."""
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip_text(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_public_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("http://", "https://"))


def link(url: str | None, label: str) -> str:
    """A mrkdwn link when the URL is absolute, else the (escaped) label alone."""
    if is_public_url(url):
        return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{escape(label)}>"
    return escape(label)


def encode_value(data: dict) -> str:
    value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(value) > BUTTON_VALUE_MAX:
        raise ValueError(f"button value too long ({len(value)} characters)")
    return value


def decode_value(value: str | None) -> dict | None:
    """The dict a button carries, or None when it is missing or malformed."""
    try:
        data = json.loads(value or "")
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _button(text: str, action_id: str, value: str | None = None, url: str | None = None,
            style: str | None = None) -> dict:
    b = {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text, "emoji": True}}
    if value is not None:
        b["value"] = value
    if url:
        b["url"] = url
    if style:
        b["style"] = style
    return b


def marked(snippet: dict) -> str:
    """A search snippet for mrkdwn: escaped, the matched words in bold."""
    text, pos, parts = snippet["text"], 0, []
    for start, end in snippet["marks"]:
        parts += [escape(text[pos:start]), f"*{escape(text[start:end])}*"]
        pos = end
    return "".join(parts) + escape(text[pos:])


def _caption_lines(result: SegmentRecord) -> list[str]:
    """The Korean caption first (the team reads Korean), then the English caption or the matched text, cut to a
    readable length with the query's words in bold; the full text is one click away (Edit in Web)."""
    snippet = result.get("snippet") or {}
    korean = marked(snippet) if snippet.get("field") == "Korean caption" else \
        escape(clip_text(result["caption_ko"], CAPTION_SHOW)) if result.get("caption_ko") else None
    if snippet.get("text") and snippet.get("field") != "Korean caption":
        other = ("💬 " if snippet["field"] == "transcript" else "") + marked(snippet)
    else:
        other = escape(clip_text(result.get("caption") or "", CAPTION_SHOW)) or None
    lines = [korean] if korean else []
    if other and other != korean:
        lines.append(f"_{other}_" if korean else other)
    return lines


def result_text(result: SegmentRecord, moment_url: str | None) -> str:
    """Title, time range (a link to the moment when it can be opened) and how sure search is, captions,
    members, and why search found it."""
    title = escape(result.get("video_title") or result.get("video_id"))
    when = "⏱ " + link(moment_url, time_range(result["start"], result["end"]))
    if result.get("confidence"):
        label = result.get("confidence_label") or result["confidence"]
        when += f"   {BAND_ICONS[result['confidence']]} {escape(label)}"
    lines = [f"*{title}*", when, *_caption_lines(result)]
    members = result.get("members") or []
    lines.append("👥 " + (escape(", ".join(members)) if members else "멤버 정보 없음"))
    if result.get("why"):
        lines.append("↳ " + escape(" · ".join(result["why"])))
    return clip_text("\n".join(lines), SECTION_TEXT_MAX)


def _image(result: SegmentRecord) -> list[dict]:
    url = result.get("thumbnail_url")
    if not is_public_url(url):
        return []
    alt = f"{result.get('video_title') or result.get('video_id')} {time_range(result['start'], result['end'])}"
    return [{"type": "image", "image_url": url, "alt_text": clip_text(alt, 1900)}]


def result_blocks(result: SegmentRecord, edit_url: str | None) -> list[dict]:
    """One search result: thumbnail, text, and its buttons (Share, Edit in Web, Edit caption, Export clip)."""
    seg = {"s": result["segment_id"], "v": result["video_id"]}
    value = encode_value(seg)
    # a URL button opens the link in the browser; "u" tells its listener there is nothing more to do
    web = (_button("웹에서 편집 (Edit in Web)", EDIT_IN_WEB, encode_value({**seg, "u": 1}), url=edit_url)
           if is_public_url(edit_url) else _button("웹에서 편집 (Edit in Web)", EDIT_IN_WEB, value))
    return [
        *_image(result),
        {"type": "section", "text": {"type": "mrkdwn", "text": result_text(result, edit_url)}},
        {"type": "actions", "block_id": f"result_{result['segment_id']}", "elements": [
            _button("채널에 공유 (Share)", SHARE, value, style="primary"),
            web,
            _button("캡션 수정 (Edit caption)", EDIT_CAPTION, value),
            _button("클립 내보내기 (Export clip)", EXPORT_CLIP, value),
        ]},
        {"type": "divider"},
    ]


def summary_line(data: dict, offset: int) -> str:
    query = escape(clip_text(data.get("query") or "", 200))
    n = len(data.get("results") or [])
    first = offset + 1
    line = f"🔎 *‘{query}’* 검색 결과 {first}–{offset + n}번째"
    if data.get("next_offset") is not None:
        line += " (더 있음)"
    summary = data.get("summary")
    if summary:
        line += "\n" + escape(clip_text(summary, 1000))
    return line


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_text(text, 1900)}]}


def _notice(data: dict) -> list[dict]:
    notices = data.get("notices") if "notices" in data else [data["notice"]] if data.get("notice") else []
    if not notices:
        return []
    return [_context("ℹ️ " + escape(" ".join(notices)))]


def _filters(data: dict) -> list[dict]:
    names = data.get("members") or []
    if not names:
        return []
    who = escape(", ".join(names))
    return [_context(f"👥 {who} 님이 나오는 장면만 보여요 (filtered to {who})")]


def search_message(data: dict, edit_urls: dict[int, str | None], offset: int = 0, filters: dict | None = None) -> dict:
    """The ephemeral answer to /search: summary line, the results, a More results button when there are more.

    ``data`` is what search.service.search_segments returns; ``edit_urls`` maps segment id -> signed editor link
    for the Slack user who asked. Returns ``{"text": fallback, "blocks": [...]}``.
    """
    results = data.get("results") or []
    if not results:
        return no_results_message(data)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": summary_line(data, offset)}}, *_notice(data),
              *_filters(data)]
    strong = [r for r in results if r.get("confidence") != "low"]
    weak = [r for r in results if r.get("confidence") == "low"]
    for r in strong:
        blocks.extend(result_blocks(r, edit_urls.get(r["segment_id"])))
    if weak:
        blocks.append(_context(NO_MATCH_TEXT if data.get("no_match") else WEAKER_TEXT))
    for r in weak:
        blocks.extend(result_blocks(r, edit_urls.get(r["segment_id"])))
    if data.get("next_offset") is not None:
        more = {"q": clip_text(data.get("query") or "", QUERY_IN_VALUE_MAX), "o": int(data["next_offset"])}
        more.update({k: v for k, v in (filters or {}).items() if v})
        blocks.append({"type": "actions", "block_id": "more", "elements": [
            _button("결과 더 보기 (More results)", MORE_RESULTS, encode_value(more))]})
    text = f"‘{escape(clip_text(data.get('query') or '', 200))}’ 검색 결과 {len(results)}건"
    return {"text": text, "blocks": blocks}


def no_results_message(data: dict) -> dict:
    query = escape(clip_text(data.get("query") or "", 200))
    text = (f"‘{query}’에 맞는 장면을 찾지 못했어요. 다른 표현이나 멤버 이름으로 다시 검색해 보세요.\n"
            "No moments matched. Try other words, a member's name, or fewer words "
            "(e.g. `/search 무대에서 춤추는 장면`).")
    return {"text": f"‘{query}’ 검색 결과가 없어요",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}, *_notice(data)]}


def usage_text(command: str) -> str:
    return (f"사용법: `{command} <검색어>` — 영상에서 장면을 찾아요. 예: `{command} 무대에서 춤추는 지수`\n"
            f"Usage: `{command} <what happens>`, e.g. `{command} girl dancing on stage`. "
            "Member names and aliases work too.")


def shared_message(result: SegmentRecord, user_id: str) -> dict:
    """A result posted to the channel for everyone (no personal links: Edit in Web signs one per clicker)."""
    value = encode_value({"s": result["segment_id"], "v": result["video_id"]})
    blocks = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<@{escape(user_id)}> 님이 장면을 공유했어요"}]},
        *_image(result),
        {"type": "section", "text": {"type": "mrkdwn", "text": result_text(result, None)}},
        {"type": "actions", "block_id": f"shared_{result['segment_id']}", "elements": [
            _button("웹에서 편집 (Edit in Web)", EDIT_IN_WEB, value),
            _button("클립 내보내기 (Export clip)", EXPORT_CLIP, value)]},
    ]
    title = result.get("video_title") or result.get("video_id")
    return {"text": f"{escape(title)} {time_range(result['start'], result['end'])}", "blocks": blocks}


def caption_modal(segment: EditableSegment, metadata: dict) -> dict:
    """The Edit caption modal for one segment; ``metadata`` (segment id, version, channel) rides along."""
    current = segment.get("caption_edited") or segment.get("caption_auto") or ""
    context = (f"*{escape(segment.get('video_title') or segment['video_id'])}* "
               f"⏱ {time_range(segment['start'], segment['end'])}")
    if segment.get("caption_ko"):
        context += "\n" + escape(clip_text(segment["caption_ko"], 1000))
    element = {"type": "plain_text_input", "action_id": CAPTION_INPUT, "multiline": True, "max_length": PLAIN_INPUT_MAX}
    if current:
        element["initial_value"] = clip_text(current, PLAIN_INPUT_MAX)
    return {
        "type": "modal", "callback_id": CAPTION_MODAL,
        "title": {"type": "plain_text", "text": "캡션 수정"},
        "submit": {"type": "plain_text", "text": "저장"},
        "close": {"type": "plain_text", "text": "취소"},
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": context}},
            {"type": "input", "block_id": CAPTION_BLOCK, "label": {"type": "plain_text", "text": "캡션 (Caption)"},
             "element": element,
             "hint": {"type": "plain_text", "text": "저장하면 기록이 남고 검색에 바로 반영돼요."}},
        ],
    }


# ---------------------------------------------------------------- /highlights
def highlights_usage(command: str) -> str:
    return (f"사용법: `{command} <영상 제목 또는 id> [멤버]` — 영상의 베스트 장면을 찾아요. "
            f"예: `{command} 쇼케이스 해린`\n"
            f"Usage: `{command} <video title or id> [member]`, e.g. `{command} showcase Haerin`.")


def highlight_blocks(video: dict, h: dict, edit_url: str | None, thumbnail_url: str | None) -> list[dict]:
    """One highlight: its thumbnail, rank, times (a link to the moment), reasons; Export and Edit buttons."""
    when = link(edit_url, time_range(h["start"], h["end"]))
    lines = [f"*★{h['rank']}*  ⏱ {when}", *("• " + escape(clip_text(r, 300)) for r in h["reasons"])]
    value = encode_value({"v": video["video_id"], "a": h["start"], "b": h["end"]})
    seg = {"s": h["segment_id"], "v": video["video_id"]} if h.get("segment_id") else None
    buttons = [_button("클립 내보내기 (Export)", EXPORT_HIGHLIGHT, value, style="primary")]
    if seg:
        buttons.append(_button("웹에서 편집 (Edit)", EDIT_IN_WEB, encode_value({**seg, "u": 1}), url=edit_url)
                       if is_public_url(edit_url) else _button("웹에서 편집 (Edit)", EDIT_IN_WEB, encode_value(seg)))
    out = [{"type": "section", "text": {"type": "mrkdwn", "text": clip_text("\n".join(lines), SECTION_TEXT_MAX)}}]
    if is_public_url(thumbnail_url):
        out[0]["accessory"] = {"type": "image", "image_url": thumbnail_url,
                               "alt_text": clip_text(f"{video['title']} {time_range(h['start'], h['end'])}", 1900)}
    out += [{"type": "actions", "block_id": f"highlight_{h['rank']}", "elements": buttons}, {"type": "divider"}]
    return out


def highlights_message(data: dict, edit_urls: dict[int, str | None], thumbnail_urls: dict[int, str | None]) -> dict:
    """The answer to /highlights: the video, how the moments were found, each highlight with its buttons.
    ``data`` is what search.highlights.highlights returns; the url maps are keyed by rank."""
    title = escape(data["title"])
    who = f" — {escape(data['member'])}" if data.get("member") else ""
    methods = data["methods"]
    how = " + ".join(x for x in (f"💬 {methods['comments']}" if methods.get("comments") else None,
                                 f"📝 {methods['summary']}") if x)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"🔥 *{title}*{who} 베스트 장면 (highlights)"}},
              _context(escape(how) + ("" if methods.get("comments") else
                                      "  ·  시청자 댓글 없음 (no viewer comments: `python -m indexer comments`)")),
              *_notice(data)]
    if not data["highlights"]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text":
                       "장면을 찾지 못했어요 (no highlights found" + (f" with {escape(data['member'])} on screen)"
                                                                  if data.get("member") else ")")}})
    for h in data["highlights"]:
        blocks.extend(highlight_blocks(data, h, edit_urls.get(h["rank"]), thumbnail_urls.get(h["rank"])))
    return {"text": f"{escape(data['title'])} 베스트 장면 {len(data['highlights'])}개", "blocks": blocks}

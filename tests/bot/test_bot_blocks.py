"""Block builders: escaping, time formatting, links and images only with absolute URLs, limits."""
from __future__ import annotations

import json

from bot import blocks
from core.records import clock


def _result(**kw) -> dict:
    base = {"segment_id": 7, "video_id": "v1", "video_title": "T", "start": 65.2, "end": 3725.0,
            "caption": "a <b>bold</b> & claim", "caption_ko": None, "members": ["<@U1>"],
            "thumbnail_url": "/thumbnails/7.jpg", "edit_url": "/videos/v1?t=x"}
    base.update(kw)
    return base


def test_escape_and_times():
    assert blocks.escape("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
    assert clock(5.9) == "0:05" and clock(65.2) == "1:05" and clock(3725) == "1:02:05"
    assert blocks.time_range(65.2, 3725) == "1:05–1:02:05"


def test_relative_urls_give_no_image_no_link_and_a_plain_edit_button():
    msg = blocks.search_message({"query": "q", "results": [_result()], "next_offset": None},
                                {7: "/videos/v1?t=x"})
    assert not [b for b in msg["blocks"] if b["type"] == "image"]
    text = msg["blocks"][1]["text"]["text"]
    assert "⏱ 1:05–1:02:05" in text and "<" not in text.replace("&lt;", "")
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; claim" in text and "&lt;@U1&gt;" in text
    web = next(e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "edit_in_web")
    assert "url" not in web and json.loads(web["value"]) == {"s": 7, "v": "v1"}


def test_korean_caption_first_english_beside_and_notice():
    data = {"query": "춤", "results": [_result(caption_ko="춤추는 장면", caption="dancing",
                                              thumbnail_url="https://x.test/thumbnails/7.jpg")],
            "next_offset": 1, "summary": "요약 <b>", "notice": "Gemini is off"}
    msg = blocks.search_message(data, {7: "https://x.test/videos/v1?t=abc"}, filters={"m": "Jisoo", "vid": None})
    head = msg["blocks"][0]["text"]["text"]
    assert "*‘춤’* 검색 결과 1–1번째 (더 있음)" in head and "요약 &lt;b&gt;" in head
    assert msg["blocks"][1]["type"] == "context" and "Gemini is off" in msg["blocks"][1]["elements"][0]["text"]
    assert msg["blocks"][2] == {"type": "image", "image_url": "https://x.test/thumbnails/7.jpg",
                                "alt_text": "T 1:05–1:02:05"}
    text = msg["blocks"][3]["text"]["text"]
    assert text.index("춤추는 장면") < text.index("_dancing_")
    assert "<https://x.test/videos/v1?t=abc|1:05–1:02:05>" in text
    more = msg["blocks"][-1]["elements"][0]
    assert more["action_id"] == "more_results" and json.loads(more["value"]) == {"q": "춤", "o": 1, "m": "Jisoo"}


def test_page_of_ten_stays_within_slack_limits():
    results = [_result(segment_id=i, caption="x" * 5000, thumbnail_url=f"https://x.test/{i}.jpg") for i in range(10)]
    msg = blocks.search_message({"query": "q" * 2000, "results": results, "next_offset": 10}, {})
    assert len(msg["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in msg["blocks"] if b["type"] == "section")
    assert all(len(e.get("value", "")) <= 2000 for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"])


def test_decode_value_rejects_garbage():
    assert blocks.decode_value("not json") is None and blocks.decode_value("[1]") is None
    assert blocks.decode_value(None) is None and blocks.decode_value('{"s": 1}') == {"s": 1}


def test_results_explain_themselves_and_weaker_ones_come_last():
    strong = _result(segment_id=1, caption="The girl is eating a doughnut.", confidence="high",
                     confidence_label="strong match", why=["Danielle on screen (face 0.91)", "very close in meaning"],
                     snippet={"field": "caption", "text": "The girl is eating a doughnut.",
                              "marks": [[12, 18], [21, 29]], "cut": False}, members=["Danielle"])
    weak = _result(segment_id=2, caption="A group of people in a park.", confidence="low",
                   confidence_label="weak match", why=["loosely related in meaning"])
    msg = blocks.search_message({"query": "eating doughnuts", "results": [weak, strong], "next_offset": None,
                                 "members": ["Danielle"], "notices": []}, {})
    texts = [json.dumps(b, ensure_ascii=False) for b in msg["blocks"]]
    assert "filtered to Danielle" in texts[1]
    first = msg["blocks"][2]["text"]["text"]
    assert "🟢 strong match" in first and "The girl is *eating* a *doughnut*." in first
    assert "↳ Danielle on screen (face 0.91) · very close in meaning" in first
    weaker = next(i for i, t in enumerate(texts) if "weaker matches" in t)
    assert weaker > 2 and "⚪ weak match" in msg["blocks"][weaker + 1]["text"]["text"]
    alone = blocks.search_message({"query": "x", "results": [weak], "next_offset": None, "no_match": True}, {})
    assert "No close match; nearest moments:" in json.dumps(alone, ensure_ascii=False)


def test_a_moment_found_in_speech_shows_the_spoken_line():
    said = "ask what you can do for your country"
    result = _result(caption="", transcript=said,
                     snippet={"field": "transcript", "text": said, "marks": [[29, 36]], "cut": False})
    text = blocks.result_text(result, "https://x.test/videos/v1")
    assert "💬 ask what you can do for your *country*" in text

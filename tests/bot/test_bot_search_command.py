"""/search over real HTTP: ack at once, results through response_url as Block Kit, More results, usage, no results."""
from __future__ import annotations

import json
import time
import urllib.parse

from core.auth import verify_link_token
from tests.bot.conftest import PUBLIC_URL


def _buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def _sections(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_search_acks_at_once_then_responds_with_result_blocks(slack, library):
    started = time.perf_counter()
    r = slack.command("girl dancing on stage", user="U111")
    ack_s = time.perf_counter() - started
    assert r.status_code == 200
    assert "검색 중" in r.text and "girl dancing on stage" in r.text
    assert ack_s < 3.0

    reply = slack.mock.wait(lambda: slack.mock.responses("r1"), what="the search results")[0]
    assert reply["response_type"] == "ephemeral"
    blocks = reply["blocks"]
    assert "검색 결과" in blocks[0]["text"]["text"] and "girl dancing on stage" in blocks[0]["text"]["text"]
    assert reply["text"]

    texts = _sections(blocks)
    concert = next(t for t in texts if "Concert" in t)
    assert "*Concert &lt;Live&gt; &amp; Talk*" in concert                    # title, escaped for mrkdwn
    assert "조명 아래 무대에서 춤추는 소녀" in concert                          # Korean caption
    assert "Jisoo" in concert                                                # members
    assert f"<{PUBLIC_URL}/videos/v1?" in concert and "|0:01–0:03>" in concert  # time range opens the moment

    buttons = _buttons(blocks)
    page_ids = {json.loads(b["value"])["s"] for b in buttons if b["action_id"] == "share"}
    assert library["s1"] in page_ids and len(page_ids) == 2
    images = [b["image_url"] for b in blocks if b["type"] == "image"]
    assert sorted(images) == sorted(f"{PUBLIC_URL}/thumbnails/{sid}.jpg" for sid in page_ids if sid != library["s3"])
    ids = [b["action_id"] for b in buttons]
    assert ids.count("share") == 2 and ids.count("edit_in_web") == 2 and ids.count("edit_caption") == 2
    assert ids.count("export_clip") == 2 and ids.count("more_results") == 1        # page size 2 of 3 results
    for web in (b for b in buttons if b["action_id"] == "edit_in_web"):
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(web["url"]).query)["t"][0]
        principal = verify_link_token(slack.config, token)
        assert principal is not None and principal.actor == "slack:U111"
        assert web["url"].startswith(f"{PUBLIC_URL}/videos/{json.loads(web['value'])['v']}?")   # the result's video
    assert not slack.mock.of("chat.postMessage")                             # nothing public


def test_more_results_replaces_the_message_with_the_next_page(slack, library):
    slack.command("girl dancing on stage")
    first = slack.mock.wait(lambda: slack.mock.responses("r1"))[0]
    more = next(b for b in _buttons(first["blocks"]) if b["action_id"] == "more_results")
    assert json.loads(more["value"])["o"] == 2

    r = slack.block_action({"action_id": "more_results", "type": "button", "value": more["value"],
                            "text": {"type": "plain_text", "text": "More"}}, response="r2")
    assert r.status_code == 200
    page2 = slack.mock.wait(lambda: slack.mock.responses("r2"), what="page 2")[0]
    assert page2["replace_original"] is True and page2["response_type"] == "ephemeral"
    first_ids = {json.loads(b["value"])["s"] for b in _buttons(first["blocks"]) if b["action_id"] == "share"}
    second_ids = {json.loads(b["value"])["s"] for b in _buttons(page2["blocks"]) if b["action_id"] == "share"}
    assert len(second_ids) == 1 and not (first_ids & second_ids)
    assert first_ids | second_ids == set(library.values())
    assert "검색 결과 3–3번째" in page2["blocks"][0]["text"]["text"]
    assert not any(b["action_id"] == "more_results" for b in _buttons(page2["blocks"]))


def test_empty_query_answers_usage_in_the_ack(slack, library):
    r = slack.command("   ")
    assert r.status_code == 200
    assert "사용법" in r.text and "/search <검색어>" in r.text
    time.sleep(0.5)
    assert slack.mock.responses("r1") == []


def test_no_results_is_a_helpful_message(slack):
    slack.command("dog on the beach")
    reply = slack.mock.wait(lambda: slack.mock.responses("r1"))[0]
    assert reply["blocks"], "a message, not an empty block list"
    text = " ".join(_sections(reply["blocks"]))
    assert "찾지 못했어요" in text and "No moments matched" in text
    assert not _buttons(reply["blocks"])


def test_custom_command_name(app_factory, serve, slack_config, mock_slack, library):
    from tests.bot.conftest import SlackSender

    cfg = slack_config(slack={"command": "/clipfind"})
    sender = SlackSender(serve(app_factory(cfg)), mock_slack, "/clipfind")
    assert sender.command("dog").status_code == 200
    assert mock_slack.wait(lambda: mock_slack.responses("r1"))[0]["blocks"]
    wrong = SlackSender(sender.url.rsplit("/slack/events", 1)[0], mock_slack, "/search")
    assert wrong.command("dog", response="r9").status_code == 404             # Bolt: no listener for it

"""/highlights over real HTTP: a video by title (and a member), answered with Block Kit highlights whose Export
button cuts the span and uploads it."""
from __future__ import annotations

import json
import urllib.parse

from core.auth import verify_link_token
from indexer.comments import import_comments_file
from tests.bot.conftest import PUBLIC_URL, SlackSender


def _highlights_sender(slack) -> SlackSender:
    sender = SlackSender(slack.url.rsplit("/slack/events", 1)[0], slack.mock, "/highlights")
    sender.config = slack.config
    return sender


def _comments(db, tmp_path, video_id: str, text: str) -> None:
    path = tmp_path / f"{video_id}.txt"
    path.write_text(text, encoding="utf-8")
    import_comments_file(db, video_id, path)


def test_highlights_of_a_video_by_title_with_export_and_edit_buttons(slack, library, db, tmp_path):
    _comments(db, tmp_path, "v1", "0:02 최고의 장면\n0:02 legend\n0:03 lol\n")
    sender = _highlights_sender(slack)
    r = sender.command("concert jisoo", user="U222")             # part of a title, then a member
    assert r.status_code == 200 and "베스트 장면을 찾는 중" in r.text
    reply = slack.mock.wait(lambda: slack.mock.responses("r1"), timeout=30, what="the highlights")[0]
    assert reply["response_type"] == "ephemeral"
    blocks = reply["blocks"]
    assert "Concert &lt;Live&gt; &amp; Talk" in blocks[0]["text"]["text"] and "Jisoo" in blocks[0]["text"]["text"]
    first = next(b for b in blocks if b["type"] == "section" and "★1" in b["text"]["text"])
    assert "3 comments at 0:02" in first["text"]["text"] and "Jisoo on screen" in first["text"]["text"]
    assert first["accessory"]["image_url"] == f"{PUBLIC_URL}/thumbnails/{library['s1']}.jpg"
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    export = next(b for b in buttons if b["action_id"] == "export_highlight")
    assert json.loads(export["value"]) == {"v": "v1", "a": 0.0, "b": 4.0}   # ± 10 s, inside the 4 s video
    edit = next(b for b in buttons if b["action_id"] == "edit_in_web")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(edit["url"]).query)["t"][0]
    assert verify_link_token(slack.config, token).actor == "slack:U222"

    slack.block_action({"action_id": "export_highlight", "type": "button", "value": export["value"],
                        "text": {"type": "plain_text", "text": "Export"}})
    done = slack.mock.wait(lambda: slack.mock.of("files.completeUploadExternal"), timeout=60, what="the upload")[0]
    files = done["data"]["files"]
    files = json.loads(files) if isinstance(files, str) else files
    assert files[0]["title"] == "Concert <Live> & Talk 0:00–0:04"


def test_highlights_usage_unknown_and_ambiguous_videos(slack, library):
    sender = _highlights_sender(slack)
    r = sender.command("")
    assert "사용법" in r.text and "/highlights <video title or id> [member]" in r.text
    sender.command("no such show", response="r1")
    reply = slack.mock.wait(lambda: slack.mock.responses("r1"), timeout=30)[0]
    assert "no video with that title or id" in reply["text"]
    slack.mock.calls.clear()
    sender.command("a", response="r1")                          # "a" is in two titles: Beach Day, Talk
    reply = slack.mock.wait(lambda: slack.mock.responses("r1"), timeout=30)[0]
    assert "several videos match" in reply["text"] and "`v1`" in reply["text"] and "`v2`" in reply["text"]


def test_a_forged_export_value_changes_nothing(slack, library, data_dir):
    slack.block_action({"action_id": "export_highlight", "type": "button", "value": json.dumps({"v": "v1", "a": 0,
                                                                                                  "b": 999}),
                        "text": {"type": "plain_text", "text": "Export"}})
    reply = slack.mock.wait(lambda: [r for r in slack.mock.responses("r2") if "클립을 만들 수 없어요" in r["text"]],
                            timeout=30)[0]
    assert "not a span of this video" in reply["text"]
    assert not slack.mock.of("files.getUploadURLExternal")

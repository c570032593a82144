"""Buttons over real HTTP: Share to channel, Edit in Web, Export clip (moviepy + files_upload_v2), unknown ids."""
from __future__ import annotations

import json
import time
import urllib.parse

from core.auth import verify_link_token
from tests.bot.conftest import BOT_TOKEN, PUBLIC_URL


def _value(segment_id: int, video_id: str) -> str:
    return json.dumps({"s": segment_id, "v": video_id})


def _button(action_id: str, value: str, **extra) -> dict:
    return {"action_id": action_id, "type": "button", "value": value,
            "text": {"type": "plain_text", "text": action_id}, **extra}


def _segment_row(db, segment_id: int) -> dict:
    with db.connection() as conn:
        return conn.execute("SELECT caption_edited, version, search_text FROM segments WHERE id = %s",
                            (segment_id,)).fetchone()


def test_share_posts_the_moment_in_the_channel(slack, library):
    r = slack.block_action(_button("share", _value(library["s2"], "v2")))
    assert r.status_code == 200
    post = slack.mock.wait(lambda: slack.mock.of("chat.postMessage"), what="chat.postMessage")[0]
    assert post["auth"] == f"Bearer {BOT_TOKEN}"
    data = post["data"]
    assert data["channel"] == "C123"
    dumped = json.dumps(data["blocks"], ensure_ascii=False)
    assert "Beach Day" in dumped and "해변을 달리는 강아지" in dumped and "Lisa, Rose" in dumped
    assert "0:00–0:02" in dumped and "<@U111>" in dumped
    assert {"type": "image", "image_url": f"{PUBLIC_URL}/thumbnails/{library['s2']}.jpg",
            "alt_text": "Beach Day 0:00–0:02"} in data["blocks"]
    assert "t=" not in dumped, "no personal signed link in a message everyone sees"
    assert [e["action_id"] for e in data["blocks"][-1]["elements"]] == ["edit_in_web", "export_clip"]
    assert slack.mock.responses("r2") == []


def test_share_reports_when_the_bot_is_not_in_the_channel(slack, library):
    slack.mock.fail_methods.add("chat.postMessage")
    slack.block_action(_button("share", _value(library["s1"], "v1")))
    reply = slack.mock.wait(lambda: slack.mock.responses("r2"))[0]
    assert reply["response_type"] == "ephemeral" and "/invite" in reply["text"]


def test_edit_in_web_url_button_is_only_acknowledged(slack, library):
    value = json.dumps({"s": library["s1"], "v": "v1", "u": 1})
    r = slack.block_action(_button("edit_in_web", value, url=f"{PUBLIC_URL}/videos/v1?t=x"))
    assert r.status_code == 200
    time.sleep(0.5)
    assert slack.mock.calls == []


def test_edit_in_web_on_a_shared_message_signs_a_link_for_the_clicker(slack, library):
    r = slack.block_action(_button("edit_in_web", _value(library["s1"], "v1")), user="U222")
    assert r.status_code == 200
    reply = slack.mock.wait(lambda: slack.mock.responses("r2"))[0]
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    url = reply["text"].split("<", 1)[1].split("|", 1)[0]
    assert url.startswith(f"{PUBLIC_URL}/videos/v1?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["segment"] == [str(library["s1"])]
    principal = verify_link_token(slack.config, query["t"][0])
    assert principal.actor == "slack:U222"          # the link's video is its path (asserted above)


def test_export_clip_cuts_the_segment_and_uploads_it(slack, library, data_dir):
    r = slack.block_action(_button("export_clip", _value(library["s1"], "v1")))
    assert r.status_code == 200
    done = slack.mock.wait(lambda: slack.mock.of("files.completeUploadExternal"), timeout=60, what="the upload")[0]
    assert done["data"]["channel_id"] == "C123"
    files = done["data"]["files"]
    files = json.loads(files) if isinstance(files, str) else files
    assert files[0]["id"] == "F123" and "Concert <Live> & Talk 0:01–0:03" == files[0]["title"]
    ticket = slack.mock.of("F123")[0]["data"]["bytes"]
    assert ticket[4:8] == b"ftyp"                                  # an MP4 was uploaded
    clips = list((data_dir / "clips").glob("*.mp4"))
    assert len(clips) == 1 and clips[0].read_bytes() == ticket
    from moviepy import VideoFileClip

    with VideoFileClip(str(clips[0])) as clip:
        assert abs(clip.duration - 2.0) < 0.15
    assert slack.mock.of("files.getUploadURLExternal")[0]["auth"] == f"Bearer {BOT_TOKEN}"
    assert "클립을 만드는 중" in slack.mock.responses("r2")[0]["text"]


def test_export_clip_without_a_video_file_explains(slack, library, data_dir):
    slack.block_action(_button("export_clip", _value(library["s3"], "v3")))
    reply = slack.mock.wait(lambda: slack.mock.responses("r2"))[0]
    assert "no file recorded" in reply["text"] and reply["response_type"] == "ephemeral"
    assert not slack.mock.of("files.getUploadURLExternal")
    assert not (data_dir / "clips").exists()


def test_unknown_action_is_acknowledged_and_changes_nothing(slack, library, db):
    before = _segment_row(db, library["s1"])
    r = slack.block_action(_button("delete_everything", _value(library["s1"], "v1")))
    assert r.status_code == 200
    r = slack.block_action(_button("share", "not json at all"))
    assert r.status_code == 200
    stale = slack.mock.wait(lambda: slack.mock.responses("r2"))[0]
    assert "out of date" in stale["text"]
    time.sleep(0.3)
    assert [c["path"] for c in slack.mock.calls] == ["/response/r2"]
    assert _segment_row(db, library["s1"]) == before


def test_edit_in_web_link_opens_the_editor_for_that_user_only(app_factory, serve, slack_config, mock_slack, library):
    """With auth.token set, the signed link from the results opens the editor page; the bare page does not."""
    import httpx

    from tests.bot.conftest import SlackSender

    cfg = slack_config(auth={"token": "server-token-0123456789"})
    base = serve(app_factory(cfg))
    sender = SlackSender(base, mock_slack)
    sender.command("girl dancing on stage", user="U333")
    reply = mock_slack.wait(lambda: mock_slack.responses("r1"))[0]
    web = next(e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "edit_in_web" and json.loads(e["value"])["s"] == library["s1"])
    local = web["url"].replace(PUBLIC_URL, base)
    with httpx.Client(timeout=20, follow_redirects=True) as browser:   # the editor trades the link for a session
        page = browser.get(local)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert page.history and "t" not in urllib.parse.parse_qs(page.url.query.decode())
    bare = httpx.get(local.split("?")[0], timeout=20, follow_redirects=False)
    assert bare.status_code in (302, 303, 307, 401)

"""Edit caption over real HTTP: the button opens a modal (views.open), the submission saves through the editor
(history row with the Slack user as actor, re-embedded), a stale modal is refused with a field error."""
from __future__ import annotations

import json


def _open_modal(slack, segment_id: int, video_id: str) -> dict:
    r = slack.block_action({"action_id": "edit_caption", "type": "button",
                            "value": json.dumps({"s": segment_id, "v": video_id}),
                            "text": {"type": "plain_text", "text": "Edit caption"}})
    assert r.status_code == 200
    call = slack.mock.wait(lambda: slack.mock.of("views.open"), what="views.open")[-1]
    assert call["data"]["trigger_id"] == "1337.42.trig"
    view = call["data"]["view"]
    return json.loads(view) if isinstance(view, str) else view


def _values(text: str) -> dict:
    return {"caption_block": {"caption_input": {"type": "plain_text_input", "value": text}}}


def _state(db, segment_id: int) -> dict:
    with db.connection() as conn:
        seg = conn.execute("SELECT caption_edited, version, search_text, embedding::text AS emb FROM segments "
                           "WHERE id = %s", (segment_id,)).fetchone()
        history = conn.execute("SELECT operation, actor, before, after FROM segment_history "
                               "WHERE %s = ANY(segment_ids) ORDER BY id", (segment_id,)).fetchall()
    return {**seg, "history": history}


def test_edit_caption_modal_saves_with_history_and_reembeds(slack, library, db):
    sid = library["s1"]
    view = _open_modal(slack, sid, "v1")
    assert view["type"] == "modal" and view["callback_id"] == "edit_caption_modal"
    meta = json.loads(view["private_metadata"])
    assert meta == {"s": sid, "ver": 1, "c": "C123"}
    field = view["blocks"][1]
    assert field["block_id"] == "caption_block"
    assert field["element"]["initial_value"] == "girl dancing on stage with lights"
    before = _state(db, sid)

    r = slack.view_submission(view, _values("woman singing a song at night concert"), user="U777")
    assert r.status_code == 200
    assert r.text == "" or "errors" not in r.text
    after = _state(db, sid)
    assert after["caption_edited"] == "woman singing a song at night concert"
    assert after["version"] == 2
    assert "woman singing a song at night concert" in after["search_text"]
    assert after["emb"] != before["emb"], "re-embedded with the new caption"
    assert [(h["operation"], h["actor"]) for h in after["history"]] == [("update", "slack:U777")]
    confirm = slack.mock.wait(lambda: slack.mock.of("chat.postEphemeral"))[0]["data"]
    assert confirm["channel"] == "C123" and confirm["user"] == "U777" and "version 2" in confirm["text"]

    # the same (now stale) modal again: refused in the modal, nothing changes
    r = slack.view_submission(view, _values("something else entirely"), user="U777")
    assert r.status_code == 200
    answer = r.json()
    assert answer["response_action"] == "errors" and "caption_block" in answer["errors"]
    assert _state(db, sid) == after


def test_blank_caption_is_refused_in_the_modal(slack, library, db):
    view = _open_modal(slack, library["s2"], "v2")
    before = _state(db, library["s2"])
    r = slack.view_submission(view, _values("   "))
    assert r.json()["response_action"] == "errors"
    assert _state(db, library["s2"]) == before


def test_modal_for_a_deleted_segment_says_so(slack, library, db):
    with db.connection() as conn:
        conn.execute("DELETE FROM segments WHERE id = %s", (library["s3"],))
    r = slack.block_action({"action_id": "edit_caption", "type": "button",
                            "value": json.dumps({"s": library["s3"], "v": "v3"}),
                            "text": {"type": "plain_text", "text": "Edit caption"}})
    assert r.status_code == 200
    reply = slack.mock.wait(lambda: slack.mock.responses("r2"))[0]
    assert "does not exist" in reply["text"]
    assert not slack.mock.of("views.open")

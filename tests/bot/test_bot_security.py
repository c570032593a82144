"""Signatures and timestamps are checked (Bolt): a wrong or stale signature gets 401 and changes nothing.
Without Slack configuration the app still starts, serves the editor, and says so."""
from __future__ import annotations

import json
import logging
import time

import httpx

from tests.bot.conftest import SIGNING_SECRET


def _state(db, segment_id: int):
    with db.connection() as conn:
        seg = conn.execute("SELECT caption_edited, version FROM segments WHERE id = %s", (segment_id,)).fetchone()
        n = conn.execute("SELECT count(*) AS n FROM segment_history").fetchone()["n"]
    return seg, n


def test_wrong_or_stale_signatures_get_401_and_change_nothing(slack, library, db):
    before = _state(db, library["s1"])
    stale = int(time.time()) - 600
    attempts = [
        slack.command("dog", secret="not-the-secret"),
        slack.command("dog", ts=stale),
        slack.block_action({"action_id": "share", "type": "button",
                            "value": json.dumps({"s": library["s1"], "v": "v1"})}, secret="wrong"),
        slack.view_submission({"type": "modal", "callback_id": "edit_caption_modal",
                               "private_metadata": json.dumps({"s": library["s1"], "ver": 1, "c": "C123"})},
                              {"caption_block": {"caption_input": {"type": "plain_text_input", "value": "hacked"}}},
                              ts=stale),
    ]
    assert [r.status_code for r in attempts] == [401, 401, 401, 401]
    unsigned = httpx.post(slack.url, content="command=%2Fsearch&text=dog", timeout=10,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401
    time.sleep(0.5)
    assert slack.mock.calls == []
    assert _state(db, library["s1"]) == before


def test_a_correct_signature_is_accepted(slack, library):
    assert slack.command("dog", secret=SIGNING_SECRET).status_code == 200


def test_without_slack_config_the_app_serves_the_editor_and_logs_it(app_factory, serve, make_config, caplog):
    with caplog.at_level(logging.INFO, logger="bot.slack"):
        base = serve(app_factory(make_config()))
    assert any("Slack is not configured" in r.getMessage() for r in caplog.records)
    assert httpx.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
    r = httpx.post(f"{base}/slack/events", content="x=1", timeout=10)
    assert r.status_code == 503 and "slack.signing_secret" in r.json()["error"]


def test_malformed_unsigned_bodies_get_401_not_500_and_the_connection_stays_usable(slack):
    with httpx.Client(timeout=10) as client:                      # one keep-alive connection for all of them
        for body, headers in [("payload=x", {}), ("{", {"Content-Type": "application/json"}),
                              ("command=%2Fsearch&text=x", {"X-Slack-Request-Timestamp": "abc",
                                                            "X-Slack-Signature": "v0=00"})]:
            headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
            assert client.post(slack.url, content=body, headers=headers).status_code == 401, body
        ok = client.post(slack.url, content=(body := "command=%2Fsearch&text=dog"), headers=_signed_form(body))
        assert ok.status_code == 200


def test_a_signed_but_malformed_body_gets_400(slack):
    assert httpx.post(slack.url, content="payload=x", headers=_signed_form("payload=x"), timeout=10).status_code == 400


def _signed_form(body: str) -> dict:
    from tests.bot.conftest import sign

    return {**sign(body), "Content-Type": "application/x-www-form-urlencoded"}

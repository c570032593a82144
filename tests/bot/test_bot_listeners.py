"""Each Slack listener on its own: called as Bolt calls it, with a mock ack / respond / client and the app's
context in Bolt's context (the over-HTTP tests beside this file check the wiring and the signatures)."""
from __future__ import annotations

import asyncio
import json
import urllib.parse
from unittest.mock import AsyncMock

import pytest

from bot.listeners import actions, commands, views
from bot.listeners.context import CONTEXT_KEY
from core.auth import verify_link_token
from core.context import AppContext
from tests.bot.conftest import PUBLIC_URL


@pytest.fixture
def context(slack_config, db, tiny_embedder):
    return {CONTEXT_KEY: AppContext(config=slack_config(), db=db, embedder=tiny_embedder)}


def _click(value: dict | None, user: str = "U9") -> dict:
    action = {"action_id": "x", "type": "button"}
    if value is not None:
        action["value"] = json.dumps(value)
    return {"user": {"id": user}, "channel": {"id": "C1"}, "trigger_id": "t.1", "actions": [action]}


def _modal(segment_id: int, version: int, caption: str) -> dict:
    return {"private_metadata": json.dumps({"s": segment_id, "ver": version, "c": "C1"}),
            "state": {"values": {"caption_block": {"caption_input": {"value": caption}}}}}


def test_an_empty_command_is_answered_with_the_usage(context):
    ack = AsyncMock()
    asyncio.run(commands.ack_search(ack=ack, command={"text": "  ", "command": "/find"}, context=context))
    assert "/find" in ack.call_args.kwargs["text"] and "Usage" in ack.call_args.kwargs["text"]


def test_edit_in_web_signs_a_link_for_whoever_clicked(context, library):
    respond = AsyncMock()
    asyncio.run(actions.edit_in_web(context=context, body=_click({"s": library["s1"], "v": "v1"}), respond=respond))
    text = respond.call_args.kwargs["text"]
    url = text.split("<", 1)[1].split("|", 1)[0]
    assert url.startswith(f"{PUBLIC_URL}/videos/v1?")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["t"][0]
    assert verify_link_token(context[CONTEXT_KEY].config, token).actor == "slack:U9"


def test_a_url_button_needs_nothing_more_than_the_ack(context, library):
    respond = AsyncMock()
    asyncio.run(actions.edit_in_web(context=context, body=_click({"s": library["s1"], "v": "v1", "u": 1}),
                                    respond=respond))
    respond.assert_not_called()


@pytest.mark.parametrize("listener", [actions.share, actions.export_clip])
def test_a_button_without_its_moment_says_it_is_out_of_date(context, listener):
    respond, client = AsyncMock(), AsyncMock()
    asyncio.run(listener(context=context, body=_click(None), respond=respond, client=client))
    assert "out of date" in respond.call_args.kwargs["text"]
    client.assert_not_called()


def test_share_of_a_deleted_moment_explains_instead_of_posting(context, library):
    respond, client = AsyncMock(), AsyncMock()
    asyncio.run(actions.share(context=context, body=_click({"s": 987654, "v": "v1"}), respond=respond, client=client))
    assert "does not exist" in respond.call_args.kwargs["text"]
    client.chat_postMessage.assert_not_called()


def test_more_results_replaces_the_message_with_the_next_page(context, library):
    respond = AsyncMock()
    asyncio.run(actions.more_results(context=context, body=_click({"q": "dancing on stage", "o": 2}), respond=respond))
    answer = respond.call_args.kwargs
    assert answer["replace_original"] is True and answer["response_type"] == "ephemeral"
    assert answer["blocks"] and "3–" in json.dumps(answer["blocks"], ensure_ascii=False)


def test_the_caption_modal_saves_through_the_editing_rules(context, library, db):
    ack, client = AsyncMock(), AsyncMock()
    asyncio.run(views.save_caption(ack=ack, context=context, body={"user": {"id": "U9"}},
                                   view=_modal(library["s1"], 1, "girl singing"), client=client))
    ack.assert_awaited_once_with()
    with db.connection() as conn:
        row = conn.execute("SELECT caption_edited, version FROM segments WHERE id = %s", (library["s1"],)).fetchone()
    assert (row["caption_edited"], row["version"]) == ("girl singing", 2)
    assert "version 2" in client.chat_postEphemeral.call_args.kwargs["text"]


def test_the_caption_modal_refuses_a_stale_version_and_changes_nothing(context, library, db):
    ack, client = AsyncMock(), AsyncMock()
    asyncio.run(views.save_caption(ack=ack, context=context, body={"user": {"id": "U9"}},
                                   view=_modal(library["s1"], 7, "too late"), client=client))
    assert ack.call_args.kwargs["response_action"] == "errors"
    assert "Someone else changed" in ack.call_args.kwargs["errors"]["caption_block"]
    with db.connection() as conn:
        row = conn.execute("SELECT caption_edited, version FROM segments WHERE id = %s", (library["s1"],)).fetchone()
    assert (row["caption_edited"], row["version"]) == (None, 1)
    client.chat_postEphemeral.assert_not_called()

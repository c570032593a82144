"""Reverting history entries: every operation, revert of a revert, conflicts, concurrent edits."""
from __future__ import annotations

import threading

import pytest

from db.segments import get_segments
from edits.errors import RevertConflict, VersionConflict
from edits.history import list_history, revert_history
from edits.operations import create_segment, delete_segment, merge_segments, split_segment, update_segment


def _state(db, video="v1"):
    """Comparable content of a video's segments: id, bounds, captions, members (with confidence/source)."""
    with db.connection() as conn:
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments WHERE video_id = %s", (video,)).fetchall()]
        rows = get_segments(conn, ids)
    return [(r["id"], r["start_s"], r["end_s"], r["caption_auto"], r["caption_edited"], r["caption_ko"],
             r["transcript"], sorted((m["name"], m["confidence"], m["source"]) for m in r["members"])) for r in rows]


def _search_text(db, sid):
    with db.connection() as conn:
        return conn.execute("SELECT search_text FROM segments WHERE id = %s", (sid,)).fetchone()["search_text"]


@pytest.mark.parametrize("operation", ["update", "split", "merge", "create", "delete", "retime"])
def test_revert_restores_exactly_and_revert_of_revert_redoes(ctx, db, seeded, operation):
    original = _state(db)
    text0 = _search_text(db, seeded[0])
    if operation == "update":
        update_segment(ctx.db, ctx.embedder, seeded[0], actor="a", expected_version=1, caption="changed",
                       members=["Minji"])
    elif operation == "split":
        split_segment(ctx.db, ctx.embedder, seeded[0], 1.5, actor="a", expected_version=1)
    elif operation == "merge":
        merge_segments(ctx.db, ctx.embedder, seeded[:3], actor="a")
    elif operation == "create":
        create_segment(ctx.db, ctx.embedder, "v1", 30.0, 31.0, actor="a", members=["Hanni"])
    elif operation == "delete":
        delete_segment(ctx.db, seeded[0], actor="a", expected_version=1)
    else:
        update_segment(ctx.db, ctx.embedder, seeded[2], actor="a", expected_version=1, start=9.0, end=14.0)
    changed = _state(db)
    assert changed != original
    (entry,) = list_history(ctx.db, video_id="v1")
    rev = revert_history(ctx.db, ctx.embedder, entry["id"], actor="b")
    assert _state(db) == original
    assert rev["operation"] == "revert" and rev["reverts"] == entry["id"]
    assert list_history(ctx.db, video_id="v1")[1]["reverted_by"] == rev["id"]
    assert _search_text(db, seeded[0]) == text0
    # reverting it again: refused (the entry's result is gone)
    with pytest.raises(RevertConflict):
        revert_history(ctx.db, ctx.embedder, entry["id"], actor="b")
    revert_history(ctx.db, ctx.embedder, rev["id"], actor="c")   # revert of the revert = redo
    assert _state(db) == changed


def test_split_revert_brings_original_row_back_and_stale_versions_fail(ctx, db, seeded):
    a, b = split_segment(ctx.db, ctx.embedder, seeded[1], 6.0, actor="a", expected_version=1)
    (entry,) = list_history(ctx.db, video_id="v1")
    rev = revert_history(ctx.db, ctx.embedder, entry["id"], actor="a")
    with db.connection() as conn:
        assert conn.execute("SELECT 1 FROM segments WHERE id = %s", (b["id"],)).fetchone() is None
    seg = get_segments_one(db, seeded[1])
    assert (seg["start_s"], seg["end_s"], seg["version"]) == (4.0, 8.0, 3)
    with pytest.raises(VersionConflict):
        update_segment(ctx.db, ctx.embedder, seeded[1], actor="x", expected_version=2, caption="stale")
    assert [h["id"] for h in list_history(ctx.db, segment_id=b["id"])] == [rev["id"], entry["id"]]


def get_segments_one(db, sid):
    with db.connection() as conn:
        return get_segments(conn, [sid])[0]


def test_revert_conflicting_with_later_edit_is_refused(ctx, db, seeded):
    update_segment(ctx.db, ctx.embedder, seeded[0], actor="a", expected_version=1, caption="first")
    first = list_history(ctx.db, video_id="v1")[0]
    update_segment(ctx.db, ctx.embedder, seeded[0], actor="b", expected_version=2, caption="second")
    with pytest.raises(RevertConflict) as err:
        revert_history(ctx.db, ctx.embedder, first["id"], actor="a")
    assert err.value.status_code == 409 and "edited since" in err.value.message and "by b" in err.value.message
    assert get_segments_one(db, seeded[0])["caption_edited"] == "second"
    # a split whose second half was merged away later cannot be reverted either
    a, b = split_segment(ctx.db, ctx.embedder, seeded[2], 10.0, actor="a", expected_version=1)
    split_entry = list_history(ctx.db, video_id="v1")[0]
    merge_segments(ctx.db, ctx.embedder, [seeded[1], seeded[2]], actor="b")
    with pytest.raises(RevertConflict, match="edited since|removed since"):
        revert_history(ctx.db, ctx.embedder, split_entry["id"], actor="a")
    # a deleted segment whose range was reused cannot come back over it
    delete_segment(ctx.db, seeded[0], actor="a", expected_version=3)
    del_entry = list_history(ctx.db, video_id="v1")[0]
    create_segment(ctx.db, ctx.embedder, "v1", 0.0, 2.0, actor="b")
    with pytest.raises(RevertConflict, match="overlap"):
        revert_history(ctx.db, ctx.embedder, del_entry["id"], actor="a")


def test_concurrent_edits_same_version_one_wins(ctx, db, seeded):
    results, errors = [], []
    barrier = threading.Barrier(2)

    def edit(text):
        barrier.wait()
        try:
            results.append(update_segment(ctx.db, ctx.embedder, seeded[0], actor=text, expected_version=1,
                                          caption=text))
        except VersionConflict as err:
            errors.append(err)

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 1 and len(errors) == 1
    seg = get_segments_one(db, seeded[0])
    assert seg["version"] == 2 and seg["caption_edited"] == results[0]["caption_edited"]
    assert len(list_history(ctx.db, video_id="v1")) == 1


def test_a_korean_caption_filled_by_translate_does_not_block_a_revert(ctx, db, seeded):
    from indexer.store import set_korean_caption

    update_segment(ctx.db, ctx.embedder, seeded[1], actor="a", expected_version=1, caption="edited by hand")
    with db.connection() as conn:
        assert set_korean_caption(conn, seeded[1], "손으로 고친 캡션")        # what `indexer translate` writes
    (entry, *_) = list_history(ctx.db, video_id="v1")
    revert_history(ctx.db, ctx.embedder, entry["id"], actor="b")
    assert _segment(db, seeded[1])["caption_edited"] is None
    # a Korean caption typed by a person after an entry still protects that entry from a revert
    update_segment(ctx.db, ctx.embedder, seeded[2], actor="a", expected_version=1, caption="second edit")
    (entry, *_) = list_history(ctx.db, video_id="v1")
    update_segment(ctx.db, ctx.embedder, seeded[2], actor="c", expected_version=_segment(db, seeded[2])["version"],
                   caption_ko="사람이 쓴 캡션")
    with pytest.raises(RevertConflict, match="edited since"):
        revert_history(ctx.db, ctx.embedder, entry["id"], actor="b")


def _segment(db, sid):
    with db.connection() as conn:
        return get_segments(conn, [sid])[0]


def test_history_entries_say_what_changed(client, seeded):
    seg = client.get(f"/api/segments/{seeded[1]}").json()
    r = client.patch(f"/api/segments/{seeded[1]}", json={"version": seg["version"], "caption": "a skater jumps",
                                                         "members": ["Minji", "Danielle"], "start": 4.5})
    assert r.status_code == 200
    summary = client.get(f"/api/segments/{seeded[1]}/history").json()["history"][0]["summary"]
    assert summary.startswith(f"edited #{seeded[1]} 4.50-8.00s: ")
    assert "times 4.00–8.00 → 4.50–8.00" in summary
    assert "caption “a man riding a skateboard” → “a skater jumps”" in summary
    assert "members +Danielle −Hanni" in summary

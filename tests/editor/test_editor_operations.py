"""Editing operations against the real database: each change, its history row, and refusals."""
from __future__ import annotations

import pytest

from db.segments import get_segments
from edits.errors import EditError, NotFound, VersionConflict
from edits.operations import create_segment, delete_segment, merge_segments, split_segment, update_segment


def _row(db, sid):
    with db.connection() as conn:
        rows = get_segments(conn, [sid])
        return rows[0] if rows else None


def _history(db):
    with db.connection() as conn:
        return conn.execute("SELECT * FROM segment_history ORDER BY id").fetchall()


def test_update_caption_and_members_records_history_and_reembeds(ctx, db, seeded):
    sid = seeded[0]
    with db.connection() as conn:
        old = conn.execute("SELECT search_text, embedding FROM segments WHERE id = %s", (sid,)).fetchone()
    out = update_segment(ctx.db, ctx.embedder, sid, actor="tester", expected_version=1,
                         caption="Hanni skateboarding at night", members=["Hanni", "민지"])
    assert out["version"] == 2 and sorted(out["members"]) == ["Hanni", "Minji"]
    assert out["caption"] == "Hanni skateboarding at night" and out["caption_auto"] == "a girl dancing on stage"
    with db.connection() as conn:
        new = conn.execute("SELECT search_text, embedding FROM segments WHERE id = %s", (sid,)).fetchone()
        manual = conn.execute("SELECT m.name, sm.source FROM segment_members sm JOIN members m ON m.id = sm.member_id "
                              "WHERE segment_id = %s ORDER BY m.name", (sid,)).fetchall()
    assert "skateboarding" in new["search_text"] and new["search_text"] != old["search_text"]
    assert list(new["embedding"].to_numpy()) != list(old["embedding"].to_numpy())
    assert manual == [{"name": "Hanni", "source": "auto"}, {"name": "Minji", "source": "manual"}]
    (h,) = _history(db)
    assert h["operation"] == "update" and h["actor"] == "tester" and h["segment_ids"] == [sid]
    assert h["before"][0]["caption_edited"] is None
    assert h["after"][0]["caption_edited"] == "Hanni skateboarding at night"
    assert [m["name"] for m in h["before"][0]["members"]] == ["Hanni"]
    # "" clears the edit; None leaves it
    out = update_segment(ctx.db, ctx.embedder, sid, actor="tester", expected_version=2, caption="")
    assert out["caption_edited"] is None and out["caption"] == "a girl dancing on stage" and out["version"] == 3
    assert sorted(out["members"]) == ["Hanni", "Minji"]


def test_update_refusals_change_nothing(ctx, db, seeded):
    sid = seeded[0]
    with pytest.raises(VersionConflict) as err:
        update_segment(ctx.db, ctx.embedder, sid, actor="t", expected_version=7, caption="x")
    assert err.value.status_code == 409 and "version 1" in err.value.message
    with pytest.raises(EditError) as err:
        update_segment(ctx.db, ctx.embedder, sid, actor="t", expected_version=1, members=["Hanni", "Nobody"])
    assert err.value.status_code == 400 and "Nobody" in err.value.message
    with pytest.raises(NotFound):
        update_segment(ctx.db, ctx.embedder, 999999, actor="t", expected_version=None, caption="x")
    with pytest.raises(EditError, match="after start"):
        update_segment(ctx.db, ctx.embedder, sid, actor="t", expected_version=1, start=3.0, end=2.0)
    with pytest.raises(EditError, match="overlaps segment"):
        update_segment(ctx.db, ctx.embedder, sid, actor="t", expected_version=1, end=5.0)
    assert _row(db, sid)["version"] == 1 and _row(db, sid)["caption_edited"] is None and _history(db) == []


def test_split_keeps_members_and_captions(ctx, db, seeded):
    a, b = split_segment(ctx.db, ctx.embedder, seeded[1], 6.0, actor="t", expected_version=1)
    assert (a["id"], a["start"], a["end"], b["start"], b["end"]) == (seeded[1], 4.0, 6.0, 6.0, 8.0)
    assert sorted(a["members"]) == sorted(b["members"]) == ["Hanni", "Minji"]
    assert a["caption_auto"] == b["caption_auto"] == "a man riding a skateboard"
    for bad in (3.0, 4.0, 8.0, 9.0):
        with pytest.raises(EditError, match="outside segment"):
            split_segment(ctx.db, ctx.embedder, seeded[1], bad, actor="t", expected_version=2)
    with pytest.raises(VersionConflict):
        split_segment(ctx.db, ctx.embedder, seeded[1], 5.0, actor="t", expected_version=1)
    assert [h["operation"] for h in _history(db)] == ["split"]


def test_merge_unites_members_and_joins_captions(ctx, db, seeded):
    update_segment(ctx.db, ctx.embedder, seeded[1], actor="t", expected_version=1, caption="edited two")
    out = merge_segments(ctx.db, ctx.embedder, [seeded[0], seeded[1]], actor="t",
                         expected_versions={seeded[0]: 1, seeded[1]: 2})
    assert (out["id"], out["start"], out["end"]) == (seeded[0], 0.0, 8.0)
    assert sorted(out["members"]) == ["Hanni", "Minji"]
    assert out["caption_auto"] == "a girl dancing on stage a man riding a skateboard"
    assert out["caption_edited"] == "a girl dancing on stage edited two"
    assert _row(db, seeded[1]) is None


def test_merge_refusals(ctx, db, seeded):
    with pytest.raises(EditError, match="not adjacent"):
        merge_segments(ctx.db, ctx.embedder, [seeded[0], seeded[2]], actor="t")
    with pytest.raises(EditError, match="different videos"):
        merge_segments(ctx.db, ctx.embedder, [seeded[2], seeded[3]], actor="t")
    with pytest.raises(EditError, match="at least two"):
        merge_segments(ctx.db, ctx.embedder, [seeded[0], seeded[0]], actor="t")
    with pytest.raises(VersionConflict):
        merge_segments(ctx.db, ctx.embedder, [seeded[0], seeded[1]], actor="t", expected_versions={seeded[1]: 5})
    assert all(_row(db, s) is not None for s in seeded) and _history(db) == []


def test_create_and_delete(ctx, db, seeded):
    out = create_segment(ctx.db, ctx.embedder, "v1", 20.0, 25.5, actor="t", caption="new one", members=["Danielle"])
    assert (out["start"], out["end"], out["members"], out["caption"]) == (20.0, 25.5, ["Danielle"], "new one")
    for start, end, msg in [(11.0, 15.0, "overlaps segment"), (30.0, 30.0, "after start"), (31.0, 30.0, "after start"),
                            (-1.0, 2.0, "before the beginning"), (50.0, 70.0, "past the end")]:
        with pytest.raises(EditError, match=msg):
            create_segment(ctx.db, ctx.embedder, "v1", start, end, actor="t")
    with pytest.raises(NotFound):
        create_segment(ctx.db, ctx.embedder, "nope", 1.0, 2.0, actor="t")
    res = delete_segment(ctx.db, out["id"], actor="t", expected_version=1)
    assert res["deleted"] == out["id"] and _row(db, out["id"]) is None
    assert [h["operation"] for h in _history(db)] == ["create", "delete"]

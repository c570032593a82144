"""Operations on a selection of segments: bulk member/caption edits, retiming a shared boundary, deleting several.

Each is one transaction and one history entry that one revert undoes, with the same version checks (409) and
re-embedding as single-segment edits.
"""
from __future__ import annotations

import pytest

from db.segments import get_segments
from edits.errors import EditError, VersionConflict
from edits.history import list_history, revert_history
from edits.operations import bulk_edit, delete_selection, retime_segments


def _state(db, video="v1"):
    with db.connection() as conn:
        ids = [r["id"] for r in conn.execute("SELECT id FROM segments WHERE video_id = %s", (video,)).fetchall()]
        rows = get_segments(conn, ids)
        texts = {r["id"]: r["search_text"] for r in conn.execute(
            "SELECT id, search_text FROM segments WHERE id = ANY(%s)", (ids,)).fetchall()}
    return [(r["id"], r["start_s"], r["end_s"], r["caption_edited"], texts[r["id"]],
             sorted((m["name"], m["source"]) for m in r["members"])) for r in rows]


def _members(db, sid):
    with db.connection() as conn:
        return sorted(m["name"] for m in get_segments(conn, [sid])[0]["members"])


def _history_count(db):
    with db.connection() as conn:
        return conn.execute("SELECT count(*) AS n FROM segment_history").fetchone()["n"]


def test_bulk_tag_adds_and_removes_members_on_every_selected_segment_as_one_revertable_entry(ctx, db, seeded):
    original = _state(db)
    out = bulk_edit(ctx.db, ctx.embedder, seeded[:3], actor="ed", add_members=["민지"], remove_members=["Hanni"])
    assert _members(db, seeded[0]) == ["Minji"]
    assert _members(db, seeded[1]) == ["Minji"]                 # already had Minji: kept (auto), Hanni removed
    assert _members(db, seeded[2]) == ["Danielle", "Minji"]
    assert len(out["segments"]) == 3 and out["history_id"]
    (entry,) = list_history(ctx.db, video_id="v1")
    assert entry["operation"] == "bulk" and entry["actor"] == "ed"
    assert entry["summary"] == "edited 3 segments at once: members +Minji −Hanni"
    assert "Minji" in _state(db)[2][4]                          # search text re-made with the new member
    revert_history(ctx.db, ctx.embedder, entry["id"], actor="ed")
    assert _state(db) == original


def test_bulk_caption_sets_one_caption_and_skips_segments_it_would_not_change(ctx, db, seeded):
    bulk_edit(ctx.db, ctx.embedder, [seeded[0]], actor="ed", caption="encore stage")
    out = bulk_edit(ctx.db, ctx.embedder, seeded[:2], actor="ed", caption="encore stage",
                    expected_versions={seeded[0]: 2, seeded[1]: 1})
    assert [s["id"] for s in out["segments"]] == [seeded[1]]   # the first already said so: untouched
    assert list_history(ctx.db, video_id="v1")[0]["summary"] == "edited 1 segment at once: caption → “encore stage”"
    with db.connection() as conn:
        rows = get_segments(conn, seeded[:2])
    assert [r["caption_edited"] for r in rows] == ["encore stage", "encore stage"]
    assert [r["version"] for r in rows] == [2, 2]
    assert "encore" in _state(db)[1][4]


def test_bulk_edit_refusals_change_nothing(ctx, db, seeded):
    original, entries = _state(db), _history_count(db)
    with pytest.raises(VersionConflict):
        bulk_edit(ctx.db, ctx.embedder, seeded[:2], actor="ed", add_members=["Danielle"],
                  expected_versions={seeded[0]: 1, seeded[1]: 7})
    with pytest.raises(EditError, match="different videos"):
        bulk_edit(ctx.db, ctx.embedder, [seeded[0], seeded[3]], actor="ed", add_members=["Danielle"])
    with pytest.raises(EditError, match="Nobody"):
        bulk_edit(ctx.db, ctx.embedder, seeded[:2], actor="ed", add_members=["Nobody"])
    with pytest.raises(EditError, match="both added and removed"):
        bulk_edit(ctx.db, ctx.embedder, seeded[:2], actor="ed", add_members=["Hanni"], remove_members=["하니"])
    with pytest.raises(EditError, match="Nothing to change"):
        bulk_edit(ctx.db, ctx.embedder, seeded[:2], actor="ed")
    assert _state(db) == original and _history_count(db) == entries


def test_dragging_a_shared_boundary_retimes_both_neighbours_in_one_entry(ctx, db, seeded):
    original = _state(db)
    out = retime_segments(ctx.db, ctx.embedder, [{"id": seeded[0], "version": 1, "start": 0.0, "end": 4.8},
                                                 {"id": seeded[1], "version": 1, "start": 4.8, "end": 8.0}], actor="ed")
    assert [(s["start"], s["end"]) for s in out["segments"]] == [(0.0, 4.8), (4.8, 8.0)]
    (entry,) = list_history(ctx.db, video_id="v1")
    assert entry["operation"] == "retime"
    assert entry["summary"] == (f"retimed #{seeded[0]} times 0.00–4.00 → 0.00–4.80; "
                                f"#{seeded[1]} times 4.00–8.00 → 4.80–8.00")
    revert_history(ctx.db, ctx.embedder, entry["id"], actor="ed")
    assert _state(db) == original


def test_retime_refuses_overlaps_and_stale_versions(ctx, db, seeded):
    original = _state(db)
    with pytest.raises(EditError, match="overlaps segment"):       # moving one side only runs into the neighbour
        retime_segments(ctx.db, ctx.embedder, [{"id": seeded[0], "version": 1, "start": 0.0, "end": 5.0}],
                        actor="ed")
    with pytest.raises(EditError, match="would overlap"):
        retime_segments(ctx.db, ctx.embedder, [{"id": seeded[0], "version": 1, "start": 0.0, "end": 5.0},
                                               {"id": seeded[1], "version": 1, "start": 4.5, "end": 8.0}], actor="ed")
    with pytest.raises(VersionConflict):
        retime_segments(ctx.db, ctx.embedder, [{"id": seeded[0], "version": 3, "start": 0.0, "end": 3.0}],
                        actor="ed")
    assert _state(db) == original


def test_deleting_a_selection_is_one_entry_and_one_revert_brings_all_back(ctx, db, seeded):
    original = _state(db)
    out = delete_selection(ctx.db, [seeded[2], seeded[0]], actor="ed", expected_versions={seeded[0]: 1})
    assert sorted(out["deleted"]) == sorted([seeded[0], seeded[2]])
    assert [r[0] for r in _state(db)] == [seeded[1]]
    (entry,) = list_history(ctx.db, video_id="v1")
    assert entry["summary"].startswith("deleted 2 segments: ")
    revert_history(ctx.db, ctx.embedder, entry["id"], actor="ed")
    assert _state(db) == original


def test_selection_routes_answer_with_the_usual_statuses(client, seeded):
    r = client.post("/api/segments/bulk", json={"segment_ids": seeded[:2], "add_members": ["Danielle"],
                                                 "versions": {str(seeded[0]): 1}})
    assert r.status_code == 200 and r.json()["history_id"]
    r = client.post("/api/segments/bulk", json={"segment_ids": seeded[:2], "add_members": ["Danielle"],
                                                 "versions": {str(seeded[0]): 1}})
    assert r.status_code == 409 and "changed by someone else" in r.json()["detail"]
    r = client.post("/api/segments/retime", json={"changes": [{"id": seeded[2], "version": 1, "start": 8.0,
                                                               "end": 70.0}]})
    assert r.status_code == 400 and "past the end" in r.json()["detail"]
    r = client.post("/api/segments/delete", json={"segment_ids": []})
    assert r.status_code == 422
    r = client.post("/api/segments/delete", json={"segment_ids": [seeded[2]], "versions": {str(seeded[2]): 1}})
    assert r.status_code == 200 and r.json()["deleted"] == [seeded[2]]


def test_a_merge_whose_joined_text_would_pass_the_limits_is_refused(ctx, db, seeded):
    from edits.operations import CAPTION_MAX, merge_segments, update_segment

    update_segment(ctx.db, ctx.embedder, seeded[0], actor="ed", expected_version=1, caption="a" * CAPTION_MAX)
    original = _state(db)
    with pytest.raises(EditError, match="Merge fewer segments"):
        merge_segments(ctx.db, ctx.embedder, seeded[:2], actor="ed")
    assert _state(db) == original

"""History of segment edits, and reverting any entry (merge and split included).

A revert writes an entry's ``before`` snapshots back: segments the entry created are removed, segments it
removed come back with their original ids, captions and members, and changed ones get their old content
(with a new, higher version). It is itself recorded as a ``revert`` entry, so it can be reverted in turn.
A revert is refused (409, RevertConflict) when a segment the entry produced has other content now (edited
or removed since; content is compared, not versions, so undoing several entries newest-first works),
or a segment it removed exists again, or a restored range would overlap a newer segment.
"""
from __future__ import annotations

from editor import store
from editor.errors import NotFound, RevertConflict

_COLUMNS = "id, video_id, operation, actor, created_at, segment_ids, before, after, reverts, reverted_by"


def _public(row: dict) -> dict:
    out = dict(row)
    out["created_at"] = row["created_at"].isoformat() if row.get("created_at") else None
    out["summary"] = summarize(row)
    return out


def summarize(row: dict) -> str:
    b, a = row.get("before") or [], row.get("after") or []
    op = row["operation"]

    def span(s):
        return f"#{s['id']} {s['start_s']:.2f}-{s['end_s']:.2f}s"

    if op == "split" and b:
        return f"split {span(b[0])} into " + " + ".join(span(s) for s in a)
    if op == "merge" and a:
        return "merged " + " + ".join(span(s) for s in b) + f" into {span(a[0])}"
    if op == "create" and a:
        return f"created {span(a[0])}"
    if op == "delete" and b:
        return f"deleted {span(b[0])}"
    if op == "revert":
        return f"reverted history #{row.get('reverts')}"
    if op in ("update", "retime") and a:
        return f"edited {span(a[0])}"
    return op


def list_history(ctx, *, video_id: str | None = None, segment_id: int | None = None, limit: int = 100) -> list[dict]:
    """Newest first; for a video, or for one segment (entries whose snapshots include it)."""
    limit = max(1, min(int(limit), 500))
    with ctx.db.connection() as conn:
        if segment_id is not None:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM segment_history WHERE segment_ids @> ARRAY[%s]::bigint[] "
                                "ORDER BY id DESC LIMIT %s", (int(segment_id), limit)).fetchall()
        elif video_id is not None:
            if conn.execute("SELECT 1 FROM videos WHERE id = %s", (video_id,)).fetchone() is None:
                raise NotFound(f"Video {video_id!r} does not exist.")
            rows = conn.execute(f"SELECT {_COLUMNS} FROM segment_history WHERE video_id = %s "
                                "ORDER BY id DESC LIMIT %s", (video_id, limit)).fetchall()
        else:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM segment_history ORDER BY id DESC LIMIT %s",
                                (limit,)).fetchall()
    return [_public(r) for r in rows]


def _later_change(conn, entry: dict, segment_id: int) -> str:
    row = conn.execute(
        "SELECT id, operation, actor FROM segment_history WHERE id > %s AND segment_ids @> ARRAY[%s]::bigint[] "
        "ORDER BY id LIMIT 1", (entry["id"], segment_id)).fetchone()
    return f" by history #{row['id']} ({row['operation']} by {row['actor']})" if row else ""


def _check_revertable(conn, entry: dict, current: dict[int, dict]) -> None:
    before_ids = {s["id"] for s in entry["before"]}
    for snap in entry["after"]:
        now = current.get(snap["id"])
        if now is None:
            raise RevertConflict(
                f"Cannot revert history #{entry['id']} ({entry['operation']}): segment {snap['id']} was removed "
                f"since{_later_change(conn, entry, snap['id'])}. Revert that change first.")
        if not store.same_content(store.snapshot(now), snap):
            raise RevertConflict(
                f"Cannot revert history #{entry['id']} ({entry['operation']}): segment {snap['id']} was edited "
                f"since{_later_change(conn, entry, snap['id'])} (now version {now['version']}). "
                "Revert the later change first, or edit the segment by hand.")
    for snap in entry["before"]:
        if snap["id"] not in {s["id"] for s in entry["after"]} and snap["id"] in current:
            raise RevertConflict(
                f"Cannot revert history #{entry['id']} ({entry['operation']}): segment {snap['id']} exists again"
                f"{_later_change(conn, entry, snap['id'])}; this change looks reverted already.")
    ignore = list(before_ids | {s["id"] for s in entry["after"]})
    for snap in entry["before"]:
        try:
            store.check_no_overlap(conn, snap["video_id"], snap["start_s"], snap["end_s"], ignore)
        except store.EditError as err:
            raise RevertConflict(f"Cannot revert history #{entry['id']} ({entry['operation']}): restoring "
                                 f"segment {snap['id']} would overlap a newer segment. {err.message}") from None


def _next_version(conn, segment_id: int) -> int:
    """A version the segment never had: a restored row must not match anyone's stale copy by accident."""
    row = conn.execute(
        "SELECT max((s->>'version')::int) AS v FROM segment_history h, "
        "jsonb_array_elements(h.before || h.after) s WHERE h.segment_ids @> ARRAY[%s]::bigint[] "
        "AND (s->>'id')::bigint = %s", (segment_id, segment_id)).fetchone()
    return (row["v"] or 0) + 1


def _members_of(conn, snap: dict) -> list[dict]:
    out = []
    for m in snap.get("members", []):
        row = conn.execute("SELECT id FROM members WHERE id = %s", (m["member_id"],)).fetchone() or \
            conn.execute("SELECT id FROM members WHERE name = %s", (m["name"],)).fetchone()
        if row is None:
            raise RevertConflict(f"Cannot restore segment {snap['id']}: member {m['name']!r} no longer exists. "
                                 "Enrol it again (python -m indexer enroll NAME), then revert.")
        out.append({**m, "member_id": row["id"]})
    return out


def revert_history(ctx, history_id: int, *, actor: str) -> dict:
    """Undo one history entry; returns the new ``revert`` entry (with its before/after snapshots)."""
    with ctx.db.connection() as conn:
        head = conn.execute("SELECT video_id FROM segment_history WHERE id = %s", (history_id,)).fetchone()
        if head is None:
            raise NotFound(f"History entry {history_id} does not exist.")
        store.lock_video(conn, head["video_id"])
        entry = conn.execute(f"SELECT {_COLUMNS} FROM segment_history WHERE id = %s FOR UPDATE",
                             (history_id,)).fetchone()
        touched = sorted({s["id"] for s in entry["before"]} | {s["id"] for s in entry["after"]})
        current = {r["id"]: r for r in store.load_segments_if_any(conn, touched)}
        _check_revertable(conn, entry, current)
        before_now = [store.snapshot(current[s["id"]]) for s in entry["after"]]
        keep = {s["id"] for s in entry["before"]}
        gone = [s["id"] for s in entry["after"] if s["id"] not in keep]
        if gone:
            conn.execute("DELETE FROM segments WHERE id = ANY(%s)", (gone,))
        fields_of = ("start_s", "end_s", "caption_auto", "caption_edited", "caption_ko", "transcript", "thumbnail")
        for snap in entry["before"]:
            members = _members_of(conn, snap)
            if snap["id"] in current:
                store.update_fields(conn, snap["id"], {k: snap[k] for k in fields_of})
            else:
                store.insert_segment(conn, {**snap, "version": _next_version(conn, snap["id"])}, segment_id=snap["id"])
            store.set_members(conn, snap["id"], members)
        restored = [s["id"] for s in entry["before"]]
        store.refresh(conn, restored, ctx.embedder)
        after_now = store.snapshots(conn, restored)
        new_id = store.record_history(conn, entry["video_id"], "revert", actor, before_now, after_now,
                                      reverts=history_id)
        conn.execute("UPDATE segment_history SET reverted_by = %s WHERE id = %s", (new_id, history_id))
        row = conn.execute(f"SELECT {_COLUMNS} FROM segment_history WHERE id = %s", (new_id,)).fetchone()
        return _public(row)

"""History of segment edits, and reverting any entry (merge and split included).

A revert writes an entry's ``before`` snapshots back: segments the entry created are removed, segments it
removed come back with their original ids, captions and members, and changed ones get their old content
(with a new, higher version). It is itself recorded as a ``revert`` entry, so it can be reverted in turn.
A revert is refused (409, RevertConflict) when a segment the entry produced has other content now (edited
or removed since; content is compared, not versions, so undoing several entries newest-first works),
or a segment it removed exists again, or a restored range would overlap a newer segment.
"""
from __future__ import annotations

from db.members import member_by_id_or_name
from db.segments import delete_segments, get_segments, insert_segment, refresh_search_fields, set_members
from db.videos import get_video
from edits import store
from edits.errors import EditError, NotFound, RevertConflict

RESTORED_FIELDS = ("start_s", "end_s", "caption_auto", "caption_edited", "caption_ko", "transcript", "thumbnail")


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
    if op == "delete" and len(b) == 1:
        return f"deleted {span(b[0])}"
    if op == "delete" and b:
        return f"deleted {len(b)} segments: " + ", ".join(span(s) for s in b[:5]) + (" …" if len(b) > 5 else "")
    if op == "revert":
        return f"reverted history #{row.get('reverts')}"
    if op in ("update", "retime") and len(a) == 1:
        changes = changed(b[0], a[0]) if b else []
        return f"edited {span(a[0])}" + (": " + "; ".join(changes) if changes else "")
    if op == "retime" and a:
        was = {s["id"]: s for s in b}
        return "retimed " + "; ".join(f"#{s['id']} {'; '.join(changed(was[s['id']], s))}" for s in a if s["id"] in was)
    if op == "bulk" and a:
        was = {s["id"]: s for s in b}
        added, removed, captions = set(), set(), []
        for s in a:
            old = was.get(s["id"], s)
            plus, minus = _member_moves(old, s)
            added |= plus
            removed |= minus
            if old.get("caption_edited") != s.get("caption_edited"):
                captions.append(s.get("caption_edited"))
        parts = [_members_text(added, removed)] if added or removed else []
        if captions:
            parts.append(f"caption → {_quote(captions[0])}" if captions[0] else "caption edit cleared")
        return f"edited {len(a)} segment{'s' if len(a) != 1 else ''} at once: " + "; ".join(parts)
    return op


def _quote(text: str | None, limit: int = 40) -> str:
    if not text:
        return "(none)"
    return "“" + (text if len(text) <= limit else text[:limit - 1] + "…") + "”"


def _member_moves(before: dict, after: dict) -> tuple[set[str], set[str]]:
    was = {m["name"] for m in before.get("members", [])}
    now = {m["name"] for m in after.get("members", [])}
    return now - was, was - now


def _members_text(added: set[str], removed: set[str]) -> str:
    return "members " + " ".join([f"+{n}" for n in sorted(added)] + [f"−{n}" for n in sorted(removed)])


def changed(before: dict, after: dict) -> list[str]:
    """What an edit changed in one segment, in words: texts old → new, members +added −removed, times moved."""
    out = []
    if abs(before["start_s"] - after["start_s"]) > 1e-6 or abs(before["end_s"] - after["end_s"]) > 1e-6:
        out.append(f"times {before['start_s']:.2f}–{before['end_s']:.2f} → {after['start_s']:.2f}–{after['end_s']:.2f}")
    for key, label in (("caption_edited", "caption"), ("caption_ko", "Korean caption"), ("transcript", "transcript")):
        if before.get(key) != after.get(key):
            old = before.get(key) or (before.get("caption_auto") if key == "caption_edited" else None)
            out.append(f"{label} {_quote(old)} → {_quote(after.get(key))}")
    added, removed = _member_moves(before, after)
    if added or removed:
        out.append(_members_text(added, removed))
    return out


def list_history(db, *, video_id: str | None = None, segment_id: int | None = None, limit: int = 100) -> list[dict]:
    """Newest first; for a video, or for one segment (entries whose snapshots include it)."""
    limit = max(1, min(int(limit), 500))
    with db.connection() as conn:
        if segment_id is None and video_id is not None:
            get_video(conn, video_id)
        rows = store.history_entries(conn, video_id=video_id, segment_id=segment_id, limit=limit)
    return [_public(r) for r in rows]


def _by_later(conn, entry: dict, segment_id: int) -> str:
    row = store.later_change(conn, entry, segment_id)
    return f" by history #{row['id']} ({row['operation']} by {row['actor']})" if row else ""


def _check_revertable(conn, entry: dict, current: dict[int, dict]) -> None:
    what = f"Cannot revert history #{entry['id']} ({entry['operation']})"
    after_ids = {s["id"] for s in entry["after"]}
    for snap in entry["after"]:
        now = current.get(snap["id"])
        if now is None:
            raise RevertConflict(f"{what}: segment {snap['id']} was removed since{_by_later(conn, entry, snap['id'])}. "
                                 "Revert that change first.")
        # A Korean caption filled by `indexer translate` (no history entry of its own) does not block a revert.
        machine_filled = ("caption_ko",) if snap.get("caption_ko") is None and \
            store.later_change(conn, entry, snap["id"]) is None else ()
        if not store.same_content(store.snapshot(now), snap, ignore=machine_filled):
            raise RevertConflict(
                f"{what}: segment {snap['id']} was edited since{_by_later(conn, entry, snap['id'])} (now version "
                f"{now['version']}). Revert the later change first, or edit the segment by hand.")
    for snap in entry["before"]:
        if snap["id"] not in after_ids and snap["id"] in current:
            raise RevertConflict(f"{what}: segment {snap['id']} exists again{_by_later(conn, entry, snap['id'])}; "
                                 "this change looks reverted already.")
    ignore = list({s["id"] for s in entry["before"]} | after_ids)
    for snap in entry["before"]:
        try:
            store.check_no_overlap(conn, snap["video_id"], snap["start_s"], snap["end_s"], ignore)
        except EditError as err:
            raise RevertConflict(f"{what}: restoring segment {snap['id']} would overlap a newer segment. "
                                 f"{err.message}") from None


def _members_of(conn, snap: dict) -> list[dict]:
    out = []
    for m in snap.get("members", []):
        member_id = member_by_id_or_name(conn, m["member_id"], m["name"])
        if member_id is None:
            raise RevertConflict(f"Cannot restore segment {snap['id']}: member {m['name']!r} no longer exists. "
                                 "Enrol it again (python -m indexer enroll NAME), then revert.")
        out.append({**m, "member_id": member_id})
    return out


def _restore(conn, entry: dict, current: dict[int, dict]) -> list[int]:
    """Write the entry's ``before`` snapshots back (removing what it created); returns the restored ids."""
    keep = {s["id"] for s in entry["before"]}
    delete_segments(conn, [s["id"] for s in entry["after"] if s["id"] not in keep])
    for snap in entry["before"]:
        members = _members_of(conn, snap)
        if snap["id"] in current:
            store.update_fields(conn, snap["id"], {k: snap[k] for k in RESTORED_FIELDS})
        else:
            insert_segment(conn, {**snap, "version": store.next_version(conn, snap["id"])}, segment_id=snap["id"])
        set_members(conn, snap["id"], members)
    return [s["id"] for s in entry["before"]]


def revert_history(db, embedder, history_id: int, *, actor: str) -> dict:
    """Undo one history entry; returns the new ``revert`` entry (with its before/after snapshots)."""
    with db.connection() as conn:
        head = store.history_entry(conn, history_id)
        if head is None:
            raise NotFound(f"History entry {history_id} does not exist.")
        store.lock_video(conn, head["video_id"])
        entry = store.history_entry(conn, history_id, lock=True)
        touched = sorted({s["id"] for s in entry["before"]} | {s["id"] for s in entry["after"]})
        current = {r["id"]: r for r in get_segments(conn, touched)}
        _check_revertable(conn, entry, current)
        before_now = [store.snapshot(current[s["id"]]) for s in entry["after"]]
        restored = _restore(conn, entry, current)
        if restored:
            refresh_search_fields(conn, restored, embedder)
        new_id = store.record_history(conn, entry["video_id"], "revert", actor, before_now,
                                      store.snapshots(conn, restored), reverts=history_id)
        store.mark_reverted(conn, history_id, new_id)
        return _public(store.history_entry(conn, new_id))


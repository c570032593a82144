"""History of segment edits, and reverting any entry (merge and split included).

A revert writes an entry's ``before`` snapshots back: segments the entry created are removed, segments it
removed come back with their original ids, captions and members, and changed ones get their old content
(with a new, higher version). It is itself recorded as a ``revert`` entry, so it can be reverted in turn.
A revert is refused (409, RevertConflict) when a segment the entry produced has other content now (edited
or removed since; content is compared, not versions, so undoing several entries newest-first works),
or a segment it removed exists again, or a restored range would overlap a newer segment.

A "teach" entry (``edits.teach``: faces of a segment added to a member's gallery) is reverted differently: its
gallery faces still there are removed (crops too), the same members are re-matched, and the taught segment's
automatic tags are put back as they were; the revert entry keeps the ``gallery`` note. That revert cannot be
reverted in turn (the removed faces are gone): teach the gallery again from the editor.
"""
from __future__ import annotations

from db.members import delete_gallery_faces, member_by_id_or_name
from db.segments import add_members, delete_segments, get_segments, insert_segment, refresh_search_fields, set_members
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
    g = row.get("gallery") or {}
    changes = f"{g.get('added', 0) + g.get('removed', 0)} tag(s) changed" if "added" in g else "library not re-matched"
    if op == "teach" and g:
        n = len(g.get("faces", []))
        return f"taught {g.get('member')}'s gallery {n} face{'s' if n != 1 else ''} from #{g.get('segment_id')} " \
               f"({changes})"
    if op == "revert" and g:
        n = len(g.get("faces", []))
        return f"reverted history #{row.get('reverts')}: removed {n} face{'s' if n != 1 else ''} from " \
               f"{g.get('member')}'s gallery ({changes})"
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


def revert_history(db, embedder, history_id: int, *, actor: str, cfg=None) -> dict:
    """Undo one history entry; returns the new ``revert`` entry (with its before/after snapshots).
    ``cfg`` (the configuration) is needed only to revert a "teach" entry."""
    with db.connection() as conn:
        head = store.history_entry(conn, history_id)
        if head is None:
            raise NotFound(f"History entry {history_id} does not exist.")
        store.lock_video(conn, head["video_id"])
        entry = store.history_entry(conn, history_id, lock=True)
        if entry["operation"] == "revert" and entry["gallery"]:
            raise RevertConflict(f"Cannot revert history #{history_id}: it removed faces taught to "
                                 f"{entry['gallery'].get('member')}'s gallery, and they are gone. Teach it again "
                                 "from the editor (Teach the gallery on the segment).")
        if entry["operation"] == "teach":
            new_id, note = _untaught(conn, cfg, entry, actor)
        else:
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
    _rematch_untaught(db, cfg, embedder, entry, new_id, note)
    with db.connection() as conn:
        return _public(store.history_entry(conn, new_id))


def _untaught(conn, cfg, entry: dict, actor: str) -> tuple[int, dict]:
    """Remove a teach entry's gallery faces (those still there) and record the revert; (its id, its note)."""
    g = entry["gallery"] or {}
    if cfg is None:
        raise EditError("Reverting a taught gallery needs the configuration (its faces folder).")
    if entry["reverted_by"] is not None:
        raise RevertConflict(f"Cannot revert history #{entry['id']} (teach): history #{entry['reverted_by']} "
                             "reverted it already.")
    from edits.people import remove_crops  # here: the face model code it imports is needed only for a teach

    rows = delete_gallery_faces(conn, g.get("faces", []))
    remove_crops(cfg, rows)
    snap = store.snapshots(conn, [g["segment_id"]]) if g.get("segment_id") else []
    note = {**{k: g.get(k) for k in ("member_id", "member", "lookalikes", "segment_id")},
            "faces": sorted(r["id"] for r in rows)}
    new_id = store.record_history(conn, entry["video_id"], "revert", actor, snap, snap, reverts=entry["id"],
                                  gallery=note)
    store.mark_reverted(conn, entry["id"], new_id)
    return new_id, note


def _rematch_untaught(db, cfg, embedder, entry: dict, new_id: int, note: dict) -> None:
    """After a teach's faces left the gallery: re-match its members, then give the taught segment back the
    automatic tags it had when it was taught (its manual ones are untouched)."""
    from edits.people import retag_after_gallery_change

    retagged = retag_after_gallery_change(db, cfg, embedder, note["member_id"], note.get("lookalikes") or [])
    was = [m for s in entry["before"] if s["id"] == note.get("segment_id") for m in s.get("members", [])
           if m["source"] == "auto"]
    with db.connection() as conn:
        was = [m for m in was if conn.execute("SELECT 1 FROM members WHERE id = %s", (m["member_id"],)).fetchone()]
        segment_id = note.get("segment_id")
        now = get_segments(conn, [segment_id]) if segment_id else []
        added, removed = retagged["added"], retagged["removed"]
        if now:
            auto_now = {m["member_id"] for m in now[0]["members"] if m["source"] == "auto"}
            auto_was = {m["member_id"] for m in was}
            if auto_now != auto_was:
                conn.execute("DELETE FROM segment_members WHERE segment_id = %s AND source = 'auto'", (segment_id,))
                add_members(conn, segment_id, was)
                refresh_search_fields(conn, [segment_id], embedder)
                # what the re-match did to this segment and was undone here is no change
                by_rematch = {(t["member_id"], t["change"]) for t in retagged["where"] if t["segment_id"] == segment_id}
                for mid in auto_now - auto_was:
                    added -= 1 if (mid, "added") in by_rematch else 0
                    removed += 0 if (mid, "added") in by_rematch else 1
                for mid in auto_was - auto_now:
                    removed -= 1 if (mid, "removed") in by_rematch else 0
                    added += 0 if (mid, "removed") in by_rematch else 1
        store.note_gallery(conn, new_id, {"added": added, "removed": removed})

"""Editing operations on segments: update, split, merge, create, delete (revert lives in editor.history).

Every operation runs in one transaction: it locks the video row (edits of one video run one at a time),
checks the caller's segment versions (a stale one -> VersionConflict, 409), changes the rows, records a
``segment_history`` row with before/after snapshots of every segment touched (members included), and
re-embeds the touched segments (``db.segments.refresh_search_fields``) before it commits. Any invalid input
raises EditError (4xx) and nothing is changed.

``ctx`` is a core.context.AppContext (``ctx.db``, ``ctx.embedder``).
"""
from __future__ import annotations

from editor import store
from editor.errors import EditError, NotFound, RevertConflict, VersionConflict
from editor.store import EPS, MIN_LENGTH_S

__all__ = ["EditError", "NotFound", "VersionConflict", "RevertConflict", "update_segment", "split_segment",
           "merge_segments", "create_segment", "delete_segment", "get_segment"]


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _time(value, what: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise EditError(f"{what} must be a number of seconds, got {value!r}.") from None
    if t != t or t in (float("inf"), float("-inf")):
        raise EditError(f"{what} must be a finite number of seconds, got {value!r}.")
    return round(t, 3)


def get_segment(ctx, segment_id: int) -> dict:
    with ctx.db.connection() as conn:
        return store.public_segment(store.load_segments(conn, [segment_id])[0])


def update_segment(ctx, segment_id: int, *, actor: str, expected_version: int | None, caption: str | None = None,
                   members: list[str] | None = None, caption_ko: str | None = None, start: float | None = None,
                   end: float | None = None) -> dict:
    """Edit one segment and return it (``public_segment`` form: "version", "members" as names, ...).

    caption: the edited caption (None: unchanged; "": clear the edit, the automatic caption shows again).
    members: the full list of member names (or aliases); added ones are tagged as manual. Unknown -> 400.
    caption_ko: the Korean caption (None: unchanged; "": clear). start/end: new bounds (None: unchanged).
    """
    with ctx.db.connection() as conn:
        video = store.lock_video(conn, store.video_of_segment(conn, segment_id))
        seg = store.load_segments(conn, [segment_id])[0]
        store.check_version(seg, expected_version)
        fields: dict = {}
        if caption is not None and _clean_text(caption) != seg["caption_edited"]:
            fields["caption_edited"] = _clean_text(caption)
        if caption_ko is not None and _clean_text(caption_ko) != seg["caption_ko"]:
            fields["caption_ko"] = _clean_text(caption_ko)
        if start is not None or end is not None:
            new_start = _time(start, "start") if start is not None else seg["start_s"]
            new_end = _time(end, "end") if end is not None else seg["end_s"]
            store.check_bounds(video, new_start, new_end)
            store.check_no_overlap(conn, seg["video_id"], new_start, new_end, [segment_id])
            if abs(new_start - seg["start_s"]) > EPS:
                fields["start_s"] = new_start
            if abs(new_end - seg["end_s"]) > EPS:
                fields["end_s"] = new_end
        new_members = None
        if members is not None:
            wanted = store.resolve_members(conn, list(members))
            current = {m["member_id"]: m for m in seg["members"]}
            if {mid for mid, _ in wanted} != set(current):
                new_members = [current.get(mid) or {"member_id": mid, "confidence": None, "source": "manual"}
                               for mid, _ in wanted]
        if not fields and new_members is None:
            return store.public_segment(seg)
        before = [store.snapshot(seg)]
        store.update_fields(conn, segment_id, fields)
        if new_members is not None:
            store.set_members(conn, segment_id, new_members)
        store.refresh(conn, [segment_id], ctx.embedder)
        after_rows = store.load_segments(conn, [segment_id])
        operation = "update" if not ({"start_s", "end_s"} & set(fields)) else "retime"
        store.record_history(conn, seg["video_id"], operation, actor, before, [store.snapshot(r) for r in after_rows])
        return store.public_segment(after_rows[0])


def split_segment(ctx, segment_id: int, at: float, *, actor: str, expected_version: int | None) -> list[dict]:
    """Split a segment at ``at`` seconds into two; both keep captions, transcript and members. Returns both."""
    at = _time(at, "split time")
    with ctx.db.connection() as conn:
        store.lock_video(conn, store.video_of_segment(conn, segment_id))
        seg = store.load_segments(conn, [segment_id])[0]
        store.check_version(seg, expected_version)
        if not (seg["start_s"] + MIN_LENGTH_S - EPS <= at <= seg["end_s"] - MIN_LENGTH_S + EPS):
            raise EditError(f"Split time {at:.2f} s is outside segment {segment_id} ({seg['start_s']:.2f}-"
                            f"{seg['end_s']:.2f} s); pick a time inside it, at least {MIN_LENGTH_S} s from "
                            "either end.")
        before = [store.snapshot(seg)]
        store.update_fields(conn, segment_id, {"end_s": at})
        second = store.insert_segment(conn, {**seg, "start_s": at, "version": 1})
        store.set_members(conn, second, seg["members"])
        store.refresh(conn, [segment_id, second], ctx.embedder)
        rows = store.load_segments(conn, [segment_id, second])
        store.record_history(conn, seg["video_id"], "split", actor, before, [store.snapshot(r) for r in rows])
        return [store.public_segment(r) for r in rows]


def _join(parts: list[str | None]) -> str | None:
    texts = [p.strip() for p in parts if p and p.strip()]
    return " ".join(dict.fromkeys(texts)) or None


def _unite_members(segs: list[dict]) -> list[dict]:
    """Every member of any segment once: highest confidence, "manual" if any segment tagged it by hand."""
    united: dict[int, dict] = {}
    for s in segs:
        for m in s["members"]:
            cur = united.setdefault(m["member_id"], dict(m))
            scores = [c for c in (cur["confidence"], m["confidence"]) if c is not None]
            cur["confidence"] = max(scores) if scores else None
            if m["source"] == "manual":
                cur["source"] = "manual"
    return list(united.values())


def merge_segments(ctx, segment_ids: list[int], *, actor: str,
                   expected_versions: dict[int, int] | None = None) -> dict:
    """Merge two or more adjacent segments of one video into the first; members are united, captions joined."""
    ids = list(dict.fromkeys(int(i) for i in segment_ids))
    if len(ids) < 2:
        raise EditError("Merge needs at least two different segments.")
    expected = {int(k): v for k, v in (expected_versions or {}).items()}
    with ctx.db.connection() as conn:
        videos = {store.video_of_segment(conn, i) for i in ids}
        if len(videos) > 1:
            raise EditError(f"Segments {', '.join(map(str, ids))} belong to different videos "
                            f"({', '.join(sorted(videos))}); only segments of one video can be merged.")
        video_id = videos.pop()
        store.lock_video(conn, video_id)
        segs = store.load_segments(conn, ids)
        for s in segs:
            store.check_version(s, expected.get(s["id"]))
        order = [r["id"] for r in conn.execute(
            "SELECT id FROM segments WHERE video_id = %s ORDER BY start_s, id", (video_id,)).fetchall()]
        positions = sorted(order.index(s["id"]) for s in segs)
        if positions[-1] - positions[0] != len(positions) - 1:
            between = [order[p] for p in range(positions[0], positions[-1]) if order[p] not in ids]
            raise EditError(f"Segments {', '.join(map(str, ids))} are not adjacent: segment "
                            f"{', '.join(map(str, between))} lies between them. Merge neighbours only.")
        first, rest = segs[0], segs[1:]
        before = [store.snapshot(s) for s in segs]
        any_edited = any(s["caption_edited"] for s in segs)
        fields = {
            "start_s": min(s["start_s"] for s in segs), "end_s": max(s["end_s"] for s in segs),
            "caption_auto": _join([s["caption_auto"] for s in segs]),
            "caption_edited": _join([s["caption_edited"] or s["caption_auto"] for s in segs]) if any_edited else None,
            "caption_ko": _join([s["caption_ko"] for s in segs]),
            "transcript": _join([s["transcript"] for s in segs]),
            "thumbnail": next((s["thumbnail"] for s in segs if s["thumbnail"]), None),
        }
        united = _unite_members(segs)
        conn.execute("DELETE FROM segments WHERE id = ANY(%s)", ([s["id"] for s in rest],))
        store.update_fields(conn, first["id"], fields)
        store.set_members(conn, first["id"], united)
        store.refresh(conn, [first["id"]], ctx.embedder)
        row = store.load_segments(conn, [first["id"]])[0]
        store.record_history(conn, video_id, "merge", actor, before, [store.snapshot(row)])
        return store.public_segment(row)


def create_segment(ctx, video_id: str, start: float, end: float, *, actor: str, caption: str | None = None,
                   members: list[str] | None = None, caption_ko: str | None = None) -> dict:
    """Create a segment from in/out marks; it must not overlap another segment of the video."""
    start, end = _time(start, "start"), _time(end, "end")
    with ctx.db.connection() as conn:
        video = store.lock_video(conn, video_id)
        store.check_bounds(video, start, end)
        store.check_no_overlap(conn, video_id, start, end)
        wanted = store.resolve_members(conn, list(members or []))
        new_id = store.insert_segment(conn, {"video_id": video_id, "start_s": start, "end_s": end,
                                             "caption_edited": _clean_text(caption),
                                             "caption_ko": _clean_text(caption_ko)})
        store.set_members(conn, new_id, [{"member_id": mid, "confidence": None, "source": "manual"}
                                         for mid, _ in wanted])
        store.refresh(conn, [new_id], ctx.embedder)
        row = store.load_segments(conn, [new_id])[0]
        store.record_history(conn, video_id, "create", actor, [], [store.snapshot(row)])
        return store.public_segment(row)


def delete_segment(ctx, segment_id: int, *, actor: str, expected_version: int | None) -> dict:
    """Delete a segment (its snapshot stays in the history, so a revert brings it back). Returns the history id."""
    with ctx.db.connection() as conn:
        video_id = store.video_of_segment(conn, segment_id)
        store.lock_video(conn, video_id)
        seg = store.load_segments(conn, [segment_id])[0]
        store.check_version(seg, expected_version)
        conn.execute("DELETE FROM segments WHERE id = %s", (segment_id,))
        history_id = store.record_history(conn, video_id, "delete", actor, [store.snapshot(seg)], [])
        return {"deleted": segment_id, "video_id": video_id, "history_id": history_id}

"""Editing operations on segments: update, split, merge, create, delete, and the same over a selection (bulk
member/caption edits, retiming neighbours by one dragged boundary, deleting several); revert lives in edits.history.

Every operation runs in one transaction: it locks the video row (edits of one video run one at a time),
checks the caller's segment versions (a stale one -> VersionConflict, 409), changes the rows, records a
``segment_history`` row with before/after snapshots of every segment touched (members included), and
re-embeds the touched segments (``db.segments.refresh_search_fields``) before it commits. Any invalid input
raises EditError (4xx) and nothing is changed.

Each takes the database (``db.Database``) and, when text changes, the text embedder; each returns segments
in the editor's shape (``core.records.editable_segment``).
"""
from __future__ import annotations

from core.records import EditableSegment, editable_segment
from core.urls import Urls
from db.members import resolve_members
from db.segments import delete_segments, insert_segment, refresh_search_fields, set_members, video_segment_ids
from edits import store
from edits.errors import EditError
from edits.store import EPS, MIN_LENGTH_S

CAPTION_MAX = 2000            # characters of a caption or Korean caption: bounds the embedding work of an edit
TRANSCRIPT_MAX = 5000         # characters of a segment's transcript (what is said in it), likewise
NAME_MAX = 200                # characters of a member name in an edit
MEMBERS_MAX = 50              # members named in one edit
SELECTION_MAX = 500           # segments one operation changes at once (bounds its re-embedding: ~10 s with MiniLM)


def _clean_text(value: str | None, what: str = "caption", limit: int = CAPTION_MAX) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise EditError(f"The {what} is {len(value)} characters long; the limit is {limit}. Shorten it.")
    return value or None


def _names(members: list[str] | None) -> list[str]:
    names = list(members or [])
    if len(names) > MEMBERS_MAX:
        raise EditError(f"{len(names)} members named; the limit is {MEMBERS_MAX} per segment.")
    long = [n for n in names if len(n or "") > NAME_MAX]
    if long:
        raise EditError(f"A member name is {len(long[0])} characters long; the limit is {NAME_MAX}.")
    return names


def _time(value, what: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise EditError(f"{what} must be a number of seconds, got {value!r}.") from None
    if t != t or t in (float("inf"), float("-inf")):
        raise EditError(f"{what} must be a finite number of seconds, got {value!r}.")
    return round(t, 3)


def get_segment(db, segment_id: int, urls: Urls | None = None) -> EditableSegment:
    """One segment (NotFound when it is gone); links relative unless ``urls`` says otherwise."""
    with db.connection() as conn:
        return editable_segment(store.load_segments(conn, [segment_id])[0], urls)


def _changed(conn, ids: list[int], embedder) -> list[dict]:
    """Refresh the search fields of changed segments and read them back (with members)."""
    refresh_search_fields(conn, ids, embedder)
    return store.load_segments(conn, ids)


def update_segment(db, embedder, segment_id: int, *, actor: str, expected_version: int | None,
                   caption: str | None = None, members: list[str] | None = None, caption_ko: str | None = None,
                   start: float | None = None, end: float | None = None,
                   transcript: str | None = None) -> EditableSegment:
    """Edit one segment and return it (editor shape: "version", "members" as names, ...).

    caption: the edited caption (None: unchanged; "": clear the edit, the automatic caption shows again).
    members: the full list of member names (or aliases); added ones are tagged as manual. Unknown -> 400.
    caption_ko: the Korean caption (None: unchanged; "": clear). start/end: new bounds (None: unchanged).
    transcript: what is said in it, corrected (None: unchanged; "": nothing is said).
    """
    with db.connection() as conn:
        video = store.lock_video(conn, store.video_of_segment(conn, segment_id))
        seg = store.load_segments(conn, [segment_id])[0]
        store.check_version(seg, expected_version)
        fields: dict = {}
        if caption is not None and _clean_text(caption) != seg["caption_edited"]:
            fields["caption_edited"] = _clean_text(caption)
        if caption_ko is not None and _clean_text(caption_ko, "Korean caption") != seg["caption_ko"]:
            fields["caption_ko"] = _clean_text(caption_ko, "Korean caption")
        if transcript is not None and _clean_text(transcript, "transcript", TRANSCRIPT_MAX) != seg["transcript"]:
            fields["transcript"] = _clean_text(transcript, "transcript", TRANSCRIPT_MAX)
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
            wanted = resolve_members(conn, _names(members))
            current = {m["member_id"]: m for m in seg["members"]}
            if {mid for mid, _ in wanted} != set(current):
                new_members = [current.get(mid) or {"member_id": mid, "confidence": None, "source": "manual"}
                               for mid, _ in wanted]
        if not fields and new_members is None:
            return editable_segment(seg)
        before = [store.snapshot(seg)]
        store.update_fields(conn, segment_id, fields)
        if new_members is not None:
            set_members(conn, segment_id, new_members)
        after = _changed(conn, [segment_id], embedder)
        operation = "update" if not ({"start_s", "end_s"} & set(fields)) else "retime"
        store.record_history(conn, seg["video_id"], operation, actor, before, [store.snapshot(r) for r in after])
        return editable_segment(after[0])


def split_segment(db, embedder, segment_id: int, at: float, *, actor: str, expected_version: int | None) -> list[dict]:
    """Split a segment at ``at`` seconds into two; both keep captions, transcript and members. Returns both."""
    at = _time(at, "split time")
    with db.connection() as conn:
        store.lock_video(conn, store.video_of_segment(conn, segment_id))
        seg = store.load_segments(conn, [segment_id])[0]
        store.check_version(seg, expected_version)
        if not (seg["start_s"] + MIN_LENGTH_S - EPS <= at <= seg["end_s"] - MIN_LENGTH_S + EPS):
            raise EditError(f"Split time {at:.2f} s is outside segment {segment_id} ({seg['start_s']:.2f}-"
                            f"{seg['end_s']:.2f} s); pick a time inside it, at least {MIN_LENGTH_S} s from "
                            "either end.")
        before = [store.snapshot(seg)]
        store.update_fields(conn, segment_id, {"end_s": at})
        second = insert_segment(conn, {**seg, "start_s": at, "version": 1})
        set_members(conn, second, seg["members"])
        rows = _changed(conn, [segment_id, second], embedder)
        store.record_history(conn, seg["video_id"], "split", actor, before, [store.snapshot(r) for r in rows])
        return [editable_segment(r) for r in rows]


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


def merge_segments(db, embedder, segment_ids: list[int], *, actor: str,
                   expected_versions: dict[int, int] | None = None) -> dict:
    """Merge two or more adjacent segments of one video into the first; members are united, captions joined."""
    ids = list(dict.fromkeys(int(i) for i in segment_ids))
    if len(ids) < 2:
        raise EditError("Merge needs at least two different segments.")
    with db.connection() as conn:
        video, segs = _selection(conn, ids, expected_versions, "Merge")
        video_id = video["id"]
        order = video_segment_ids(conn, video_id)
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
        for key, what, limit in (("caption_edited", "caption", CAPTION_MAX), ("caption_ko", "Korean caption",
                                                                                 CAPTION_MAX),
                                 ("transcript", "transcript", TRANSCRIPT_MAX)):
            if len(fields[key] or "") > limit:      # the editor could not save the merged segment any more
                raise EditError(f"Merged, the {what} would be {len(fields[key])} characters long; the limit is "
                                f"{limit}. Merge fewer segments, or shorten their {what}s first.")
        united = _unite_members(segs)
        delete_segments(conn, [s["id"] for s in rest])
        store.update_fields(conn, first["id"], fields)
        set_members(conn, first["id"], united)
        row = _changed(conn, [first["id"]], embedder)[0]
        store.record_history(conn, video_id, "merge", actor, before, [store.snapshot(row)])
        return editable_segment(row)


def create_segment(db, embedder, video_id: str, start: float, end: float, *, actor: str, caption: str | None = None,
                   members: list[str] | None = None, caption_ko: str | None = None) -> dict:
    """Create a segment from in/out marks; it must not overlap another segment of the video."""
    start, end = _time(start, "start"), _time(end, "end")
    with db.connection() as conn:
        video = store.lock_video(conn, video_id)
        store.check_bounds(video, start, end)
        store.check_no_overlap(conn, video_id, start, end)
        wanted = resolve_members(conn, _names(members))
        new_id = insert_segment(conn, {"video_id": video_id, "start_s": start, "end_s": end,
                                       "caption_edited": _clean_text(caption),
                                       "caption_ko": _clean_text(caption_ko, "Korean caption")})
        set_members(conn, new_id, [{"member_id": mid, "confidence": None, "source": "manual"} for mid, _ in wanted])
        row = _changed(conn, [new_id], embedder)[0]
        store.record_history(conn, video_id, "create", actor, [], [store.snapshot(row)])
        return editable_segment(row)


def delete_segment(db, segment_id: int, *, actor: str, expected_version: int | None) -> dict:
    """Delete a segment (its snapshot stays in the history, so a revert brings it back). Returns the history id."""
    out = delete_selection(db, [segment_id], actor=actor, expected_versions={segment_id: expected_version})
    return {"deleted": segment_id, "video_id": out["video_id"], "history_id": out["history_id"]}


# ---------------------------------------------------------------- a selection of segments
def _selection(conn, segment_ids, expected_versions: dict | None, what: str) -> tuple[dict, list[dict]]:
    """Lock the one video of the selected segments and load them (start order), their versions checked."""
    ids = list(dict.fromkeys(int(i) for i in segment_ids))
    if not ids:
        raise EditError(f"{what}: select at least one segment.")
    if len(ids) > SELECTION_MAX:
        raise EditError(f"{what}: {len(ids)} segments selected; the limit is {SELECTION_MAX} per operation. "
                        "Select fewer and repeat.")
    rows = conn.execute("SELECT DISTINCT video_id FROM segments WHERE id = ANY(%s)", (ids,)).fetchall()
    videos = sorted(r["video_id"] for r in rows)
    if len(videos) > 1:
        raise EditError(f"{what}: the selected segments belong to different videos ({', '.join(videos)}); "
                        "select segments of one video.")
    if not videos:
        store.load_segments(conn, ids)              # NotFound naming the ids
    video = store.lock_video(conn, videos[0])
    segs = store.load_segments(conn, ids)
    expected = {int(k): v for k, v in (expected_versions or {}).items()}
    for s in segs:
        store.check_version(s, expected.get(s["id"]))
    return video, segs


def bulk_edit(db, embedder, segment_ids: list[int], *, actor: str, expected_versions: dict[int, int] | None = None,
              add_members: list[str] | None = None, remove_members: list[str] | None = None,
              caption: str | None = None) -> dict:
    """One change to every selected segment of a video: members added and/or removed, and/or the edited caption set
    ("" clears it). One transaction, one "bulk" history entry (one revert undoes it all). Segments the change would
    leave as they are stay untouched (their versions too). Returns {"segments": changed ones, "history_id"}."""
    with db.connection() as conn:
        adding = resolve_members(conn, _names(add_members))
        removing = resolve_members(conn, _names(remove_members))
        both = {mid for mid, _ in adding} & {mid for mid, _ in removing}
        if both:
            name = next(n for mid, n in adding if mid in both)
            raise EditError(f"{name} is both added and removed; choose one.")
        if not adding and not removing and caption is None:
            raise EditError("Nothing to change: name members to add or remove, or a caption to set.")
        new_caption = _clean_text(caption)
        video, segs = _selection(conn, segment_ids, expected_versions, "Bulk edit")
        gone = {mid for mid, _ in removing}
        before, changed_ids = [], []
        for seg in segs:
            current = {m["member_id"]: m for m in seg["members"]}
            members = [m for mid, m in current.items() if mid not in gone]
            members += [{"member_id": mid, "confidence": None, "source": "manual"}
                        for mid, _ in adding if mid not in current]
            new_members = members if {m["member_id"] for m in members} != set(current) else None
            set_caption = caption is not None and new_caption != seg["caption_edited"]
            if new_members is None and not set_caption:
                continue
            before.append(store.snapshot(seg))
            changed_ids.append(seg["id"])
            store.update_fields(conn, seg["id"], {"caption_edited": new_caption} if set_caption else {})
            if new_members is not None:
                set_members(conn, seg["id"], new_members)
        if not changed_ids:
            return {"segments": [], "history_id": None}
        after = _changed(conn, changed_ids, embedder)
        history_id = store.record_history(conn, video["id"], "bulk", actor, before, [store.snapshot(r) for r in after])
        return {"segments": [editable_segment(r) for r in after], "history_id": history_id}


def retime_segments(db, embedder, changes: list[dict], *, actor: str) -> dict:
    """New bounds for one or more segments of a video at once, e.g. both sides of a boundary dragged on the
    timeline: each change is {"id", "version", "start", "end"}. Checked as a whole (bounds, no overlap with other
    segments or with each other); one "retime" history entry. Returns {"segments", "history_id"}."""
    wanted = {}
    for c in changes:
        sid = int(c["id"])
        wanted[sid] = (_time(c["start"], f"start of segment {sid}"), _time(c["end"], f"end of segment {sid}"))
    with db.connection() as conn:
        video, segs = _selection(conn, list(wanted), {int(c["id"]): c.get("version") for c in changes}, "Retime")
        video_id = video["id"]
        for start, end in wanted.values():
            store.check_bounds(video, start, end)
            store.check_no_overlap(conn, video_id, start, end, list(wanted))
        spans = sorted((start, end, sid) for sid, (start, end) in wanted.items())
        for (_, end_a, a), (start_b, _, b) in zip(spans, spans[1:], strict=False):
            if start_b < end_a - EPS:
                raise EditError(f"Segments {a} and {b} would overlap ({start_b:.2f} s < {end_a:.2f} s).")
        moved = [s for s in segs if abs(wanted[s["id"]][0] - s["start_s"]) > EPS
                 or abs(wanted[s["id"]][1] - s["end_s"]) > EPS]
        if not moved:
            return {"segments": [editable_segment(s) for s in segs], "history_id": None}
        for s in moved:
            store.update_fields(conn, s["id"], {"start_s": wanted[s["id"]][0], "end_s": wanted[s["id"]][1]})
        after = _changed(conn, [s["id"] for s in moved], embedder)
        history_id = store.record_history(conn, video_id, "retime", actor, [store.snapshot(s) for s in moved],
                                          [store.snapshot(r) for r in after])
        return {"segments": [editable_segment(r) for r in after], "history_id": history_id}


def delete_selection(db, segment_ids: list[int], *, actor: str,
                     expected_versions: dict[int, int] | None = None) -> dict:
    """Delete the selected segments of one video as one "delete" history entry (one revert brings them all back).
    Returns {"deleted": ids, "video_id", "history_id"}."""
    with db.connection() as conn:
        video, segs = _selection(conn, segment_ids, expected_versions, "Delete")
        video_id = video["id"]
        delete_segments(conn, [s["id"] for s in segs])
        history_id = store.record_history(conn, video_id, "delete", actor, [store.snapshot(s) for s in segs], [])
        return {"deleted": [s["id"] for s in segs], "video_id": video_id, "history_id": history_id}

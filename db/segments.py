"""Segments: reading them with their members, writing them (indexer, legacy import, edits, tests), and
refreshing what search reads.

Every writer calls ``refresh_search_fields`` in the same transaction as its change, so search sees edited
text the moment the change commits.
"""
from __future__ import annotations

from typing import Iterable

import psycopg

from core.textindex import SegmentText
from db.embeddings import ensure_embedding_model

SEGMENT_COLUMNS = ("id, video_id, start_s, end_s, caption_auto, caption_edited, caption_ko, transcript, "
                   "thumbnail, version, created_at, updated_at")
WRITABLE_COLUMNS = ("video_id", "start_s", "end_s", "caption_auto", "caption_edited", "caption_ko", "transcript",
                    "thumbnail", "version")


def segment_members(conn: psycopg.Connection, segment_ids: Iterable[int]) -> dict[int, list[dict]]:
    ids = list(segment_ids)
    out: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = conn.execute(
        "SELECT sm.segment_id, m.id AS member_id, m.name, sm.confidence, sm.source "
        "FROM segment_members sm JOIN members m ON m.id = sm.member_id "
        "WHERE sm.segment_id = ANY(%s) ORDER BY sm.confidence DESC NULLS LAST, m.name",
        (ids,),
    ).fetchall()
    for r in rows:
        out[r["segment_id"]].append({"member_id": r["member_id"], "name": r["name"],
                                     "confidence": r["confidence"], "source": r["source"]})
    return out


def get_segments(conn: psycopg.Connection, segment_ids: Iterable[int]) -> list[dict]:
    """Segments (dict rows, with ``video_title``) with a ``members`` list each, in start order."""
    ids = list(segment_ids)
    if not ids:
        return []
    columns = ", ".join("s." + c for c in SEGMENT_COLUMNS.split(", "))
    rows = conn.execute(f"SELECT {columns}, v.title AS video_title FROM segments s JOIN videos v ON v.id = s.video_id "
                        "WHERE s.id = ANY(%s) ORDER BY s.video_id, s.start_s", (ids,)).fetchall()
    members = segment_members(conn, [r["id"] for r in rows])
    for r in rows:
        r["members"] = members[r["id"]]
    return rows


def all_segment_ids(conn: psycopg.Connection) -> list[int]:
    return [r["id"] for r in conn.execute("SELECT id FROM segments ORDER BY id").fetchall()]


def video_segment_ids(conn: psycopg.Connection, video_id: str) -> list[int]:
    """The video's segments, in time order."""
    return [r["id"] for r in conn.execute("SELECT id FROM segments WHERE video_id = %s ORDER BY start_s, id",
                                          (video_id,)).fetchall()]


def insert_segment(conn: psycopg.Connection, fields: dict, segment_id: int | None = None) -> int:
    """Insert a segment row from ``fields`` (any of WRITABLE_COLUMNS; version defaults to 1), with the given
    id when restoring one; returns its id. Search fields are filled by ``refresh_search_fields``."""
    values = {c: fields.get(c) for c in WRITABLE_COLUMNS}
    values["version"] = values["version"] or 1
    if segment_id is not None:
        values = {"id": segment_id, **values}
    row = conn.execute(f"INSERT INTO segments ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))}) "
                       "RETURNING id", list(values.values())).fetchone()
    return row["id"]


def add_members(conn: psycopg.Connection, segment_id: int, members: Iterable[dict]) -> None:
    """Tag the segment with ``members`` (dicts: member_id, confidence, source — "manual" when absent);
    a member already on the segment is left as it is."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO segment_members (segment_id, member_id, confidence, source) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (segment_id, member_id) DO NOTHING",
            [(segment_id, m["member_id"], m.get("confidence"), m.get("source") or "manual") for m in members])


def set_members(conn: psycopg.Connection, segment_id: int, members: Iterable[dict]) -> None:
    """Replace the segment's members with ``members`` (as for ``add_members``)."""
    conn.execute("DELETE FROM segment_members WHERE segment_id = %s", (segment_id,))
    add_members(conn, segment_id, members)


def thumbnail_of(conn: psycopg.Connection, segment_id: int) -> str | None:
    row = conn.execute("SELECT thumbnail FROM segments WHERE id = %s", (segment_id,)).fetchone()
    return row["thumbnail"] if row else None


def delete_segments(conn: psycopg.Connection, segment_ids: Iterable[int]) -> None:
    conn.execute("DELETE FROM segments WHERE id = ANY(%s)", (list(segment_ids),))


def segment_text(row: dict) -> SegmentText:
    return SegmentText(
        members=[m["name"] for m in row.get("members", [])],
        caption_auto=row.get("caption_auto"),
        caption_edited=row.get("caption_edited"),
        caption_ko=row.get("caption_ko"),
        transcript=row.get("transcript"),
    )


def refresh_search_fields(conn: psycopg.Connection, segment_ids: Iterable[int], embedder) -> int:
    """Recompute search_text, tsv and embedding of the given segments from their current rows. A segment that
    says nothing (no caption, Korean caption or transcript) gets no embedding: its vector would only say who is
    on screen, and such vectors sit near every query a model cannot read (gibberish, emoji, a language it does
    not know). Member filters and listings still find it."""
    rows = get_segments(conn, segment_ids)
    if not rows:
        return 0
    texts = [segment_text(r) for r in rows]
    said = [i for i, t in enumerate(texts) if t.says_something]
    embedded = embedder.embed([texts[i].embedding_text() for i in said]) if said else []
    # The model runs before the library-wide lock of the model guard is taken: that lock is held only for the
    # writes, so a slow embedding never stalls edits of other videos.
    ensure_embedding_model(conn, embedder.name, embedder.dim)
    vectors: list = [None] * len(texts)
    for i, vec in zip(said, embedded, strict=True):
        vectors[i] = vec
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE segments SET search_text = %s, embedding = %s, tsv = "
            "setweight(to_tsvector('simple', %s), 'A') || setweight(to_tsvector('simple', %s), 'B') || "
            "setweight(to_tsvector('simple', %s), 'C') WHERE id = %s",
            [
                (t.embedding_text(), vec, p["A"], p["B"], p["C"], r["id"])
                for r, t, vec, p in zip(rows, texts, vectors, (t.weighted_tsvector_parts() for t in texts),
                                        strict=True)
            ],
        )
    return len(rows)

"""Members, their aliases and their gallery faces.

Every name and alias is stored in ``member_aliases`` with its ``normalized`` form
(``core.textindex.normalize_alias``), which is what search and the editor match people's words against.
"""
from __future__ import annotations

import numpy as np
import psycopg

from core.errors import InvalidRequest, MvseError
from core.textindex import normalize_alias


def upsert_member(conn: psycopg.Connection, name: str, group: str | None = None, aliases: list[str] = ()) -> int:
    """The member's id (created if new); the name and every alias are stored as alias rows."""
    name = " ".join(name.split())
    if not name:
        raise MvseError("a member needs a non-empty name")
    row = conn.execute(
        "INSERT INTO members (name, group_name) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET "
        "group_name = COALESCE(EXCLUDED.group_name, members.group_name) RETURNING id", (name, group)).fetchone()
    for alias in [name, *aliases]:
        alias = " ".join(alias.split())
        if alias:
            conn.execute("INSERT INTO member_aliases (member_id, alias, normalized) VALUES (%s, %s, %s) "
                         "ON CONFLICT DO NOTHING", (row["id"], alias, normalize_alias(alias)))
    return row["id"]


def add_gallery_face(conn: psycopg.Connection, member_id: int, model: str, embedding: np.ndarray,
                     source: str) -> None:
    conn.execute("INSERT INTO member_faces (member_id, model, embedding, source) VALUES (%s, %s, %s, %s)",
                 (member_id, model, embedding, source))


def gallery_faces(conn: psycopg.Connection, model: str) -> list[dict]:
    """(member_id, embedding) of every gallery face of one face model, in enrolment order."""
    return conn.execute("SELECT member_id, embedding FROM member_faces WHERE model = %s ORDER BY id",
                        (model,)).fetchall()


def list_members(conn: psycopg.Connection) -> list[dict]:
    """Every member with its group and aliases (the name itself left out), by name."""
    rows = conn.execute(
        "SELECT m.id, m.name, m.group_name, coalesce(array_agg(a.alias ORDER BY a.alias) "
        "FILTER (WHERE a.alias IS NOT NULL AND a.alias <> m.name), '{}') AS aliases "
        "FROM members m LEFT JOIN member_aliases a ON a.member_id = m.id GROUP BY m.id ORDER BY m.name").fetchall()
    return [{"id": r["id"], "name": r["name"], "group": r["group_name"], "aliases": list(r["aliases"])} for r in rows]


def alias_table(conn: psycopg.Connection) -> list[dict]:
    """(normalized, id, name) of every alias and every member's own name, by member id."""
    return conn.execute(
        "SELECT a.normalized, m.id, m.name FROM member_aliases a JOIN members m ON m.id = a.member_id "
        "UNION SELECT lower(m.name), m.id, m.name FROM members m ORDER BY 2").fetchall()


def member_by_id_or_name(conn: psycopg.Connection, member_id: int, name: str) -> int | None:
    row = conn.execute("SELECT id FROM members WHERE id = %s", (member_id,)).fetchone() or \
        conn.execute("SELECT id FROM members WHERE name = %s", (name,)).fetchone()
    return row["id"] if row else None


def resolve_members(conn: psycopg.Connection, names: list[str]) -> list[tuple[int, str]]:
    """Member (id, name) for each name or alias, in order, without duplicates; InvalidRequest naming any
    unknown one."""
    out: list[tuple[int, str]] = []
    unknown: list[str] = []
    for raw in names:
        name = (raw or "").strip()
        if not name:
            continue
        row = conn.execute("SELECT id, name FROM members WHERE name = %s", (name,)).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT m.id, m.name FROM member_aliases a JOIN members m ON m.id = a.member_id "
                "WHERE a.normalized = %s ORDER BY m.id LIMIT 1", (normalize_alias(name),)).fetchone()
        if row is None:
            unknown.append(name)
        elif (row["id"], row["name"]) not in out:
            out.append((row["id"], row["name"]))
    if unknown:
        raise InvalidRequest(f"Unknown member {', '.join(repr(u) for u in unknown)}: enrol it first "
                             "(python -m indexer enroll NAME) or pick one of the enrolled members.")
    return out


def delete_gallery_faces(conn: psycopg.Connection, face_ids: list[int]) -> list[dict]:
    """Delete gallery faces; the rows deleted (``id``, ``member_id``, ``crop``: the file to delete after)."""
    return conn.execute("DELETE FROM member_faces WHERE id = ANY(%s) RETURNING id, member_id, crop",
                        (list(face_ids),)).fetchall()

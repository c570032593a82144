"""Members and their face gallery: ``enroll NAME [IMAGE...] [--alias A]...``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg

from core.errors import MvseError
from core.textindex import normalize_alias
from indexer.faces import FaceModel, largest_face


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


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except Exception as err:  # noqa: BLE001
        raise MvseError(f"cannot read the photo {path}: {err}") from err


def face_embeddings(images: list[Path], faces: FaceModel) -> list[tuple[Path, np.ndarray]]:
    """The largest face of each photo; a photo without a face is an error naming it."""
    out = []
    for path in images:
        if not Path(path).is_file():
            raise MvseError(f"photo {path} does not exist")
        face = largest_face(faces.detect(load_rgb(Path(path))))
        if face is None:
            raise MvseError(f"no face found in the photo {path}: use a photo where the face is clearly visible")
        out.append((Path(path), face.embedding))
    return out


def enroll(db, name: str, images: list[Path], aliases: list[str], faces: FaceModel | None,
           group: str | None = None) -> tuple[int, int]:
    """Create/extend the member and add one gallery embedding per photo, all in one transaction."""
    if images and faces is None:
        raise MvseError("enrolling photos needs a face model: set models.faces in the config (it is \"none\")")
    embeddings = face_embeddings(list(images), faces) if images else []
    with db.connection() as conn:
        member_id = upsert_member(conn, name, group, aliases)
        for path, emb in embeddings:
            conn.execute("INSERT INTO member_faces (member_id, model, embedding, source) VALUES (%s, %s, %s, %s)",
                         (member_id, faces.name, emb, str(path.resolve())))
    return member_id, len(embeddings)

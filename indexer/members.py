"""Members and their face gallery: ``enroll NAME [IMAGE...] [--alias A]...``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import MvseError
from db.members import add_gallery_face, upsert_member
from indexer.faces import FaceModel, largest_face


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as img:
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except Exception as err:  # noqa: BLE001 - PIL raises many kinds for a bad photo; one message names it
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
            add_gallery_face(conn, member_id, faces.name, emb, str(path.resolve()))
    return member_id, len(embeddings)

"""Members and their face gallery: ``enroll NAME [IMAGE...] [--alias A]...``.

The rules (largest face per photo, the gallery's quality gate, crops, one transaction) are ``edits.people``'s,
shared with the editor's Members page.
"""
from __future__ import annotations

from pathlib import Path

from edits.people import enroll_photos, load_rgb
from indexer.faces import FaceModel

__all__ = ["enroll", "load_rgb"]


def enroll(db, cfg, name: str, images: list[Path], aliases: list[str], faces: FaceModel | None,
           group: str | None = None) -> tuple[int, int]:
    """Create/extend the member and add one gallery face per photo, all in one transaction; a photo without a
    face, or whose face the quality gate refuses, fails the whole enrolment naming the photo and why."""
    if images and faces is None:
        from core.errors import MvseError

        raise MvseError("enrolling photos needs a face model: set models.faces in the config (it is \"none\")")
    return enroll_photos(db, cfg, name, list(images), aliases, faces, group=group)

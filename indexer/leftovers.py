"""Files that a killed or failed run left in the data folder, removed when the next index run starts.

- ``*.part*``: every file is written to a temporary name beside its target and renamed when complete
  (thumbnails ``<segment_id>.jpg.part``, exported clips ``<name>.<random>.part.mp4`` and moviepy's audio
  track beside it; playable copies ``proxies/<video_id>.mp4.<random>.part``), so one still there after its writer
  died is garbage.
- thumbnails that no segment uses and no history entry would bring back on revert: a run killed after
  writing them and before committing, or a disk that filled up before a rolled-back video's files were removed.

Thumbnails are looked at only while no indexer is writing any (the advisory lock of ``indexer.store``): a
video being written has files that no committed row refers to yet. The app may be exporting a clip at any
time, and another indexer may be making a playable copy, so a clip's or a copy's temporary file is removed only
once nothing has written to it for ``CLIP_PART_GRACE_S``.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from core.files import remove_file
from db.videos import no_thumbnail_writers, referenced_thumbnails

log = logging.getLogger(__name__)
CLIP_PART_GRACE_S = 600.0


@dataclass
class Leftovers:
    temporary: int = 0      # unfinished temporary files removed
    thumbnails: int = 0     # unreferenced thumbnails removed
    skipped: str | None = None

    def __bool__(self) -> bool:
        return bool(self.temporary or self.thumbnails or self.skipped)

    def __str__(self) -> str:
        text = (f"leftovers removed: {self.temporary} unfinished temporary file(s), "
                f"{self.thumbnails} unused thumbnail(s)")
        return text + (f"; thumbnails not checked: {self.skipped}" if self.skipped else "")


def is_temporary(name: str) -> bool:
    return ".part" in name


def remove_leftovers(db, thumbnails: Path, clips: Path, *others: Path) -> Leftovers:
    """``others``: more folders whose stale temporary files go (the playable copies', the timeline media's)."""
    found = Leftovers(temporary=remove_stale_parts(clips) + sum(remove_stale_parts(f) for f in others))
    if thumbnails.is_dir():
        with db.connection() as conn:
            if no_thumbnail_writers(conn):
                for folder in _subfolders(thumbnails):
                    temporary, unused = _clean_video_folder(conn, folder)
                    found.temporary += temporary
                    found.thumbnails += unused
            else:
                found.skipped = "another indexer is writing (the next run checks them)"
    if found:
        log.info("%s", found)
    return found


def remove_stale_parts(folder: Path) -> int:
    """The temporary files directly in ``folder`` that nothing wrote to for ``CLIP_PART_GRACE_S``."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - CLIP_PART_GRACE_S
    removed = 0
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) and is_temporary(entry.name) and entry.stat().st_mtime < cutoff:
            removed += remove_file(Path(entry.path))
    return removed


def _subfolders(root: Path) -> list[Path]:
    return [Path(e.path) for e in os.scandir(root) if e.is_dir(follow_symlinks=False)]


def _clean_video_folder(conn, folder: Path) -> tuple[int, int]:
    """``<thumbnails>/<video_id>/``: remove its temporary files and the JPEGs its video's rows do not name
    (the folder too, once empty). Other files are left alone."""
    keep = {Path(t).name for t in referenced_thumbnails(conn, folder.name)}
    temporary = unused = 0
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False):
            continue
        if is_temporary(entry.name):
            temporary += remove_file(Path(entry.path))
        elif entry.name.endswith(".jpg") and entry.name not in keep:
            unused += remove_file(Path(entry.path))
    try:
        folder.rmdir()
    except OSError:             # not empty: still in use
        pass
    return temporary, unused

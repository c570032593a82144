"""Removing a video from the library: the rule every door calls (``python -m indexer remove``, the web page).

A video is removed with its segments, member tags, face detections and history in one transaction; its thumbnail
files and its playable copy (``data_dir/proxies``) go once that transaction has committed (a rolled-back removal
leaves every file in place). A video people edited (``db.videos.video_edits``: history, manual tags, edited
captions) is refused unless ``force``: the edits would be lost. The video's media file is never touched: it is the
user's, not the library's.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import NotFound
from core.files import remove_file
from db.videos import delete_video, find_video, no_thumbnail_writers, proxy_file, video_edits
from edits import overview
from edits.errors import VideoHasEdits

__all__ = ["RemovedVideo", "VideoHasEdits", "remove_video"]


@dataclass
class RemovedVideo:
    """What ``remove_video`` removed. ``media_file`` is the file the video was indexed from, left in place."""

    video_id: str
    title: str
    media_file: str | None
    segments: int = 0
    tags: int = 0
    faces: int = 0
    history: int = 0
    thumbnails: int = 0                                   # files deleted
    playable_copy: bool = False                           # its copy under data_dir/proxies was deleted
    discarded_edits: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"removed {self.video_id} ({self.title}): {self.segments} segments, {self.tags} member tags, "
                f"{self.faces} face detections, {self.history} history entries, {self.thumbnails} thumbnail files"
                + (", its playable copy" if self.playable_copy else ""))
        if self.discarded_edits:
            text += f"; edits discarded: {', '.join(self.discarded_edits)}"
        if self.media_file:
            text += f"; the media file {self.media_file} is kept"
        return text


def remove_video(db, cfg, video_id: str, force: bool = False) -> RemovedVideo:
    """Remove one video (rows in one transaction, then its thumbnails); never its media file.

    Raises ``NotFound`` (404) for an unknown id and ``VideoHasEdits`` (409) for an edited video unless ``force``;
    in both cases nothing was changed.
    """
    with db.connection() as conn:
        video = find_video(conn, video_id, lock=True)      # waits for an indexer writing this video
        if video is None:
            raise NotFound(f"Video {video_id!r} does not exist. `python -m indexer status` lists the videos "
                           "and their ids.")
        edits = video_edits(conn, video_id)
        if edits and not force:
            raise VideoHasEdits(
                f"Video {video_id!r} ({video['title']}) has edits ({', '.join(edits)}) that removing it would lose; "
                f"nothing was removed. Fix: keep it, or remove it anyway with force "
                f"(`python -m indexer remove {video_id} --force`).", video_id, edits)
        copy = proxy_file(conn, cfg, video_id)             # None unless inside the proxies folder
        deleted = delete_video(conn, video_id)
    removed = RemovedVideo(video_id, video["title"], video["path"], segments=deleted["segments"],
                           tags=deleted["tags"], faces=deleted["faces"], history=deleted["history"],
                           discarded_edits=edits)
    removed.thumbnails = _remove_thumbnails(db, cfg.thumbnails_path, video_id, deleted["thumbnails"])
    removed.playable_copy = copy is not None and _video_gone(db, video_id) and remove_file(copy) == 1
    overview.remove_files(cfg, video_id)                  # the timeline's waveform and filmstrip
    return removed


def _video_gone(db, video_id: str) -> bool:
    """Not indexed again since it was removed (an indexer may have been working on the same file meanwhile)."""
    with db.connection() as conn:
        return find_video(conn, video_id) is None


def _remove_thumbnails(db, root: Path, video_id: str, named: list[str]) -> int:
    """Delete the thumbnails the removed rows named, then what else is in ``<root>/<video_id>/`` (files of killed
    runs) and the folder, if no indexer is writing and the video was not indexed again meanwhile; otherwise the
    next index run's leftovers sweep takes those. Only files under ``root/<video_id>/`` are ever deleted."""
    root = root.resolve()
    folder = (root / video_id).resolve()
    if folder.parent != root:               # an id such as "..", "a/b": no folder of its own
        return 0
    removed = sum(remove_file(Path(p)) for p in named if Path(p).resolve().parent == folder)
    if not folder.is_dir():
        return removed
    with db.connection() as conn:
        if not no_thumbnail_writers(conn) or find_video(conn, video_id) is not None:
            return removed
        for entry in os.scandir(folder):
            if entry.is_file(follow_symlinks=False) and (entry.name.endswith(".jpg") or ".part" in entry.name):
                removed += remove_file(Path(entry.path))
    try:
        folder.rmdir()
    except OSError:                         # something else in it: left alone
        pass
    return removed

"""Refusals of edits. Each is an ``InvalidRequest`` (nothing was changed) carrying its HTTP status."""
from __future__ import annotations

from core.errors import InvalidRequest as EditError
from core.errors import NotFound

__all__ = ["EditError", "NotFound", "VersionConflict", "RevertConflict", "VideoHasEdits"]


class VersionConflict(EditError):
    """The segment changed since the caller read it (optimistic concurrency): reload and edit again."""

    status_code = 409


class RevertConflict(EditError):
    """A revert would overwrite later edits of the same segments."""

    status_code = 409


class VideoHasEdits(EditError):
    """The video was edited and removing it would lose the edits. ``edits`` says what, e.g. ["1 edited caption"]."""

    status_code = 409

    def __init__(self, message: str, video_id: str, edits: list[str]):
        super().__init__(message)
        self.video_id, self.edits = video_id, edits

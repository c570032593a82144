"""Errors of editing operations; each carries the HTTP status the API answers with and a message for people."""
from __future__ import annotations

from core.errors import MvseError


class EditError(MvseError):
    """An edit was refused; nothing was changed. ``status_code`` is 400 unless a subclass says otherwise."""

    status_code = 400

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class NotFound(EditError):
    status_code = 404


class VersionConflict(EditError):
    """The segment changed since the caller read it (optimistic concurrency): reload and edit again."""

    status_code = 409


class RevertConflict(EditError):
    """A revert would overwrite later edits of the same segments."""

    status_code = 409

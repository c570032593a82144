"""Refusals of edits. Each is an ``InvalidRequest`` (nothing was changed) carrying its HTTP status."""
from __future__ import annotations

from core.errors import InvalidRequest as EditError
from core.errors import NotFound

__all__ = ["EditError", "NotFound", "VersionConflict", "RevertConflict"]


class VersionConflict(EditError):
    """The segment changed since the caller read it (optimistic concurrency): reload and edit again."""

    status_code = 409


class RevertConflict(EditError):
    """A revert would overwrite later edits of the same segments."""

    status_code = 409

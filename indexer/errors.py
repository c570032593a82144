"""Errors of the indexer; each message names the file or thing and the fix."""
from core.errors import MvseError


class VideoError(MvseError):
    """One video cannot be indexed (unreadable, no video stream, outside the library); others go on."""


class EditsWouldBeLost(MvseError):
    """Re-indexing would replace segments that people have edited."""

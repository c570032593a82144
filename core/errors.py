"""Errors shared across the packages; each message names the thing and the fix.

Each class carries the HTTP status it means, so the web app maps them in one place (``app.create_app``
registers the handlers): a route raises, it never wraps. The Slack bot shows ``message`` to the user.
"""


def first_line(err: BaseException, limit: int = 200) -> str:
    """An exception in one short line for a message: its type and the first line of what it says."""
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:limit]}"


class MvseError(Exception):
    """Base class for errors meant to be shown to a user as they are. Unexpected on a request: 500."""

    status_code = 500

    def __init__(self, message: str = "", status_code: int | None = None):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class ModelUnavailable(MvseError):
    """A configured model cannot be loaded (absent offline, wrong folder, missing files)."""


class EmbeddingModelMismatch(MvseError):
    """The database holds embeddings of another model or dimension than the configured one."""


class InvalidRequest(MvseError):
    """The request cannot be carried out as asked; nothing was changed."""

    status_code = 400


class NotFound(InvalidRequest):
    """The video, segment or history entry asked for does not exist (any more)."""

    status_code = 404


class Forbidden(InvalidRequest):
    """The thing exists but is not served (e.g. a video file outside the library folder)."""

    status_code = 403
